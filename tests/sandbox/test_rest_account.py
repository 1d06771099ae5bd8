"""The sandbox's account API: Basic auth, incoming numbers, messaging services, toll-free."""

from __future__ import annotations

import pytest

from sandbox.state import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_NUMBERS,
    DEFAULT_SERVICE_SID,
)
from tests.sandbox.conftest import (
    LOCAL,
    OTHER_TOKEN,
    PHONE,
    TOLL_FREE,
    UNREGISTERED,
    SandboxFactory,
    assert_twilio_error,
)

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
