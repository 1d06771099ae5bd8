"""The Connection Center catalog and connecting Twilio from its form."""

from __future__ import annotations

from decimal import Decimal

import pytest
import responses

from tests import twilio_mocks as tw
from tests.connections.helpers import (
    BAD_KEYS,
    CENTER,
    CONNECT,
    DETAIL,
    FORM,
    WEBHOOK_PREFIX,
    connect,
    connection_of,
    credentials_of,
    rows,
)
from tests.factories import page_text

pytestmark = pytest.mark.django_db

CONNECTED_MESSAGE = "You have successfully connected your Twilio account."


# --- The catalog ----------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["owner", "admin"])
def test_it_offers_admins_to_connect_twilio(personas, persona):
    response = personas.client(persona).get(CENTER)

    assert response.status_code == 200
    text = page_text(response)
    assert "Twilio SMS" in text
    assert "Not connected" in text
    assert "Connect to Twilio" in text
    assert f'href="{CONNECT}"' in text
    assert "An admin of your organization can connect it." not in text


@pytest.mark.parametrize("persona", ["viewer", "marketer"])
def test_it_tells_other_members_that_an_admin_can_connect(personas, persona):
    response = personas.client(persona).get(CENTER)

    assert response.status_code == 200
    text = page_text(response)
    assert "Twilio SMS" in text
    assert "Not connected" in text
    assert "Connect to Twilio" not in text
    assert f'href="{CONNECT}"' not in text
    assert "An admin of your organization can connect it." in text


def test_it_shows_a_connected_twilio_in_the_center(personas):
    connect(personas)

    text = page_text(personas.client("viewer").get(CENTER))

    assert "Connected" in text
    assert "Not connected" not in text
    assert f'href="{DETAIL}"' in text
    assert "warning" not in text


# --- Connecting -----------------------------------------------------------------------------


def test_it_shows_the_connect_form_to_an_admin(personas):
    response = personas.client("admin").get(CONNECT)

    assert response.status_code == 200
    text = page_text(response)
    assert 'name="account_sid"' in text
    assert 'name="auth_token"' in text
    assert 'name="phone_number"' in text
    assert 'name="messaging_service_sid"' in text
    assert "Use the same format shown in the Active numbers of your Twilio account" in text


def test_an_admin_without_a_connection_is_sent_to_the_connect_form(personas):
    response = personas.client("admin").get(DETAIL)

    assert response.status_code == 302
    assert response["Location"] == CONNECT


@pytest.mark.parametrize("persona", ["owner", "admin"])
def test_it_connects_twilio_from_the_form(personas, persona):
    client = personas.client(persona)
    with responses.RequestsMock() as rsps:
        tw.happy_local_number(rsps)
        response = client.post(CONNECT, FORM)

    assert response.status_code == 302
    assert response["Location"] == DETAIL
    connection = connection_of(personas.org)
    assert connection.state == "connected"
    assert connection.verified_at is not None
    credentials = credentials_of(personas.org)
    assert credentials.account_sid == tw.ACCOUNT_SID
    assert credentials.phone_number == "+14155550100"
    assert credentials.phone_number_sid == tw.NUMBER_SID
    assert credentials.sender_type == "local"
    assert credentials.compliance_state == "registered"
    assert credentials.send_rate == Decimal("1.00")
    assert credentials.auth_token_last4 == tw.AUTH_TOKEN[-4:]
    assert credentials.auth_token_encrypted != tw.AUTH_TOKEN
    assert tw.AUTH_TOKEN not in credentials.auth_token_encrypted

    detail = client.get(DETAIL)
    text = page_text(detail)
    assert detail.status_code == 200
    assert CONNECTED_MESSAGE in text
    assert f"{WEBHOOK_PREFIX}{connection.inbound_key}" in text
    assert tw.ACCOUNT_SID in text
    assert f"…{tw.AUTH_TOKEN[-4:]}" in text
    assert "Re-verify" in text
    assert "Disconnect Twilio" in text
    assert "Not registered for A2P 10DLC" not in text


def test_it_refuses_keys_twilio_does_not_accept(personas):
    with responses.RequestsMock() as rsps:
        tw.account_refused(rsps)
        response = personas.client("admin").post(CONNECT, FORM)
        made = tw.requests_made(rsps)

    assert response.status_code == 400
    text = page_text(response)
    assert BAD_KEYS in text
    assert tw.AUTH_TOKEN not in text
    assert made == [f"GET /2010-04-01/Accounts/{tw.ACCOUNT_SID}.json"]
    assert rows() == ([], [])


def test_it_refuses_a_malformed_account_sid_without_asking_twilio(personas):
    with responses.RequestsMock() as rsps:
        response = personas.client("admin").post(CONNECT, {**FORM, "account_sid": "ACxyz"})
        made = tw.requests_made(rsps)

    assert response.status_code == 400
    text = page_text(response)
    assert "An Account SID is AC followed by 32 letters and digits" in text
    assert tw.AUTH_TOKEN not in text
    assert 'value="ACxyz"' in text
    assert made == []
    assert rows() == ([], [])


def test_it_refuses_a_number_that_is_not_in_the_account(personas):
    with responses.RequestsMock() as rsps:
        tw.account(rsps)
        tw.incoming_number(rsps, found=False)
        response = personas.client("admin").post(CONNECT, FORM)

    assert response.status_code == 400
    text = page_text(response)
    assert "+14155550100 is not a number of this Twilio account" in text
    assert tw.AUTH_TOKEN not in text
    assert rows() == ([], [])


def test_it_keeps_the_stored_token_when_the_form_leaves_it_empty(personas):
    connect(personas)
    client = personas.client("admin")
    form = page_text(client.get(CONNECT))
    assert f'value="{tw.ACCOUNT_SID}"' in form
    assert f"Stored token ends in <code>…{tw.AUTH_TOKEN[-4:]}</code>" in form
    assert tw.AUTH_TOKEN not in form

    with responses.RequestsMock() as rsps:
        tw.happy_local_number(rsps)
        response = client.post(CONNECT, {**FORM, "auth_token": ""})

    assert response.status_code == 302
    assert credentials_of(personas.org).auth_token().reveal() == tw.AUTH_TOKEN


def test_it_asks_for_the_token_when_the_account_changes(personas):
    connect(personas)
    before = rows()

    with responses.RequestsMock() as rsps:
        response = personas.client("admin").post(
            CONNECT, {**FORM, "account_sid": "AC" + "1" * 32, "auth_token": ""}
        )
        made = tw.requests_made(rsps)

    assert response.status_code == 400
    assert "Enter the Auth Token" in page_text(response)
    assert made == []
    assert rows() == before


def test_it_warns_about_a_number_not_registered_for_10dlc(personas):
    client = personas.client("admin")
    with responses.RequestsMock() as rsps:
        tw.happy_local_number(rsps, registered=False)
        response = client.post(CONNECT, FORM)

    assert response.status_code == 302
    assert credentials_of(personas.org).compliance_state == "unregistered"
    detail = page_text(client.get(DETAIL))
    assert "Not registered for A2P 10DLC" in detail
    assert 'data-warning="a2p_10dlc_unregistered"' in detail
    center = page_text(client.get(CENTER))
    assert "1 warning" in center
    assert "1 warnings" not in center
