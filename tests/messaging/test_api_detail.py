"""``GET /api/v1/messages/<id>/``: one message with its events."""

from __future__ import annotations

import pytest

from messaging.models import MessageEvent
from tests import twilio_mocks as tw
from tests.messaging.api_helpers import (
    EVENT_FIELDS,
    FIELDS,
    MESSAGES,
    PHONE,
    log_entry,
    parse_time,
)
from tests.messaging.helpers import messages_create as mock_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unlimited_slots")]


# --- One message ----------------------------------------------------------------------------


def test_it_shows_a_sent_message_with_its_events(
    personas, connection, contact, rsps, django_capture_on_commit_callbacks
):
    sids = mock_create(rsps)
    with django_capture_on_commit_callbacks(execute=True):
        sent = personas.api("marketer").post(
            MESSAGES, {"contact": str(contact.public_id), "body": "Tracked"}, "json"
        )
    assert sent.status_code == 202, sent.content

    response = personas.api("viewer").get(f"{MESSAGES}{sent.json()['id']}/")

    assert response.status_code == 200, response.content
    data = response.json()
    assert set(data) == FIELDS | {"events"}
    assert data["id"] == sent.json()["id"]
    assert data["sid"] == sids[0]
    assert data["status"] == "queued"
    assert data["from"] == tw.NUMBER
    assert data["to"] == PHONE
    events = data["events"]
    assert all(set(event) == EVENT_FIELDS for event in events)
    assert events[0]["status"] == "pending"
    assert events[-1] == {**events[-1], "status": "queued", "error_code": None}
    assert events[-1]["params"].get("sid") == sids[0]
    times = [parse_time(event["at"]) for event in events]
    assert times == sorted(times)
    stored = MessageEvent.objects.filter(message__public_id=data["id"]).order_by("at", "pk")
    assert [e["status"] for e in events] == [e.status for e in stored]


def test_it_shows_a_failed_message_with_the_error_code_of_its_event(personas, contact):
    message = log_entry(
        personas.org,
        contact=contact,
        status="failed",
        error_code=21610,
        error_message="Attempt to send to unsubscribed recipient",
    )
    MessageEvent.objects.create(message=message, status="pending")
    MessageEvent.objects.create(
        message=message, status="failed", error_code=21610, params={"detail": "unsubscribed"}
    )

    response = personas.api("viewer").get(f"{MESSAGES}{message.public_id}/")

    assert response.status_code == 200, response.content
    data = response.json()
    assert data["error_code"] == 21610
    assert data["error_message"] == "Attempt to send to unsubscribed recipient"
    assert [(e["status"], e["error_code"], e["params"]) for e in data["events"]] == [
        ("pending", None, {}),
        ("failed", 21610, {"detail": "unsubscribed"}),
    ]
