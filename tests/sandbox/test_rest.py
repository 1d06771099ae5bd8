"""The sandbox's REST API: Twilio's paths, Basic auth, Twilio's JSON and Twilio's errors."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from sandbox.state import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_NUMBERS,
    DEFAULT_SERVICE_SID,
)
from tests.sandbox.conftest import Sandbox, SandboxFactory, wait_until

LOCAL, UNREGISTERED, TOLL_FREE = DEFAULT_NUMBERS
PHONE = "+15005550123"
OTHER_TOKEN = "0" * 32


def assert_twilio_error(response: requests.Response, status: int, code: int) -> dict[str, Any]:
    """An error in Twilio's shape: code, message, more_info and status."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}"
    assert isinstance(body["message"], str)
    assert body["message"]
    return body


def twilio_client(sandbox: Sandbox, token: str = DEFAULT_AUTH_TOKEN) -> Client:
    client = Client(
        sandbox.options.account_sid,
        token,
        environment={"TWILIO_EDGE": "", "TWILIO_REGION": ""},
    )
    client.api.base_url = sandbox.url
    client.messaging.base_url = sandbox.url
    return client


# --- Accounts and authentication -------------------------------------------------------------


def test_it_fetches_the_account_with_basic_auth(sandbox):
    response = sandbox.get(f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}.json")

    assert response.status_code == 200
    account = response.json()
    assert account["sid"] == DEFAULT_ACCOUNT_SID
    assert account["owner_account_sid"] == DEFAULT_ACCOUNT_SID
    assert account["status"] == "active"
    assert account["type"] == "Full"
    assert account["friendly_name"]
    assert account["uri"] == f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}.json"


@pytest.mark.parametrize(
    "auth",
    [
        (DEFAULT_ACCOUNT_SID, OTHER_TOKEN),
        ("AC" + "1" * 32, DEFAULT_AUTH_TOKEN),
        None,
    ],
    ids=["wrong-token", "wrong-sid", "no-auth"],
)
def test_it_refuses_bad_credentials_with_20003(sandbox, auth):
    account = sandbox.get(f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}.json", auth=auth)
    services = sandbox.get("/v1/Services", auth=auth)
    create = sandbox.post(
        f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages.json",
        data={"To": PHONE, "From": LOCAL, "Body": "hi"},
        auth=auth,
    )

    for response in (account, services, create):
        body = assert_twilio_error(response, 401, 20003)
        assert body["message"] == "Authenticate"
    assert sandbox.stats()["messages"] == 0


def test_it_honours_the_configured_account_sid_and_token(sandbox_factory: SandboxFactory):
    sid, token = "AC" + "ab" * 16, "cd" * 16
    sandbox = sandbox_factory(account_sid=sid, auth_token=token)

    ok = sandbox.get(f"/2010-04-01/Accounts/{sid}.json")
    defaults = sandbox.get(
        f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}.json",
        auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN),
    )

    assert ok.status_code == 200
    assert ok.json()["sid"] == sid
    assert_twilio_error(defaults, 401, 20003)


def test_it_answers_404_for_another_accounts_path(sandbox):
    response = sandbox.get(f"/2010-04-01/Accounts/AC{'2' * 32}.json")

    assert_twilio_error(response, 404, 20404)


# --- Incoming numbers ------------------------------------------------------------------------


