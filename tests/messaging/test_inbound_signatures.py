"""Inbound messages: routed by the organization's key, refused without Twilio's signature."""

from __future__ import annotations

import pytest

from messaging.models import Direction, Message
from tests.connections.helpers import connect
from tests.messaging import webhook_helpers as wh
from tests.messaging.inbound_helpers import (
    assert_empty_twiml,
    nothing_stored,
    opted_out,
)

pytestmark = pytest.mark.django_db


# --- Routing and signatures -------------------------------------------------------------------


def test_it_answers_404_for_an_unknown_inbound_key(client, personas, connection):
    path = wh.inbound_path("not-a-key-of-ours")
    form = wh.inbound_form(body="STOP")

    response = wh.post_signed(client, path, form)

    assert response.status_code == 404
    assert nothing_stored() == {
        "messages": 0,
        "events": 0,
        "contacts": 0,
        "consent_events": 0,
        "consent_states": 0,
    }
    assert wh.last_webhook(connection) == (None, None)


@pytest.mark.parametrize("way", wh.BAD_SIGNATURES)
def test_it_refuses_an_inbound_message_without_a_valid_signature_and_stores_nothing(
    client, personas, connection, way
):
    other = connect(personas, "outsider", auth_token=wh.OTHER_TOKEN)
    path = wh.inbound_path(connection)
    form = wh.inbound_form(body="STOP")
    before = nothing_stored()

    response = wh.post(client, path, form, signature=wh.bad_signature(way, path, form))

    assert response.status_code == 403
    assert nothing_stored() == before
    assert not opted_out(personas)
    at, valid = wh.last_webhook(connection)
    assert at is not None
    assert valid is False
    assert wh.last_webhook(other) == (None, None)


def test_it_signs_the_query_string_as_part_of_the_url(client, personas, connection):
    path = f"{wh.inbound_path(connection)}?retry=1"
    form = wh.inbound_form(body="Hello")

    refused = wh.post(client, path, form, signature=wh.sign(wh.inbound_path(connection), form))
    accepted = wh.post_signed(client, path, form)

    assert refused.status_code == 403
    assert_empty_twiml(accepted)
    assert Message.objects.filter(direction=Direction.INBOUND).count() == 1
