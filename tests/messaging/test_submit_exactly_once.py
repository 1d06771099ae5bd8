"""Submitting to Twilio once: a task delivered twice, racing workers, an unknown outcome."""

from __future__ import annotations

import datetime
import threading

import pytest
import requests

from messaging.models import DedupeKey, Status
from messaging.services.dispatch import messages_enqueue_due
from messaging.services.sending import message_send
from messaging.services.submit import message_submit
from messaging.tasks import send_message
from tests.concurrency import run_together
from tests.connections.helpers import connect
from tests.messaging.helpers import (
    expected_form,
    forms,
    limiter,
    messages_create,
    messages_raise,
    messages_refuse,
    send_now,
)
from tests.messaging.send_helpers import (
    ALICE,
    SID,
    T0,
    created_unsent,
    event_rows,
)

pytestmark = pytest.mark.usefixtures("unlimited_slots")

# --- Exactly once ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_sends_once_when_the_task_is_delivered_twice(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect(personas)
    messages_create(rsps, sid=SID)
    message, _callbacks = created_unsent(
        personas, django_capture_on_commit_callbacks, to=ALICE, body="Hi"
    )

    first = send_message.delay(message.pk).get()
    second = send_message.delay(message.pk).get()

    assert (first, second) == ("submitted", "not pending")
    assert forms(rsps) == [expected_form(message, to=ALICE, body="Hi")]
    message.refresh_from_db()
    assert (message.status, message.sid, message.attempts) == (Status.QUEUED, SID, 1)


@pytest.mark.django_db(transaction=True)
def test_it_sends_once_when_two_workers_race_for_one_message(personas, rsps, clock, monkeypatch):
    connect(personas)
    messages_create(rsps, sid=SID)
    # Due later, so creating it (which commits at once here) enqueues nothing.
    message = message_send(
        organization=personas.org,
        to=ALICE,
        body="Hi",
        send_after=T0 + datetime.timedelta(minutes=5),
        source="test",
    )
    clock.now = T0 + datetime.timedelta(minutes=5)
    # Both workers have read the row as pending before either claims it.
    barrier = threading.Barrier(2, timeout=10)

    def take(key: str, *, rate: float, cost: int = 1) -> float:
        barrier.wait()
        return 0.0

    limiter(monkeypatch, take)
    results = run_together(*[lambda: message_submit(message.pk)] * 2)

    assert sorted(results) == ["submitted", "taken"]
    assert forms(rsps) == [expected_form(message, to=ALICE, body="Hi")]
    message.refresh_from_db()
    assert (message.status, message.sid, message.attempts) == (Status.QUEUED, SID, 1)


# --- Unknown outcome: never re-sent blindly -------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "code", "detail"),
    [
        ("read timeout", None, "Twilio did not answer in time."),
        ("500", 20500, "Internal Server Error"),
        ("503", 20503, "Service Unavailable"),
    ],
)
@pytest.mark.django_db
def test_it_does_not_send_again_when_the_outcome_is_unknown(
    personas, rsps, clock, django_capture_on_commit_callbacks, answer, code, detail
):
    connect(personas)
    if answer == "read timeout":
        messages_raise(rsps, requests.ReadTimeout("Read timed out. (read timeout=10.0)"))
    else:
        messages_refuse(rsps, code, int(answer), detail)

    message = send_now(
        django_capture_on_commit_callbacks, personas, to=ALICE, body="Hi", dedupe_key="once"
    )

    assert message.status == Status.SUBMITTING
    assert message.submitted_at == T0
    assert message.attempts == 1
    assert message.sid is None
    assert (message.error_code, message.error_message) == (code, detail)
    assert event_rows(message) == [("pending", None), ("unknown_outcome", code)]
    # The dedupe key stays used: Twilio may have sent it.
    assert DedupeKey.objects.filter(key="once", message=message).exists()

    assert send_message.delay(message.pk).get() == "not pending"
    clock.advance(hours=1)
    assert messages_enqueue_due() == 0
    assert forms(rsps) == [expected_form(message, to=ALICE, body="Hi")]
    message.refresh_from_db()
    assert message.status == Status.SUBMITTING
