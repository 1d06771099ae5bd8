"""The ``inbound_received`` signal: sent once per stored inbound message, after the commit."""

from __future__ import annotations

import pytest

from messaging.models import Direction, Message
from tests.messaging import webhook_helpers as wh
from tests.messaging.helpers import make_contact
from tests.messaging.inbound_helpers import (
    ALICE,
    receive,
)

pytestmark = pytest.mark.django_db


# --- The inbound_received signal ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "is_keyword"),
    [("See you at 5", False), ("STOP", True), ("start", True), ("HELP", True)],
)
def test_it_announces_the_message_once_after_commit(
    client,
    personas,
    connection,
    inbound_events,
    django_capture_on_commit_callbacks,
    body,
    is_keyword,
):
    alice = make_contact(personas, ALICE)

    with django_capture_on_commit_callbacks(execute=True):
        response = receive(client, connection, body)
        assert inbound_events == []  # not before the commit

    assert response.status_code == 200
    message = Message.objects.get(direction=Direction.INBOUND)
    assert inbound_events == [
        {
            "organization_id": personas.org.pk,
            "contact_ids": [alice.pk],
            "source": "inbound",
            "message_id": message.pk,
            "contact_id": alice.pk,
            "body": body,
            "is_keyword": is_keyword,
        }
    ]


def test_it_does_not_announce_a_refused_message(
    client, personas, connection, inbound_events, django_capture_on_commit_callbacks
):
    path = wh.inbound_path(connection)
    form = wh.inbound_form(body="Hello")

    with django_capture_on_commit_callbacks(execute=True):
        response = wh.post(client, path, form, signature=None)

    assert response.status_code == 403
    assert inbound_events == []
