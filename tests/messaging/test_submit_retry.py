"""Submitting to Twilio: a rate limit or a full queue is retried with backoff, then fails."""

from __future__ import annotations

import datetime
import random

import pytest

from messaging.models import Message, MessageEvent, Status
from messaging.services import submit
from messaging.services.dispatch import messages_enqueue_due
from messaging.services.sweeper import messages_sweep
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


@pytest.mark.django_db
def test_a_retried_message_sent_again_is_not_taken_for_an_unknown_outcome_while_in_flight(
    personas, rsps, clock, django_capture_on_commit_callbacks
):
    """The claim of a new attempt clears the last attempt's error: with it kept, a call still
    in flight a minute after its claim (a window's last call, Twilio answering slowly) looked to
    the sweeper like an unknown outcome, and a Twilio that had not stored it yet got it twice."""
    connect(personas)
    messages_refuse(rsps, 20429, 429, "Too Many Requests")
    message = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="Hi")
    assert message.error_message == "Twilio is rate limiting this account."
    swept: list[dict[str, int]] = []

    def sweep_while_in_flight(form: object) -> None:
        claimed = Message.objects.get(pk=message.pk)
        assert (claimed.status, claimed.error_code, claimed.error_message) == (
            Status.SUBMITTING,
            None,
            "",
        )
        later = clock.now + datetime.timedelta(seconds=70)
        counts = messages_sweep(now=later).counts()
        swept.append({name: n for name, n in counts.items() if n})

    messages_create(rsps, sid=SID, during=sweep_while_in_flight)
    clock.now = message.send_after
    assert messages_enqueue_due() == 1

    assert swept == [{}]  # nothing looked up, nothing sent again
    assert len(forms(rsps)) == 2
    message.refresh_from_db()
    assert (message.status, message.sid, message.attempts) == (Status.QUEUED, SID, 2)
    assert event_rows(message) == [("pending", None), ("retry", 20429), ("queued", None)]
