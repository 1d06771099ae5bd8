"""The sandbox's Messages API: creating, fetching, listing, Twilio's validation, misbehaviour."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from sandbox.state import DEFAULT_ACCOUNT_SID
from tests.sandbox.conftest import (
    LOCAL,
    PHONE,
    TOLL_FREE,
    SandboxFactory,
    assert_twilio_error,
    wait_until,
)

# --- Messages ----------------------------------------------------------------------------------


def test_it_creates_a_message_like_twilio(sandbox):
    response = sandbox.create_message(To=PHONE, From=LOCAL, Body="Hello from the sandbox")

    assert response.status_code == 201, response.text
    message = response.json()
    assert message["sid"].startswith("SM")
    assert len(message["sid"]) == 34
    assert message["status"] == "queued"
    assert message["to"] == PHONE
    assert message["from"] == LOCAL
    assert message["body"] == "Hello from the sandbox"
    assert message["direction"] == "outbound-api"
    assert message["account_sid"] == DEFAULT_ACCOUNT_SID
    assert message["num_segments"] == "1"
    assert message["error_code"] is None
    assert message["date_created"].endswith("+0000")


def test_it_fetches_a_created_message_once_delivered(sandbox):
    created = sandbox.create_message(To=PHONE, From=LOCAL, Body="Fetch me").json()

    fetched = wait_until(
        lambda: (m := sandbox.fetch_message(created["sid"]))["status"] == "delivered" and m,
        what="the message to be delivered",
    )

    assert fetched["sid"] == created["sid"]
    assert fetched["body"] == "Fetch me"
    assert fetched["date_sent"] is not None
    assert fetched["error_code"] is None


def test_it_answers_404_for_an_unknown_message(sandbox):
    response = sandbox.get(f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages/SM{'0' * 32}.json")

    assert_twilio_error(response, 404, 20404)


def test_it_counts_segments_like_twilio(sandbox):
    long_gsm = sandbox.create_message(To=PHONE, From=LOCAL, Body="a" * 161).json()
    unicode = sandbox.create_message(To=PHONE, From=LOCAL, Body="é" * 10 + "😀" * 40).json()

    assert long_gsm["num_segments"] == "2"
    assert unicode["num_segments"] == "2"


def test_it_lists_messages_filtered_by_recipient_and_date_sent(sandbox):
    first = sandbox.create_message(To=PHONE, From=LOCAL, Body="one").json()
    second = sandbox.create_message(To=PHONE, From=LOCAL, Body="two").json()
    other = sandbox.create_message(To="+15005550999", From=LOCAL, Body="other").json()
    path = f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages.json"
    hour_ago = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    in_an_hour = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    to_phone = sandbox.get(path, params={"To": PHONE})
    recent = sandbox.get(path, params={"To": PHONE, "DateSent>": hour_ago})
    future = sandbox.get(path, params={"DateSent>": in_an_hour})
    everything = sandbox.get(path)

    assert to_phone.status_code == 200
    assert {m["sid"] for m in to_phone.json()["messages"]} == {first["sid"], second["sid"]}
    assert {m["sid"] for m in recent.json()["messages"]} == {first["sid"], second["sid"]}
    assert future.json()["messages"] == []
    assert {m["sid"] for m in everything.json()["messages"]} == {
        first["sid"],
        second["sid"],
        other["sid"],
    }
    assert everything.json()["next_page_uri"] is None


def test_it_lists_messages_filtered_by_sender(sandbox):
    local = sandbox.create_message(To=PHONE, From=LOCAL, Body="from local").json()
    sandbox.create_message(To=PHONE, From=TOLL_FREE, Body="from toll-free")
    path = f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages.json"

    found = sandbox.get(path, params={"To": PHONE, "From": LOCAL}).json()["messages"]

    assert [m["sid"] for m in found] == [local["sid"]]


# --- Validation, in Twilio's order -------------------------------------------------------------


@pytest.mark.parametrize("to", ["4155550123", "+0155550123", "", "+1 415 555 0123", "+1415"])
def test_it_refuses_a_recipient_not_in_e164_with_21211(sandbox, to):
    response = sandbox.create_message(To=to, From=LOCAL, Body="hi")

    body = assert_twilio_error(response, 400, 21211)
    assert "To" in body["message"]
    assert sandbox.stats()["messages"] == 0


def test_it_refuses_a_message_without_body_or_media_with_21602(sandbox):
    response = sandbox.create_message(To=PHONE, From=LOCAL, Body="")
    no_body_at_all = sandbox.create_message(To=PHONE, From=LOCAL)

    assert_twilio_error(response, 400, 21602)
    assert_twilio_error(no_body_at_all, 400, 21602)
    assert sandbox.stats()["messages"] == 0


def test_it_accepts_media_without_a_body(sandbox):
    response = sandbox.create_message(To=PHONE, From=LOCAL, MediaUrl="https://example.com/cat.jpg")

    assert response.status_code == 201, response.text
    assert response.json()["num_media"] == "1"


@pytest.mark.parametrize("sender", ["+14155559999", "", "+1415555"])
def test_it_refuses_a_sender_that_is_not_a_number_of_the_account_with_21606(sandbox, sender):
    response = sandbox.create_message(To=PHONE, From=sender, Body="hi")

    body = assert_twilio_error(response, 400, 21606)
    assert "From" in body["message"]
    assert sandbox.stats()["messages"] == 0


def test_it_refuses_a_recipient_who_texted_stop_to_that_sender_with_21610(sandbox, phone_sink):
    sandbox.inbound(**{"from": PHONE, "to": LOCAL, "body": "STOP", "url": phone_sink.url})

    refused = sandbox.create_message(To=PHONE, From=LOCAL, Body="hi again")
    other_sender = sandbox.create_message(To=PHONE, From=TOLL_FREE, Body="hi from elsewhere")
    other_recipient = sandbox.create_message(To="+15005550999", From=LOCAL, Body="hi")

    assert_twilio_error(refused, 400, 21610)
    assert other_sender.status_code == 201
    assert other_recipient.status_code == 201


# --- Configured misbehaviour -----------------------------------------------------------------


def test_it_answers_429_without_creating_when_rate_limited(
    sandbox_factory: SandboxFactory, phone_sink
):
    sandbox = sandbox_factory(http_429_rate=1.0)

    response = sandbox.create_message(
        To=PHONE, From=LOCAL, Body="hi", StatusCallback=f"{phone_sink.url}/status"
    )

    assert_twilio_error(response, 429, 20429)
    listed = sandbox.get(f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages.json")
    assert listed.json()["messages"] == []
    assert sandbox.stats()["creates"] == {}


def test_it_answers_500_after_creating_when_asked_to_lose_answers(
    sandbox_factory: SandboxFactory, phone_sink
):
    sandbox = sandbox_factory(http_500_rate=1.0)

    response = sandbox.create_message(
        To=PHONE, From=LOCAL, Body="lost answer", StatusCallback=f"{phone_sink.url}/status"
    )

    assert_twilio_error(response, 500, 20500)
    # The message exists and goes out anyway: the caller must look before sending again.
    listed = sandbox.get(
        f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages.json", params={"To": PHONE}
    )
    [message] = listed.json()["messages"]
    assert message["body"] == "lost answer"
    callbacks = phone_sink.wait_for(3, "/status")
    assert [c.params["MessageStatus"] for c in callbacks] == ["queued", "sent", "delivered"]


def test_it_delays_each_create_by_the_configured_latency(sandbox_factory: SandboxFactory):
    sandbox = sandbox_factory(latency_ms=300)

    started = time.monotonic()
    response = sandbox.create_message(To=PHONE, From=LOCAL, Body="slow")
    elapsed = time.monotonic() - started

    assert response.status_code == 201
    assert elapsed >= 0.3
