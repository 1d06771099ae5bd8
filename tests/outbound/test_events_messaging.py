"""message.status_changed and message.received: recorded by the path that moves or stores the
message, with the message as the API lists it; none without a subscribed endpoint."""

from __future__ import annotations

import json

import pytest
import responses

from messaging.models import Message, Status
from messaging.services.sending import message_send
from tenants.outbound.models import WebhookDelivery, WebhookEvent
from tenants.outbound.services.delivery import deliveries_drain
from tenants.outbound.services.events import payload_rendered
from tests.connections.helpers import connect
from tests.messaging import inbound_helpers as ih
from tests.messaging import webhook_helpers as wh
from tests.messaging.helpers import messages_create, messages_refuse, send_now, unlimited
from tests.outbound.conftest import URL, make_endpoint

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unlimited_slots")]

SID = "SM" + "6" * 32


def payloads(type: str) -> list[dict]:
    """Each event's payload as it is delivered (the status callback's is stored as a snapshot
    of the row on PostgreSQL, rendered by the first drain)."""
    events = WebhookEvent.objects.filter(type=type).order_by("pk")
    return [payload_rendered(event)[0] for event in events]


def listed(personas, message: Message) -> dict:
    """The message as ``GET /api/v1/messages/`` lists it."""
    results = personas.api("viewer").get("/api/v1/messages/").json()["results"]
    return next(m for m in results if m["id"] == str(message.public_id))


@pytest.fixture
def unlimited_slots(monkeypatch):
    unlimited(monkeypatch)


def test_the_send_task_records_the_status_twilio_answered(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect(personas)
    make_endpoint(personas.org)
    messages_create(rsps, sid=SID)
    message = send_now(django_capture_on_commit_callbacks, personas, to=wh.CUSTOMER, body="Hi")
    assert message.status == Status.QUEUED
    (payload,) = payloads("message.status_changed")
    assert payload["data"] == listed(personas, message)
    assert payload["data"]["status"] == "queued"
    assert payload["data"]["sid"] == SID


def test_a_permanent_failure_is_recorded(personas, rsps, django_capture_on_commit_callbacks):
    connect(personas)
    make_endpoint(personas.org)
    messages_refuse(rsps, 21211, 400, "The 'To' number is not a valid phone number.")
    message = send_now(django_capture_on_commit_callbacks, personas, to=wh.CUSTOMER, body="Hi")
    assert message.status == Status.FAILED
    (payload,) = payloads("message.status_changed")
    assert payload["data"]["status"] == "failed"
    assert payload["data"]["error_code"] == 21211
    assert payload["data"] == listed(personas, message)


def test_status_callbacks_record_each_move_once(personas, client):
    connect(personas)
    make_endpoint(personas.org)
    message = message_send(organization=personas.org, to=wh.CUSTOMER, body="Hi", source="test")
    Message.objects.filter(pk=message.pk).update(status=Status.QUEUED, sid=SID)
    for status in ("sent", "delivered", "delivered", "sent"):
        form = wh.status_form(sid=SID, status=status)
        assert wh.post_signed(client, wh.status_path(message), form).status_code in (200, 204)
    statuses = [p["data"]["status"] for p in payloads("message.status_changed")]
    assert statuses == ["sent", "delivered"]  # a repeat, or a step back, moves nothing
    # As the API lists it (but for updated_at: every callback stamps it, even one that moves
    # nothing).
    last = payloads("message.status_changed")[-1]["data"]
    now = listed(personas, message)
    assert {**last, "updated_at": None} == {**now, "updated_at": None}


def test_the_drain_posts_and_stores_the_callbacks_event_as_the_api_lists_the_message(
    personas, client, rsps
):
    connect(personas)
    make_endpoint(personas.org)
    contactless = message_send(organization=personas.org, to=wh.CUSTOMER, body="Hi", source="test")
    Message.objects.filter(pk=contactless.pk).update(status=Status.QUEUED, sid=SID, contact=None)
    wh.post_signed(client, wh.status_path(contactless), wh.status_form(sid=SID, status="sent"))
    rsps.add(responses.POST, URL, status=204)
    assert deliveries_drain() == 1
    (event,) = WebhookEvent.objects.all()
    posted = json.loads(rsps.calls[0].request.body)
    assert posted == event.payload  # stored as it was posted
    assert posted["data"] == {
        **listed(personas, contactless),
        "updated_at": posted["data"]["updated_at"],
    }
    assert posted["data"]["contact"] is None
    assert WebhookDelivery.objects.get().state == "succeeded"


def test_a_callback_records_nothing_without_a_subscribed_endpoint(personas, client):
    connect(personas)
    make_endpoint(personas.org, event_types=["message.received"])
    message = message_send(organization=personas.org, to=wh.CUSTOMER, body="Hi", source="test")
    Message.objects.filter(pk=message.pk).update(status=Status.QUEUED, sid=SID)
    wh.post_signed(client, wh.status_path(message), wh.status_form(sid=SID, status="delivered"))
    message.refresh_from_db()
    assert message.status == Status.DELIVERED
    assert not WebhookEvent.objects.exists()


def test_an_inbound_message_is_recorded_as_the_api_lists_it(personas, client):
    connection = connect(personas)
    make_endpoint(
        personas.org, event_types=["message.received", "contact.created", "contact.opted_out"]
    )
    ih.receive(client, connection, "Hello there")
    ih.receive(client, connection, "STOP")
    received = payloads("message.received")
    assert [p["data"]["body"] for p in received] == ["Hello there", "STOP"]
    first = Message.objects.filter(direction="inbound").order_by("pk").first()
    assert first is not None
    assert received[0]["data"] == listed(personas, first)
    assert received[0]["data"]["direction"] == "inbound"
    assert received[0]["data"]["status"] == "received"
    # The new number became a contact, and STOP opted it out: both recorded too.
    (created,) = payloads("contact.created")
    assert created["data"]["phone"] == ih.ALICE
    assert created["data"]["id"] == received[0]["data"]["contact"]
    (out,) = payloads("contact.opted_out")
    assert out["data"]["source"] == "inbound_keyword"
    assert out["data"]["contact"]["opted_out"] is True
