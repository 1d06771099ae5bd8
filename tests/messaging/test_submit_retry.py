"""Submitting to Twilio: a rate limit or a full queue is retried with backoff, then fails."""

from __future__ import annotations

import datetime
import random

import pytest

from messaging.models import MessageEvent, Status
from messaging.services import submit
from messaging.services.dispatch import messages_enqueue_due
from tests.connections.helpers import connect
from tests.messaging.helpers import (
    expected_form,
    forms,
    messages_create,
    messages_refuse,
    send_now,
)
from tests.messaging.send_helpers import (
    ALICE,
    SID,
    T0,
    event_rows,
)

pytestmark = pytest.mark.usefixtures("unlimited_slots")

# --- Retry ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "http_status", "text", "explanation", "low", "high"),
    [
        (20429, 429, "Too Many Requests", "Twilio is rate limiting this account.", 24, 36),
        (
            21611,
            400,
            "This 'From' number has exceeded the maximum number of queued messages",
            "The sender's queue at Twilio is full.",
            240,
            360,
        ),
    ],
)
@pytest.mark.django_db
def test_it_retries_later_then_sends(
    personas, rsps, clock, django_capture_on_commit_callbacks,
    code, http_status, text, explanation, low, high,
):  # fmt: skip
    connect(personas)
    messages_refuse(rsps, code, http_status, text)
    messages_create(rsps, sid=SID)

    message = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="Hi")

    assert message.status == Status.PENDING
    assert message.attempts == 1
    assert (message.error_code, message.error_message) == (code, explanation)
    assert message.sid is None
    assert message.enqueued_at is None
    assert message.send_after is not None
    wait = (message.send_after - T0).total_seconds()
    assert low <= wait <= high  # the base backoff with ±20% jitter
    assert event_rows(message) == [("pending", None), ("retry", code)]
    retry = MessageEvent.objects.get(message=message, status="retry")
    assert retry.params["send_after"] == message.send_after.isoformat()

    clock.now = T0 + datetime.timedelta(seconds=low - 1)
    assert messages_enqueue_due() == 0
    assert len(forms(rsps)) == 1

    clock.now = message.send_after
    assert messages_enqueue_due() == 1

    assert forms(rsps) == [expected_form(message, to=ALICE, body="Hi")] * 2
    message.refresh_from_db()
    assert message.status == Status.QUEUED
    assert message.sid == SID
    assert message.attempts == 2
    assert (message.error_code, message.error_message) == (None, "")
    assert message.submitted_at == clock.now
    assert event_rows(message) == [("pending", None), ("retry", code), ("queued", None)]


@pytest.mark.django_db
def test_it_fails_when_the_retries_are_exhausted(
    personas, rsps, clock, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(random, "uniform", lambda low, high: high)  # +20% jitter
    connect(personas)
    messages_refuse(rsps, 20429, 429, "Too Many Requests")

    message = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="Hi")
    for attempt, base in enumerate((30, 60, 120, 240), start=1):
        assert (message.status, message.attempts) == (Status.PENDING, attempt)
        assert message.send_after == clock.now + datetime.timedelta(seconds=base * 1.2)
        clock.now = message.send_after
        assert messages_enqueue_due() == 1
        message.refresh_from_db()

    assert submit.MAX_ATTEMPTS == 5
    assert message.status == Status.FAILED
    assert message.attempts == 5
    assert (message.error_code, message.error_message) == (
        20429,
        "Twilio is rate limiting this account.",
    )
    assert len(forms(rsps)) == 5
    assert event_rows(message) == [("pending", None)] + [("retry", 20429)] * 4 + [("failed", 20429)]
    clock.advance(days=1)
    assert messages_enqueue_due() == 0
    assert len(forms(rsps)) == 5
