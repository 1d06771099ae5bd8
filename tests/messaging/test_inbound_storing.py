"""Inbound messages: stored on the contact and organization they belong to, once per SID."""

from __future__ import annotations

import pytest

from contacts.models import ConsentKind, ConsentSource, ConsentState, Contact
from messaging.models import Direction, Message, MessageEvent, Status
from tests.connections.helpers import connect
from tests.messaging import webhook_helpers as wh
from tests.messaging.helpers import make_contact
from tests.messaging.inbound_helpers import (
    ALICE,
    BOB,
    assert_empty_twiml,
    consent_rows,
    is_tagged,
    opted_out,
    receive,
)

pytestmark = pytest.mark.django_db


# --- Storing ----------------------------------------------------------------------------------


def test_it_stores_a_received_message_on_the_contact_with_that_number(client, personas, connection):
    alice = make_contact(personas, ALICE, first_name="Alice")
    sid = wh.new_sid()

    response = receive(client, connection, "Is the shop open on Sunday?", sid=sid)

    assert_empty_twiml(response)
    message = Message.objects.get(direction=Direction.INBOUND)
    assert message.organization == personas.org
    assert message.contact == alice
    assert message.connection == connection
    assert message.status == Status.RECEIVED
    assert message.sid == sid
    assert message.body == "Is the shop open on Sunday?"
    assert message.from_number == ALICE
    assert message.to == "+14155550100"
    assert list(MessageEvent.objects.filter(message=message).values_list("status", flat=True)) == [
        Status.RECEIVED
    ]
    assert Contact.objects.filter(organization=personas.org).count() == 1
    assert consent_rows(personas) == []
    assert wh.last_webhook(connection)[1] is True


def test_it_creates_the_contact_of_a_new_number_and_announces_it(
    client, personas, connection, created_events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = receive(client, connection, "Hi, who is this?", from_=BOB)
        assert created_events == []  # not before the commit

    assert_empty_twiml(response)
    bob = Contact.objects.get(organization=personas.org, phone=BOB)
    assert Message.objects.get(direction=Direction.INBOUND).contact == bob
    assert created_events == [
        {"organization_id": personas.org.pk, "contact_ids": [bob.pk], "source": "inbound"}
    ]


def test_it_stores_a_message_in_the_organization_whose_key_it_was_sent_to(
    client, personas, connection
):
    make_contact(personas, ALICE)
    other = connect(personas, "outsider", auth_token=wh.OTHER_TOKEN)
    form = wh.inbound_form(body="STOP")

    response = wh.post_signed(client, wh.inbound_path(other), form, token=wh.OTHER_TOKEN)

    assert_empty_twiml(response)
    message = Message.objects.get(direction=Direction.INBOUND)
    assert message.organization == personas.other_org
    assert message.connection == other
    assert message.contact is not None
    assert message.contact.organization == personas.other_org
    assert ConsentState.objects.get(phone=ALICE).organization == personas.other_org
    assert not opted_out(personas)
    assert wh.last_webhook(connection) == (None, None)


def test_it_stores_a_repeated_inbound_webhook_once_and_applies_consent_once(
    client, personas, connection, inbound_events, django_capture_on_commit_callbacks
):
    alice = make_contact(personas, ALICE)
    sid = wh.new_sid()

    with django_capture_on_commit_callbacks(execute=True):
        first = receive(client, connection, "STOP", sid=sid)
    with django_capture_on_commit_callbacks(execute=True):
        again = receive(client, connection, "STOP", sid=sid)

    assert_empty_twiml(first)
    assert_empty_twiml(again)
    assert Message.objects.filter(direction=Direction.INBOUND, sid=sid).count() == 1
    assert consent_rows(personas) == [(ConsentKind.OPT_OUT, ConsentSource.INBOUND_KEYWORD, sid)]
    assert opted_out(personas)
    assert is_tagged(alice)
    assert len(inbound_events) == 1
