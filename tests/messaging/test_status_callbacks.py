"""Twilio's status callbacks (docs/architecture.md, a message's life, step 4): verified,
recorded once, forward only."""

from __future__ import annotations

import datetime
import itertools
from typing import Any

import pytest
from django.utils import timezone
from twilio.request_validator import RequestValidator

from connections.models import Connection
from messaging.models import Message, MessageEvent, Status
from messaging.services.sending import message_send
from messaging.services.webhooks import signature_valid
from messaging.statuses import explain
from tests import twilio_mocks as tw
from tests.connections.helpers import connect, rows
from tests.messaging import webhook_helpers as wh

pytestmark = pytest.mark.django_db

SID = "SM" + "7" * 32
BODY = "Your order has shipped."


def outbound(personas, *, status: str = Status.QUEUED, sid: str | None = SID) -> Message:
    """An outbound message as the send task leaves it: handed to Twilio, SID stored (or not)."""
    message = message_send(organization=personas.org, to=wh.CUSTOMER, body=BODY, source="test")
    assert message.status == Status.PENDING
    Message.objects.filter(pk=message.pk).update(
        status=status, sid=sid, submitted_at=timezone.now()
    )
    message.refresh_from_db()
    return message


def callback(
    client, message: Message, status: str, *, sid: str = SID, error_code: int | None = None
) -> Any:
    form = wh.status_form(sid=sid, status=status, error_code=error_code)
    return wh.post_signed(client, wh.status_path(message), form)


def callback_events(message: Message) -> list[tuple[str, int | None]]:
    """Twilio's callbacks recorded for the message, in order: (status, error code)."""
    return list(
        MessageEvent.objects.filter(message=message, callback_key__isnull=False)
        .order_by("at", "pk")
        .values_list("status", "error_code")
    )


def stored(message: Message) -> dict[str, Any]:
    return dict(Message.objects.filter(pk=message.pk).values().get())


# --- Forward only ---------------------------------------------------------------------------


@pytest.mark.parametrize("order", list(itertools.permutations(["queued", "sent", "delivered"])))
def test_it_ends_delivered_whatever_the_order_of_queued_sent_and_delivered(
    client, personas, connection, order
):
    message = outbound(personas, status=Status.QUEUED)
    rank = ["queued", "sent", "delivered"]
    furthest = 0

    for status in order:
        response = callback(client, message, status)

        assert response.status_code == 204
        furthest = max(furthest, rank.index(status))
        message.refresh_from_db()
        assert message.status == rank[furthest]

    assert message.status == Status.DELIVERED
    assert message.sid == SID
    assert message.error_code is None
    assert callback_events(message) == [(status, None) for status in order]


@pytest.mark.parametrize(
    ("status", "error_code"), [("delivered", None), ("undelivered", 30007), ("sent", None)]
)
def test_it_records_a_repeated_callback_once(client, personas, connection, status, error_code):
    message = outbound(personas, status=Status.QUEUED)

    first = callback(client, message, status, error_code=error_code)
    again = callback(client, message, status, error_code=error_code)

    assert (first.status_code, again.status_code) == (204, 204)
    events = MessageEvent.objects.filter(message=message, callback_key__isnull=False)
    assert events.count() == 1
    event = events.get()
    assert (event.status, event.error_code) == (status, error_code)
    assert event.callback_key
    assert SID in event.callback_key
    message.refresh_from_db()
    assert message.status == status


def test_it_keeps_delivered_when_undelivered_comes_after_it_but_keeps_the_event(
    client, personas, connection
):
    message = outbound(personas)
    callback(client, message, "delivered")

    response = callback(client, message, "undelivered", error_code=30003)

    assert response.status_code == 204
    message.refresh_from_db()
    assert message.status == Status.DELIVERED
    assert (message.error_code, message.error_message) == (None, "")
    assert callback_events(message) == [("delivered", None), ("undelivered", 30003)]


