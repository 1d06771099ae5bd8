"""``/api/v1/connections/twilio/``: disconnecting Twilio (DELETE) and connecting again."""

from __future__ import annotations

import pytest
import responses

from connections.models import Connection, ConnectionState, TwilioCredentials
from tests import twilio_mocks as tw
from tests.connections.helpers import URL, WEBHOOK_PREFIX, connect, number_body, rows

pytestmark = pytest.mark.django_db


# --- Disconnecting --------------------------------------------------------------------------


def test_it_disconnects(personas):
    connection = connect(personas)

    response = personas.api("admin").delete(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(connection.public_id)
    assert body["state"] == "disconnected"
    assert body["account_sid"] is None
    assert body["phone_number"] is None
    assert body["send_rate"] is None
    assert TwilioCredentials.objects.count() == 0
    assert Connection.objects.get(pk=connection.pk).state == ConnectionState.DISCONNECTED

    again = personas.api("admin").get(URL)
    assert again.status_code == 200
    assert again.json()["state"] == "disconnected"
    assert again.json()["account_sid"] is None


def test_it_answers_404_to_delete_when_nothing_is_connected(personas):
    response = personas.api("admin").delete(URL)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert rows() == ([], [])


def test_it_reconnects_after_a_disconnect_with_the_same_webhook_url(personas):
    connection = connect(personas)
    personas.api("admin").delete(URL)

    with responses.RequestsMock() as rsps:
        tw.happy_local_number(rsps)
        response = personas.api("admin").put(URL, number_body(), format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == str(connection.public_id)
    assert body["state"] == "connected"
    assert body["inbound_webhook_url"] == WEBHOOK_PREFIX + connection.inbound_key
    assert Connection.objects.count() == 1
