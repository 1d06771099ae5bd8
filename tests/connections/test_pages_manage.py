"""Looking after a connected Twilio: re-verify, configure the number, rotate, rate, disconnect."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs

import pytest
import responses

from connections.models import Connection, TwilioCredentials
from tests import twilio_mocks as tw
from tests.connections.helpers import (
    BAD_KEYS,
    CENTER,
    CONFIGURE,
    CONNECT,
    DETAIL,
    DISCONNECT,
    FORM,
    ROTATE,
    SEND_RATE,
    VERIFY,
    WEBHOOK_PREFIX,
    connect,
    connection_of,
    credentials_of,
    rows,
)
from tests.factories import page_text

pytestmark = pytest.mark.django_db

NUMBER_UPDATE_URL = f"{tw.API}/Accounts/{tw.ACCOUNT_SID}/IncomingPhoneNumbers/{tw.NUMBER_SID}.json"


def follow(client, response) -> str:
    """The text of the page a redirect leads to."""
    assert response.status_code == 302, response.content
    return page_text(client.get(response["Location"]))


# --- Looking after it -----------------------------------------------------------------------


def test_re_verify_marks_a_refused_account_failing_and_then_connected_again(personas):
    connect(personas)
    client = personas.client("admin")

    with responses.RequestsMock() as rsps:
        tw.account_refused(rsps)
        response = client.post(VERIFY)

    assert response.status_code == 302
    assert response["Location"] == DETAIL
    connection = connection_of(personas.org)
    assert connection.state == "failing"
    assert BAD_KEYS in connection.last_error
    text = page_text(client.get(DETAIL))
    assert 'data-warning="connection_failing"' in text
    assert f"Twilio refused the last request: {BAD_KEYS}" in text
    assert "Failing" in text
    assert credentials_of(personas.org).auth_token().reveal() == tw.AUTH_TOKEN

    with responses.RequestsMock() as rsps:
        tw.happy_local_number(rsps)
        response = client.post(VERIFY)

    connection.refresh_from_db()
    assert connection.state == "connected"
    assert connection.last_error == ""
    text = follow(client, response)
    assert "Twilio confirmed the account and the sender." in text
    assert 'data-warning="connection_failing"' not in text


def test_it_configures_the_number_to_send_replies_here(personas):
    connection = connect(personas)
    entry = tw.load("incoming_phone_numbers")["incoming_phone_numbers"][0]
    client = personas.client("admin")

    with responses.RequestsMock() as rsps:
        rsps.post(NUMBER_UPDATE_URL, json=entry)
        response = client.post(CONFIGURE)
        made = tw.requests_made(rsps)
        body = rsps.calls[0].request.body

    webhook_url = f"{WEBHOOK_PREFIX}{connection.inbound_key}"
    assert made == [
        f"POST /2010-04-01/Accounts/{tw.ACCOUNT_SID}/IncomingPhoneNumbers/{tw.NUMBER_SID}.json"
    ]
    text_body = body.decode() if isinstance(body, bytes) else str(body)
    assert parse_qs(text_body) == {"SmsUrl": [webhook_url], "SmsMethod": ["POST"]}
    text = follow(client, response)
    assert f"Replies to your number now come to SMS Hub ({webhook_url})." in text


def test_it_rotates_the_inbound_webhook_url(personas):
    connection = connect(personas)
    old_url = f"{WEBHOOK_PREFIX}{connection.inbound_key}"
    client = personas.client("admin")

    confirm = client.get(ROTATE)
    assert confirm.status_code == 200
    assert "Rotate the inbound webhook URL?" in page_text(confirm)
    assert connection_of(personas.org).inbound_key == connection.inbound_key

    response = client.post(ROTATE)

    new_key = connection_of(personas.org).inbound_key
    assert new_key != connection.inbound_key
    text = follow(client, response)
    assert old_url not in text
    assert f"{WEBHOOK_PREFIX}{new_key}" in text
    assert "The inbound webhook URL changed." in text


def test_it_disconnects_and_reconnects_with_the_same_row_and_url(personas):
    connection = connect(personas)
    client = personas.client("admin")

    confirm = client.get(DISCONNECT)
    assert confirm.status_code == 200
    assert "Disconnect Twilio?" in page_text(confirm)
    assert connection_of(personas.org).state == "connected"

    response = client.post(DISCONNECT)

    assert response.status_code == 302
    assert response["Location"] == DETAIL
    kept = connection_of(personas.org)
    assert kept.pk == connection.pk
    assert kept.state == "disconnected"
    assert TwilioCredentials.objects.count() == 0
    text = follow(client, response)
    assert "Twilio is disconnected and its credentials are erased." in text
    assert "Re-verify" not in text
    assert "Disconnect Twilio" not in text
    assert "Reconnect" in page_text(client.get(CENTER))

    with responses.RequestsMock() as rsps:
        tw.happy_local_number(rsps)
        response = client.post(CONNECT, FORM)

    assert response.status_code == 302
    again = connection_of(personas.org)
    assert Connection.objects.count() == 1
    assert again.pk == connection.pk
    assert again.state == "connected"
    assert again.inbound_key == connection.inbound_key
    assert credentials_of(personas.org).phone_number == tw.NUMBER
    assert f"{WEBHOOK_PREFIX}{connection.inbound_key}" in page_text(client.get(DETAIL))


def test_it_saves_a_send_rate(personas):
    connect(personas)
    client = personas.client("admin")

    response = client.post(SEND_RATE, {"send_rate": "2.5"})

    assert credentials_of(personas.org).send_rate == Decimal("2.50")
    text = follow(client, response)
    assert "Send rate set to 2.5 segments per second." in text
    assert "2.5 segments per second" in text


@pytest.mark.parametrize("rate", ["0", "", "fast"])
def test_it_refuses_a_send_rate_that_is_not_positive(personas, rate):
    connect(personas)
    before = rows()
    client = personas.client("admin")

    response = client.post(SEND_RATE, {"send_rate": rate})

    assert rows() == before
    text = follow(client, response)
    assert 'class="flash-item flash-error"' in text
    assert "Send rate set" not in text


def test_it_names_the_lowest_send_rate(personas):
    connect(personas)
    client = personas.client("admin")

    response = client.post(SEND_RATE, {"send_rate": "0"})

    assert "greater than or equal to 0.1" in follow(client, response)
    assert credentials_of(personas.org).send_rate == Decimal("1.00")