def test_it_keeps_failed_when_delivered_comes_after_it(client, personas, connection):
    message = outbound(personas)
    callback(client, message, "failed", error_code=30008)

    response = callback(client, message, "delivered")

    assert response.status_code == 204
    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert message.error_code == 30008
    assert message.error_message == explain(30008)
    assert callback_events(message) == [("failed", 30008), ("delivered", None)]


def test_it_moves_delivered_to_read(client, personas, connection):
    message = outbound(personas)
    callback(client, message, "delivered")

    response = callback(client, message, "read")

    assert response.status_code == 204
    message.refresh_from_db()
    assert message.status == Status.READ
    assert callback_events(message) == [("delivered", None), ("read", None)]


@pytest.mark.parametrize(("final", "error_code"), [("undelivered", 30003), ("failed", 30008)])
def test_it_does_not_move_an_undelivered_or_failed_message_to_read(
    client, personas, connection, final, error_code
):
    message = outbound(personas)
    callback(client, message, final, error_code=error_code)

    response = callback(client, message, "read")

    assert response.status_code == 204
    message.refresh_from_db()
    assert message.status == final
    assert message.error_code == error_code
    assert callback_events(message) == [(final, error_code), ("read", None)]


def test_it_stores_the_sid_of_a_callback_that_arrives_before_the_send_task_stored_it(
    client, personas, connection
):
    message = outbound(personas, status=Status.SUBMITTING, sid=None)
    assert message.sid is None

    response = callback(client, message, "sent", sid=SID)

    assert response.status_code == 204
    message.refresh_from_db()
    assert message.sid == SID
    assert message.status == Status.SENT
    assert callback_events(message) == [("sent", None)]


@pytest.mark.parametrize(
    ("status", "code", "words"),
    [
        ("undelivered", 30007, "filtered"),
        ("undelivered", 30034, "10DLC"),
        ("failed", 30034, "10DLC"),
    ],
)
def test_it_stores_a_delivery_error_with_its_explanation(
    client, personas, connection, status, code, words
):
    message = outbound(personas)

    response = callback(client, message, status, error_code=code)

    assert response.status_code == 204
    message.refresh_from_db()
    assert message.status == status
    assert message.error_code == code
    assert message.error_message == explain(code)
    assert words in message.error_message
    assert callback_events(message) == [(status, code)]


# --- Unknown messages -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message_id", ["5f0c3a1e-8d2b-4c7a-9e61-0b4d2f8a7c35", "not-a-uuid", "12345"]
)
def test_it_answers_204_for_an_unknown_message_and_stores_nothing(
    client, personas, connection, message_id
):
    message = outbound(personas)
    before = stored(message)
    events_before = MessageEvent.objects.count()

    path = wh.status_path(message_id)
    response = wh.post_signed(client, path, wh.status_form(sid=SID, status="delivered"))

    assert response.status_code == 204
    assert Message.objects.count() == 1
    assert stored(message) == before
    assert MessageEvent.objects.count() == events_before
    assert wh.last_webhook(connection) == (None, None)


# --- Signatures -------------------------------------------------------------------------------


LAST_WEBHOOK = ("last_webhook_at", "last_webhook_signature_valid")


def without_last_webhook(snapshot: tuple[list[dict], list[dict]]) -> tuple[list[dict], list[dict]]:
    """Every Connection and TwilioCredentials row but the connections' last-webhook record."""
    connections, credentials = snapshot
    trimmed = [{k: v for k, v in row.items() if k not in LAST_WEBHOOK} for row in connections]
    return trimmed, credentials


