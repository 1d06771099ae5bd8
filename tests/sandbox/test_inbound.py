"""A phone texts one of the sandbox's numbers: a signed inbound post to the number's SMS URL."""

from __future__ import annotations

import html

import pytest
import requests
from twilio.request_validator import RequestValidator

from sandbox.state import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_NUMBERS,
    DEFAULT_SERVICE_SID,
)
from tests.sandbox.conftest import PhoneSink, Sandbox

LOCAL, UNREGISTERED, TOLL_FREE = DEFAULT_NUMBERS
PHONE = "+15005550123"
TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Thanks!</Message></Response>'


def configure(sandbox: Sandbox, number: str, url: str) -> None:
    """Sets the number's SMS URL through the REST API, as the hub's Configure button does."""
    number_sid = sandbox.number(number)["sid"]
    response = sandbox.post(
        f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/IncomingPhoneNumbers/{number_sid}.json",
        data={"SmsUrl": url, "SmsMethod": "POST"},
    )
    assert response.status_code == 200, response.text


def assert_signed(post, token: str = DEFAULT_AUTH_TOKEN) -> None:
    assert RequestValidator(token).validate(post.url, post.params, post.signature) is True
    assert RequestValidator("e" * 32).validate(post.url, post.params, post.signature) is False


def test_it_posts_an_inbound_message_to_the_numbers_sms_url(sandbox, phone_sink: PhoneSink):
    configure(sandbox, LOCAL, f"{phone_sink.url}/webhooks/twilio/inbound/key-123")

    response = sandbox.inbound(**{"from": PHONE, "to": LOCAL, "body": "Hello there"})

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["posted_to"] == f"{phone_sink.url}/webhooks/twilio/inbound/key-123"
    assert answer["status"] == 204
    [post] = phone_sink.received()
    assert post.path == "/webhooks/twilio/inbound/key-123"
    assert post.params == {
        "AccountSid": DEFAULT_ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "Body": "Hello there",
        "From": PHONE,
        "FromCountry": "US",
        "MessageSid": answer["message_sid"],
        "MessagingServiceSid": DEFAULT_SERVICE_SID,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsMessageSid": answer["message_sid"],
        "SmsSid": answer["message_sid"],
        "SmsStatus": "received",
        "To": LOCAL,
        "ToCountry": "US",
    }
    assert post.params["MessageSid"].startswith("SM")
    assert_signed(post)


def test_it_posts_to_the_number_the_phone_texted(sandbox, phone_sink: PhoneSink):
    configure(sandbox, LOCAL, f"{phone_sink.url}/local")
    configure(sandbox, TOLL_FREE, f"{phone_sink.url}/toll-free")

    sandbox.inbound(**{"from": PHONE, "to": TOLL_FREE, "body": "to the toll-free"})

    [post] = phone_sink.received()
    assert post.path == "/toll-free"
    assert post.params["To"] == TOLL_FREE
    # A number outside any Messaging Service posts without one.
    assert "MessagingServiceSid" not in post.params
    assert_signed(post)


def test_it_posts_to_the_url_given_instead_of_the_numbers(sandbox, phone_sink: PhoneSink):
    configure(sandbox, LOCAL, f"{phone_sink.url}/configured")

    response = sandbox.inbound(
        **{"from": PHONE, "to": LOCAL, "body": "override", "url": f"{phone_sink.url}/given?x=1"}
    )

    assert response.status_code == 200
    assert response.json()["posted_to"] == f"{phone_sink.url}/given?x=1"
    [post] = phone_sink.received()
    assert post.path == "/given?x=1"
    assert_signed(post)


def test_it_accepts_a_form_post_from_the_phones_page(sandbox, phone_sink: PhoneSink):
    configure(sandbox, LOCAL, f"{phone_sink.url}/inbound")

    response = requests.post(
        f"{sandbox.url}/sandbox/inbound",
        data={"from": PHONE, "to": LOCAL, "body": "from the page"},
        allow_redirects=False,
        timeout=10,
    )

    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/sandbox/#phone-")
    # The redirect leads back to the phone's thread on the page.
    fragment = location.split("#", 1)[1]
    page = requests.get(f"{sandbox.url}{location.split('#', 1)[0]}", timeout=10).text
    assert f'id="{fragment}"' in page
    [post] = phone_sink.received()
    assert post.params["Body"] == "from the page"
    assert post.params["From"] == PHONE
    assert_signed(post)


def test_it_returns_the_webhooks_twiml_reply(sandbox, phone_sink: PhoneSink):
    phone_sink.status, phone_sink.body, phone_sink.content_type = 200, TWIML, "text/xml"
    configure(sandbox, LOCAL, f"{phone_sink.url}/inbound")

    response = sandbox.inbound(**{"from": PHONE, "to": LOCAL, "body": "hi"})

    assert response.json()["status"] == 200
    assert response.json()["reply"] == TWIML
    stats = sandbox.stats()
    assert stats["inbound"] == {"posted": 1, "answers": {"200": 1}}


