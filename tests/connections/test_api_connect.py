"""``/api/v1/connections/twilio/``: reading the connection and connecting Twilio (PUT)."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests
import responses

from connections.models import Connection
from tests import twilio_mocks as tw
from tests.connections.helpers import (
    OTHER_TOKEN,
    URL,
    WEBHOOK_PREFIX,
    connect,
    credentials_of,
    number_body,
    rows,
)

pytestmark = pytest.mark.django_db

OTHER_ACCOUNT_SID = "AC" + "1" * 32

ACCOUNT_FETCH = f"GET /2010-04-01/Accounts/{tw.ACCOUNT_SID}.json"
NUMBER_LOOKUP = (
    f"GET /2010-04-01/Accounts/{tw.ACCOUNT_SID}/IncomingPhoneNumbers.json"
    "?PhoneNumber=%2B14155550100&PageSize=1"
)
SERVICES_LIST = "GET /v1/Services?PageSize=50"
SERVICE_NUMBERS = f"GET /v1/Services/{tw.SERVICE_SID}/PhoneNumbers?PageSize=1000"
SERVICE_FETCH = f"GET /v1/Services/{tw.SERVICE_SID}"


# --- Reading --------------------------------------------------------------------------------


def test_it_answers_404_before_anything_is_connected(personas):
    response = personas.api("admin").get(URL)

    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found"
    assert error["message"]


def test_it_shows_the_connection_to_an_admin_key(personas):
    connection = connect(personas)

    response = personas.api("admin").get(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(connection.public_id)
    assert body["state"] == "connected"
    assert body["account_sid"] == tw.ACCOUNT_SID
    assert body["phone_number"] == tw.NUMBER
    assert body["account_type"] == "Full"
    assert body["compliance_state"] == "registered"
    assert body["inbound_webhook_url"] == WEBHOOK_PREFIX + connection.inbound_key
    assert "auth_token" not in body
    assert tw.AUTH_TOKEN not in response.content.decode()


# --- Connecting -----------------------------------------------------------------------------


def test_it_connects_a_local_number_written_with_dots(personas):
    with responses.RequestsMock() as rsps:
        tw.happy_local_number(rsps)
        response = personas.api("admin").put(
            URL, number_body(phone_number="415.555.0100"), format="json"
        )
        made = tw.requests_made(rsps)

    assert response.status_code == 200, response.content
    body = response.json()
    connection = Connection.objects.get(organization=personas.org)
    assert body["state"] == "connected"
    assert body["account_sid"] == tw.ACCOUNT_SID
    assert body["phone_number"] == "+14155550100"
    assert body["messaging_service_sid"] is None
    assert body["sender_type"] == "local"
    assert body["send_rate"] == 1.0
    assert body["warnings"] == []
    assert body["inbound_webhook_url"] == WEBHOOK_PREFIX + connection.inbound_key
    assert body["verified_at"].endswith("Z")
    assert body["last_error"] is None
    assert made == [ACCOUNT_FETCH, NUMBER_LOOKUP, SERVICES_LIST, SERVICE_NUMBERS]
    credentials = credentials_of(personas.org)
    assert credentials.phone_number == "+14155550100"
    assert credentials.auth_token().reveal() == tw.AUTH_TOKEN
    assert credentials.auth_token_encrypted != tw.AUTH_TOKEN


def test_it_connects_a_messaging_service(personas):
    with responses.RequestsMock() as rsps:
        tw.account(rsps)
        tw.messaging_service(rsps)
        tw.service_numbers(rsps)
        response = personas.api("admin").put(
            URL,
            {
                "account_sid": tw.ACCOUNT_SID,
                "auth_token": tw.AUTH_TOKEN,
                "messaging_service_sid": tw.SERVICE_SID,
            },
            format="json",
        )
        made = tw.requests_made(rsps)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "connected"
    assert body["sender_type"] == "messaging_service"
    assert body["messaging_service_sid"] == tw.SERVICE_SID
    assert body["phone_number"] is None
    assert body["send_rate"] == 10.0
    assert made == [ACCOUNT_FETCH, SERVICE_FETCH, SERVICE_NUMBERS]
    assert credentials_of(personas.org).sender_type == "messaging_service"


def test_it_sets_the_send_rate_given_with_the_connection(personas):
    with responses.RequestsMock() as rsps:
        tw.happy_local_number(rsps)
        response = personas.api("admin").put(URL, number_body(send_rate="2.5"), format="json")

    assert response.status_code == 200, response.content
    assert response.json()["send_rate"] == 2.5
    assert credentials_of(personas.org).send_rate == Decimal("2.50")


def test_it_keeps_the_stored_token_when_put_leaves_it_out_for_the_same_account(personas):
    connect(personas)
    before_token = credentials_of(personas.org).auth_token_encrypted

    with responses.RequestsMock() as rsps:
        tw.happy_local_number(rsps)
        body = number_body()
        del body["auth_token"]
        response = personas.api("admin").put(URL, body, format="json")
        made = tw.requests_made(rsps)

    assert response.status_code == 200, response.content
    assert response.json()["state"] == "connected"
    assert made == [ACCOUNT_FETCH, NUMBER_LOOKUP, SERVICES_LIST, SERVICE_NUMBERS]
    credentials = credentials_of(personas.org)
    assert credentials.auth_token().reveal() == tw.AUTH_TOKEN
    assert credentials.auth_token_encrypted == before_token
    assert credentials.auth_token_last4 == tw.AUTH_TOKEN[-4:]


def test_it_keeps_the_stored_token_when_put_sends_an_empty_one_for_the_same_account(personas):
    connect(personas)

    with responses.RequestsMock() as rsps:
        tw.happy_local_number(rsps)
        response = personas.api("admin").put(URL, number_body(auth_token=""), format="json")

    assert response.status_code == 200, response.content
    assert credentials_of(personas.org).auth_token().reveal() == tw.AUTH_TOKEN


def test_it_requires_the_token_when_put_changes_the_account(personas):
    connect(personas)
    before = rows()

    with responses.RequestsMock() as rsps:
        body = number_body(account_sid=OTHER_ACCOUNT_SID)
        del body["auth_token"]
        response = personas.api("admin").put(URL, body, format="json")
        made = tw.requests_made(rsps)

    assert response.status_code == 400, response.content
    assert "auth_token" in response.json()["error"]["fields"]
    assert made == []
    assert rows() == before


def test_it_names_the_phone_number_when_it_is_not_in_the_account(personas):
    with responses.RequestsMock() as rsps:
        tw.account(rsps)
        tw.incoming_number(rsps, found=False)
        response = personas.api("admin").put(URL, number_body(), format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "twilio_number_not_found"
    assert list(error["fields"]) == ["phone_number"]
    assert "+14155550100 is not a number of this Twilio account" in error["message"]
    assert rows() == ([], [])


def test_it_names_the_auth_token_when_twilio_refuses_the_keys(personas):
    with responses.RequestsMock() as rsps:
        tw.account_refused(rsps)
        response = personas.api("admin").put(URL, number_body(), format="json")
        made = tw.requests_made(rsps)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "twilio_authentication_failed"
    assert error["fields"] == {"auth_token": ["Account SID or Auth Token is wrong."]}
    assert made == [ACCOUNT_FETCH]
    assert rows() == ([], [])


def test_it_refuses_a_malformed_account_sid_without_asking_twilio(personas):
    with responses.RequestsMock() as rsps:
        response = personas.api("admin").put(URL, number_body(account_sid="ACxyz"), format="json")
        made = tw.requests_made(rsps)

    assert response.status_code == 400
    assert "account_sid" in response.json()["error"]["fields"]
    assert made == []
    assert rows() == ([], [])


@pytest.mark.parametrize(
    "failure",
    [
        requests.exceptions.ConnectionError("refused"),
        requests.exceptions.ConnectTimeout("timed out"),
    ],
    ids=["connection-error", "connect-timeout"],
)
def test_it_answers_502_when_twilio_is_unreachable(personas, failure):
    with responses.RequestsMock() as rsps:
        rsps.get(tw.ACCOUNT_URL, body=failure)
        response = personas.api("admin").put(URL, number_body(), format="json")
        made = tw.requests_made(rsps)

    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "twilio_unreachable"
    assert "Nothing was saved" in error["message"]
    assert made == [ACCOUNT_FETCH]
    assert rows() == ([], [])


def test_a_failing_reconnect_keeps_the_working_connection(personas):
    connect(personas)
    before = rows()

    with responses.RequestsMock() as rsps:
        tw.account_refused(rsps)
        response = personas.api("admin").put(
            URL, number_body(auth_token=OTHER_TOKEN), format="json"
        )

    assert response.status_code == 400
    assert rows() == before
    credentials = credentials_of(personas.org)
    assert credentials.phone_number == tw.NUMBER
    assert credentials.auth_token().reveal() == tw.AUTH_TOKEN
    assert Connection.objects.get(organization=personas.org).state == "connected"
    after = personas.api("admin").get(URL).json()
    assert after["state"] == "connected"
    assert after["phone_number"] == tw.NUMBER


def test_a_reconnect_with_a_number_not_in_the_account_keeps_the_working_connection(personas):
    connect(personas)
    before = rows()

    with responses.RequestsMock() as rsps:
        tw.account(rsps)
        tw.incoming_number(rsps, "+14155550111", found=False)
        response = personas.api("admin").put(
            URL, number_body(phone_number="+14155550111"), format="json"
        )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["phone_number"]
    assert rows() == before