@pytest.mark.parametrize("way", wh.BAD_SIGNATURES)
def test_it_refuses_a_callback_without_a_valid_signature_and_changes_nothing(
    client, personas, connection, way
):
    other = connect(personas, "outsider", auth_token=wh.OTHER_TOKEN)
    message = outbound(personas, status=Status.SUBMITTING, sid=None)
    before, events_before = stored(message), MessageEvent.objects.count()
    connections_before = rows()
    path = wh.status_path(message)
    form = wh.status_form(sid=SID, status="delivered")

    response = wh.post(client, path, form, signature=wh.bad_signature(way, path, form))

    assert response.status_code == 403
    assert stored(message) == before
    assert MessageEvent.objects.count() == events_before
    assert without_last_webhook(rows()) == without_last_webhook(connections_before)
    at, valid = wh.last_webhook(connection)
    assert at is not None
    assert valid is False
    assert wh.last_webhook(other) == (None, None)


def test_it_records_a_valid_callback_on_the_connection(client, personas, connection):
    message = outbound(personas)

    response = callback(client, message, "sent")

    assert response.status_code == 204
    at, valid = wh.last_webhook(connection)
    assert at is not None
    assert valid is True


def test_it_writes_the_last_webhook_record_at_most_once_a_minute(client, personas, connection):
    message = outbound(personas)
    callback(client, message, "sent")
    first_at, _ = wh.last_webhook(connection)
    assert first_at is not None

    callback(client, message, "delivered")

    assert wh.last_webhook(connection) == (first_at, True)

    moved_back = first_at - datetime.timedelta(seconds=61)
    Connection.objects.filter(pk=connection.pk).update(last_webhook_at=moved_back)
    callback(client, message, "read")

    at, valid = wh.last_webhook(connection)
    assert at is not None
    assert at > moved_back
    assert valid is True
    message.refresh_from_db()
    assert message.status == Status.READ


def test_it_signs_the_query_string_as_part_of_the_url(client, personas, connection):
    message = outbound(personas)
    path = f"{wh.status_path(message)}?attempt=2&edge=ashburn"
    form = wh.status_form(sid=SID, status="delivered")

    without_query = wh.post(client, path, form, signature=wh.sign(wh.status_path(message), form))

    assert without_query.status_code == 403
    message.refresh_from_db()
    assert message.status == Status.QUEUED
    assert callback_events(message) == []

    with_query = wh.post_signed(client, path, form)

    assert with_query.status_code == 204
    message.refresh_from_db()
    assert message.status == Status.DELIVERED
    assert callback_events(message) == [("delivered", None)]


@pytest.mark.parametrize(
    ("public_base_url", "signed_over"),
    [
        ("https://hub.example.com", "https://hub.example.com:443"),
        ("http://hub.example.com", "http://hub.example.com:80"),
        ("https://hub.example.com:8443", "https://hub.example.com"),
    ],
)
def test_it_accepts_the_signature_twilio_made_with_or_without_the_port(
    client, personas, connection, settings, public_base_url, signed_over
):
    settings.PUBLIC_BASE_URL = public_base_url
    message = outbound(personas)
    form = wh.status_form(sid=SID, status="delivered")

    response = wh.post_signed(client, wh.status_path(message), form, base=signed_over)

    assert response.status_code == 204
    message.refresh_from_db()
    assert message.status == Status.DELIVERED


@pytest.mark.parametrize(
    "form",
    [
        {},
        {"Body": ""},
        {"Body": "Grüße 👋 & <ok>", "From": "+14155550123", "To": "+14155550100"},
        {"b": "2", "a": "1", "B": "3", "a1": "x y", "MediaUrl0": "https://x.example/a?b=c"},
    ],
)
def test_its_signature_check_agrees_with_twilios_own_validator(form):
    url = f"{wh.PUBLIC_BASE_URL}/webhooks/twilio/status/x?attempt=2"
    signature = RequestValidator(tw.AUTH_TOKEN).compute_signature(url, form)

    assert signature_valid(tw.AUTH_TOKEN, "/webhooks/twilio/status/x?attempt=2", form, signature)
    assert not signature_valid(
        wh.OTHER_TOKEN, "/webhooks/twilio/status/x?attempt=2", form, signature
    )
    assert not signature_valid(tw.AUTH_TOKEN, "/webhooks/twilio/status/x", form, signature)