@pytest.mark.parametrize(
    ("body", "opt_out_type"),
    [
        ("STOP", "STOP"),
        (" stop ", "STOP"),
        ("unsubscribe", "STOP"),
        ("START", "START"),
        ("help", "HELP"),
    ],
)
def test_it_names_the_opt_out_type_of_a_keyword_when_asked(
    sandbox, phone_sink: PhoneSink, body, opt_out_type
):
    configure(sandbox, LOCAL, f"{phone_sink.url}/inbound")

    sandbox.inbound(**{"from": PHONE, "to": LOCAL, "body": body, "opt_out": True})

    [post] = phone_sink.received()
    assert post.params["OptOutType"] == opt_out_type
    assert post.params["Body"] == body
    assert_signed(post)


def test_it_leaves_out_the_opt_out_type_unless_asked(sandbox, phone_sink: PhoneSink):
    configure(sandbox, LOCAL, f"{phone_sink.url}/inbound")

    sandbox.inbound(**{"from": PHONE, "to": LOCAL, "body": "STOP"})
    sandbox.inbound(**{"from": PHONE, "to": LOCAL, "body": "just words", "opt_out": True})

    stop, words = phone_sink.wait_for(2)
    assert "OptOutType" not in stop.params
    assert "OptOutType" not in words.params


def test_it_opts_a_phone_out_on_stop_and_back_in_on_start(sandbox, phone_sink: PhoneSink):
    configure(sandbox, LOCAL, f"{phone_sink.url}/inbound")
    before = sandbox.create_message(To=PHONE, From=LOCAL, Body="first")

    sandbox.inbound(**{"from": PHONE, "to": LOCAL, "body": "STOP"})
    stopped = sandbox.create_message(To=PHONE, From=LOCAL, Body="second")
    sandbox.inbound(**{"from": PHONE, "to": LOCAL, "body": "START"})
    restarted = sandbox.create_message(To=PHONE, From=LOCAL, Body="third")

    assert before.status_code == 201
    assert stopped.status_code == 400
    assert stopped.json()["code"] == 21610
    assert restarted.status_code == 201


def test_it_refuses_an_inbound_to_a_number_not_in_the_account(sandbox, phone_sink: PhoneSink):
    response = sandbox.inbound(
        **{"from": PHONE, "to": "+14155559999", "body": "hi", "url": f"{phone_sink.url}/x"}
    )

    assert response.status_code == 400
    assert "+14155559999" in response.json()["error"]
    assert phone_sink.received() == []


def test_it_refuses_an_inbound_to_a_number_without_an_sms_url(sandbox, phone_sink: PhoneSink):
    response = sandbox.inbound(**{"from": PHONE, "to": LOCAL, "body": "hi"})

    assert response.status_code == 409
    assert "SMS URL" in response.json()["error"]
    assert phone_sink.received() == []
    assert sandbox.stats()["inbound"]["posted"] == 0


def test_it_shows_each_phones_thread_on_the_phones_page(sandbox, phone_sink: PhoneSink):
    configure(sandbox, LOCAL, f"{phone_sink.url}/inbound")
    sandbox.create_message(To=PHONE, From=LOCAL, Body="Your code is 1234 & <b>bold</b>")
    sandbox.inbound(**{"from": PHONE, "to": LOCAL, "body": "Thanks!"})
    sandbox.create_message(To="+15005550999", From=TOLL_FREE, Body="Another phone")

    response = requests.get(f"{sandbox.url}/sandbox/", timeout=10)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    page = response.text
    assert DEFAULT_ACCOUNT_SID in page
    for number in DEFAULT_NUMBERS:
        assert number in page
    assert "<b>bold</b>" not in page
    assert "Your code is 1234 & <b>bold</b>" in html.unescape(page)
    assert "Thanks!" in page
    assert "Another phone" in page
    assert page.count('action="/sandbox/inbound"') == 2


def test_it_shows_an_empty_phones_page_before_any_message(sandbox):
    response = requests.get(f"{sandbox.url}/sandbox/", timeout=10)

    assert response.status_code == 200
    assert "No messages yet" in response.text


def test_the_phones_page_asks_a_browser_for_no_icon(sandbox):
    """Its own /favicon.ico would be Twilio's API, which answers 401 without credentials."""
    page = requests.get(f"{sandbox.url}/sandbox/", timeout=10).text

    assert '<link rel="icon" href="data:,">' in page
    assert requests.get(f"{sandbox.url}/favicon.ico", timeout=10).status_code == 401
