"""The send rule about the connection: no working one suppresses, a failing one still sends."""

from __future__ import annotations

import pytest

from connections.models import ConnectionState
from connections.services.connections import connection_disconnect
from messaging.models import Status, SuppressedReason
from tenants.actor import Actor
from tests.connections.helpers import connect
from tests.messaging.helpers import expected_form, forms, messages_create, send_now
from tests.messaging.send_helpers import (
    ALICE,
    assert_suppressed,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unlimited_slots")]


# --- No working connection ------------------------------------------------------------------


def test_it_suppresses_when_no_connection_exists(
    personas, rsps, django_capture_on_commit_callbacks
):
    message = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="Hi")

    assert_suppressed(message, SuppressedReason.NO_CONNECTION)
    assert message.connection is None
    assert forms(rsps) == []


def test_it_suppresses_when_the_connection_is_disconnected(
    personas, rsps, django_capture_on_commit_callbacks
):
    connection = connect(personas)
    connection_disconnect(
        connection=connection, by=Actor.for_membership(personas.membership("owner"))
    )
    connection.refresh_from_db()
    assert connection.state == ConnectionState.DISCONNECTED

    message = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="Hi")

    assert_suppressed(message, SuppressedReason.NO_CONNECTION)
    assert forms(rsps) == []


def test_it_still_sends_through_a_failing_connection(
    personas, rsps, django_capture_on_commit_callbacks
):
    connection = connect(personas)
    connection.state = ConnectionState.FAILING
    connection.save(update_fields=["state"])
    messages_create(rsps)

    message = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="Hi")

    assert message.status == Status.QUEUED
    assert message.connection_id == connection.pk
    assert forms(rsps) == [expected_form(message, to=ALICE, body="Hi")]