def test_it_lists_the_accounts_incoming_numbers(sandbox):
    response = sandbox.get(f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/IncomingPhoneNumbers.json")

    assert response.status_code == 200
    page = response.json()
    assert [n["phone_number"] for n in page["incoming_phone_numbers"]] == list(DEFAULT_NUMBERS)
    assert page["next_page_uri"] is None
    for number in page["incoming_phone_numbers"]:
        assert number["sid"].startswith("PN")
        assert len(number["sid"]) == 34
        assert number["capabilities"]["sms"] is True
        assert number["sms_url"] == ""
        assert number["account_sid"] == DEFAULT_ACCOUNT_SID


@pytest.mark.parametrize("phone_number", DEFAULT_NUMBERS)
def test_it_filters_incoming_numbers_by_phone_number(sandbox, phone_number):
    response = sandbox.get(
        f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/IncomingPhoneNumbers.json",
        params={"PhoneNumber": phone_number},
    )

    assert response.status_code == 200
    found = response.json()["incoming_phone_numbers"]
    assert [n["phone_number"] for n in found] == [phone_number]


def test_it_lists_no_number_for_a_number_of_another_account(sandbox):
    response = sandbox.get(
        f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/IncomingPhoneNumbers.json",
        params={"PhoneNumber": "+14155559999"},
    )

    assert response.status_code == 200
    assert response.json()["incoming_phone_numbers"] == []


def test_it_updates_a_numbers_sms_url(sandbox):
    number = sandbox.number(LOCAL)

    response = sandbox.post(
        f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/IncomingPhoneNumbers/{number['sid']}.json",
        data={"SmsUrl": "https://hub.example.com/webhooks/x", "SmsMethod": "POST"},
    )

    assert response.status_code == 200
    assert response.json()["sms_url"] == "https://hub.example.com/webhooks/x"
    assert sandbox.number(LOCAL)["sms_url"] == "https://hub.example.com/webhooks/x"
    assert sandbox.number(LOCAL)["sms_method"] == "POST"
    assert sandbox.number(UNREGISTERED)["sms_url"] == ""


def test_it_answers_404_when_updating_an_unknown_number(sandbox):
    response = sandbox.post(
        f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/IncomingPhoneNumbers/PN{'0' * 32}.json",
        data={"SmsUrl": "https://hub.example.com/webhooks/x"},
    )

    assert_twilio_error(response, 404, 20404)


# --- Messaging services and toll-free verification -------------------------------------------


def test_it_lists_messaging_services_with_their_a2p_registration(sandbox):
    response = sandbox.get("/v1/Services")

    assert response.status_code == 200
    page = response.json()
    assert page["meta"]["key"] == "services"
    assert page["meta"]["next_page_url"] is None
    [service] = page["services"]
    assert service["sid"] == DEFAULT_SERVICE_SID
    assert service["us_app_to_person_registered"] is True
    assert service["account_sid"] == DEFAULT_ACCOUNT_SID


def test_it_fetches_a_messaging_service_and_its_phone_numbers(sandbox):
    service = sandbox.get(f"/v1/Services/{DEFAULT_SERVICE_SID}")
    numbers = sandbox.get(f"/v1/Services/{DEFAULT_SERVICE_SID}/PhoneNumbers")

    assert service.status_code == 200
    assert service.json()["sid"] == DEFAULT_SERVICE_SID
    assert service.json()["us_app_to_person_registered"] is True
    assert numbers.status_code == 200
    # Only the first local number is in the registered campaign: the other local one is not.
    [number] = numbers.json()["phone_numbers"]
    assert number["phone_number"] == LOCAL
    assert number["country_code"] == "US"
    assert number["service_sid"] == DEFAULT_SERVICE_SID
    assert number["sid"] == sandbox.number(LOCAL)["sid"]


def test_it_answers_404_for_an_unknown_messaging_service(sandbox):
    unknown = f"MG{'0' * 32}"

    fetch = sandbox.get(f"/v1/Services/{unknown}")
    numbers = sandbox.get(f"/v1/Services/{unknown}/PhoneNumbers")

    assert_twilio_error(fetch, 404, 20404)
    assert_twilio_error(numbers, 404, 20404)


def test_it_has_no_messaging_service_without_a_local_number(sandbox_factory: SandboxFactory):
    sandbox = sandbox_factory(numbers=(TOLL_FREE,))

    response = sandbox.get("/v1/Services")

    assert response.status_code == 200
    assert response.json()["services"] == []


def test_it_looks_up_the_toll_free_verification_of_a_number(sandbox):
    toll_free_sid = sandbox.number(TOLL_FREE)["sid"]

    found = sandbox.get(
        "/v1/Tollfree/Verifications", params={"TollfreePhoneNumberSid": toll_free_sid}
    )
    local = sandbox.get(
        "/v1/Tollfree/Verifications",
        params={"TollfreePhoneNumberSid": sandbox.number(LOCAL)["sid"]},
    )

    assert found.status_code == 200
    [verification] = found.json()["verifications"]
    assert verification["status"] == "TWILIO_APPROVED"
    assert verification["tollfree_phone_number_sid"] == toll_free_sid
    assert verification["sid"].startswith("HH")
    assert local.status_code == 200
    assert local.json()["verifications"] == []


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


# --- The official client --------------------------------------------------------------------


def test_it_speaks_the_contract_the_twilio_library_expects(sandbox):
    client = twilio_client(sandbox)

    account = client.api.v2010.accounts(DEFAULT_ACCOUNT_SID).fetch()
    [number] = client.incoming_phone_numbers.list(phone_number=LOCAL)
    created = client.messages.create(to=PHONE, from_=LOCAL, body="Via twilio-python")
    fetched = client.messages(created.sid).fetch()
    listed = client.messages.list(
        to=PHONE, date_sent_after=datetime.now(UTC) - timedelta(hours=1), limit=20
    )
    [service] = client.messaging.v1.services.list(limit=20)
    [service_number] = client.messaging.v1.services(service.sid).phone_numbers.list()
    [verification] = client.messaging.v1.tollfree_verifications.list(
        tollfree_phone_number_sid=sandbox.number(TOLL_FREE)["sid"], limit=1
    )

    assert account.sid == DEFAULT_ACCOUNT_SID
    assert account.status == "active"
    assert number.phone_number == LOCAL
    assert number.capabilities["sms"] is True
    assert created.sid.startswith("SM")
    assert created.status == "queued"
    assert created.date_created is not None
    assert fetched.sid == created.sid
    assert fetched.body == "Via twilio-python"
    assert [m.sid for m in listed] == [created.sid]
    assert service.sid == DEFAULT_SERVICE_SID
    assert service.us_app_to_person_registered is True
    assert service_number.phone_number == LOCAL
    assert verification.status == "TWILIO_APPROVED"


def test_it_raises_twilios_errors_through_the_library(sandbox):
    client = twilio_client(sandbox)
    refused = twilio_client(sandbox, token=OTHER_TOKEN)

    with pytest.raises(TwilioRestException) as invalid_to:
        client.messages.create(to="12345", from_=LOCAL, body="hi")
    with pytest.raises(TwilioRestException) as not_ours:
        client.messages.create(to=PHONE, from_="+14155559999", body="hi")
    with pytest.raises(TwilioRestException) as bad_keys:
        refused.api.v2010.accounts(DEFAULT_ACCOUNT_SID).fetch()

    assert (invalid_to.value.status, invalid_to.value.code) == (400, 21211)
    assert (not_ours.value.status, not_ours.value.code) == (400, 21606)
    assert (bad_keys.value.status, bad_keys.value.code) == (401, 20003)


def test_it_lists_messages_filtered_by_sender(sandbox):
    local = sandbox.create_message(To=PHONE, From=LOCAL, Body="from local").json()
    sandbox.create_message(To=PHONE, From=TOLL_FREE, Body="from toll-free")
    path = f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages.json"

    found = sandbox.get(path, params={"To": PHONE, "From": LOCAL}).json()["messages"]

    assert [m["sid"] for m in found] == [local["sid"]]
