"""Submitting to Twilio when consent, the connection or the status changes around the call."""

from __future__ import annotations

import pytest

from connections.models import Connection, ConnectionState
from connections.services.connections import connection_disconnect
from contacts.models import ConsentSource
from contacts.services.consent import consent_opt_out
from messaging.models import Message, Status, SuppressedReason
from tenants.actor import Actor
from tests import twilio_mocks as tw
from tests.connections.helpers import connect
from tests.messaging.helpers import (
    expected_form,
    forms,
    make_contact,
    messages_create,
    send_now,
)
from tests.messaging.send_helpers import (
    ALICE,
    SID,
    created_unsent,
    event_rows,
)

pytestmark = pytest.mark.usefixtures("unlimited_slots")

# --- What changed between create and send ---------------------------------------------------


@pytest.mark.django_db
def test_it_suppresses_when_an_opt_out_arrives_between_create_and_send(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect(personas)
    alice = make_contact(personas, ALICE)
    message, callbacks = created_unsent(
        personas, django_capture_on_commit_callbacks, contact=alice, body="Hi"
    )
    assert message.status == Status.PENDING

    consent_opt_out(organization=personas.org, phone=ALICE, source=ConsentSource.INBOUND_KEYWORD)
    for callback in callbacks:
        callback()

    message.refresh_from_db()
    assert (message.status, message.suppressed_reason) == (
        Status.SUPPRESSED,
        SuppressedReason.OPTED_OUT,
    )
    assert message.sid is None
    assert event_rows(message) == [("pending", None), ("suppressed", None)]
    assert forms(rsps) == []


@pytest.mark.django_db
def test_it_suppresses_when_the_connection_is_disconnected_between_create_and_send(
    personas, rsps, django_capture_on_commit_callbacks
):
    connection = connect(personas)
    message, callbacks = created_unsent(
        personas, django_capture_on_commit_callbacks, to=ALICE, body="Hi"
    )

    connection_disconnect(
        connection=connection, by=Actor.for_membership(personas.membership("owner"))
    )
    for callback in callbacks:
        callback()

    message.refresh_from_db()
    assert (message.status, message.suppressed_reason) == (
        Status.SUPPRESSED,
        SuppressedReason.NO_CONNECTION,
    )
    assert forms(rsps) == []


@pytest.mark.parametrize("later", [Status.SENT, Status.DELIVERED])
@pytest.mark.django_db
def test_it_keeps_a_later_status_a_callback_wrote_during_the_call(
    personas, rsps, django_capture_on_commit_callbacks, later
):
    connect(personas)
    message, callbacks = created_unsent(
        personas, django_capture_on_commit_callbacks, to=ALICE, body="Hi"
    )

    def status_callback_arrives(form: dict[str, list[str]]) -> None:
        assert Message.objects.get(pk=message.pk).status == Status.SUBMITTING
        Message.objects.filter(pk=message.pk).update(status=later)

    messages_create(rsps, sid=SID, status="queued", during=status_callback_arrives)
    for callback in callbacks:
        callback()

    message.refresh_from_db()
    assert message.status == later
    assert message.sid == SID
    assert message.from_number == tw.NUMBER
    assert forms(rsps) == [expected_form(message, to=ALICE, body="Hi")]


@pytest.mark.django_db
def test_it_stores_the_status_twilio_answers_with(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect(personas)
    messages_create(rsps, sid=SID, status="accepted")

    message = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="Hi")

    assert (message.status, message.sid) == (Status.ACCEPTED, SID)
    assert Connection.objects.get(organization=personas.org).state == ConnectionState.CONNECTED
