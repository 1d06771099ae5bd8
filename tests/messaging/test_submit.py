"""Handing a message to Twilio (step 3): retries, refusals, unknown outcomes, races."""

from __future__ import annotations

import datetime
import random
import threading

import pytest
import requests
from django.db import connection as db

from connections.models import Connection, ConnectionState
from connections.services.connections import connection_disconnect
from contacts.models import OPT_OUT_TAG, ConsentEvent, ConsentSource, ConsentState
from contacts.services.consent import consent_opt_out
from messaging import ratelimit
from messaging.models import DedupeKey, Message, MessageEvent, Status, SuppressedReason
from messaging.services import submit
from messaging.services.sending import message_send
from messaging.services.submit import message_submit, messages_enqueue_due
from messaging.tasks import send_message
from tenants.actor import Actor
from tests import twilio_mocks as tw
from tests.messaging.helpers import (
    Clock,
    connect_sender,
    expected_form,
    forms,
    make_contact,
    messages_create,
    messages_raise,
    messages_refuse,
    send_now,
    unlimited,
)

ALICE = "+14155550123"
SID = "SM" + "5" * 32
T0 = datetime.datetime(2026, 4, 1, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _slots(monkeypatch):
    unlimited(monkeypatch)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch, T0)


def event_rows(message: Message) -> list[tuple[str, int | None]]:
    return list(MessageEvent.objects.filter(message=message).values_list("status", "error_code"))


def created_unsent(personas, commit, **kwargs) -> tuple[Message, list]:
    """A committed pending message whose enqueue callback has not run yet."""
    with commit(execute=False) as callbacks:
        message = message_send(organization=personas.org, source="test", **kwargs)
    assert len(callbacks) == 1
    return message, callbacks


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
    connect_sender(personas)
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
    connect_sender(personas)
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


# --- Permanent refusals ---------------------------------------------------------------------

PERMANENT = [
    (21211, "The 'To' number +14155550123 is not a valid phone number.",
     "The recipient's number is not a valid phone number."),
    (21408, "Permission to send an SMS has not been enabled for the region indicated by the "
     "'To' number: +14155550123.",
     "This Twilio account is not allowed to send to the recipient's country."),
    (21606, "The 'From' phone number provided is not a valid message-capable Twilio phone "
     "number for this destination/account.",
     "The sender is not an SMS-capable number of this Twilio account."),
    (21612, "The 'To' phone number: +14155550123, is not currently reachable using the 'From' "
     "phone number: +14155550100 via SMS.",
     "Twilio cannot route a message from this sender to the recipient."),
    (21614, "'To' number is not a valid mobile number",
     "The recipient's number is not a mobile number."),
    (21602, "Message body is required.", "The message has no text and no media."),
]  # fmt: skip


@pytest.mark.parametrize(("code", "text", "explanation"), PERMANENT)
@pytest.mark.django_db
def test_it_fails_at_once_on_a_permanent_refusal(
    personas, rsps, clock, django_capture_on_commit_callbacks, code, text, explanation
):
    connection = connect_sender(personas)
    alice = make_contact(personas, ALICE)
    messages_refuse(rsps, code, 400, text)

    message = send_now(django_capture_on_commit_callbacks, personas, contact=alice, body="Hi")

    assert message.status == Status.FAILED
    assert (message.error_code, message.error_message) == (code, explanation)
    assert message.attempts == 1
    assert message.sid is None
    assert message.submitted_at == T0
    assert event_rows(message) == [("pending", None), ("failed", code)]
    assert MessageEvent.objects.get(message=message, status="failed").params == {
        "detail": explanation
    }
    assert forms(rsps) == [expected_form(message, to=ALICE, body="Hi")]
    # Nothing else changes: the number may still be texted, the connection is fine.
    assert not ConsentState.objects.filter(phone=ALICE, opted_out=True).exists()
    connection.refresh_from_db()
    assert connection.state == ConnectionState.CONNECTED
    # …and it is never tried again.
    clock.advance(days=1)
    assert messages_enqueue_due() == 0
    assert len(forms(rsps)) == 1


@pytest.mark.django_db
def test_it_opts_the_number_out_when_twilio_says_the_recipient_unsubscribed(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect_sender(personas)
    alice = make_contact(personas, ALICE)
    messages_refuse(rsps, 21610, 400, "Attempt to send to unsubscribed recipient")

    message = send_now(django_capture_on_commit_callbacks, personas, contact=alice, body="Hi")

    assert message.status == Status.FAILED
    assert (message.error_code, message.error_message) == (
        21610,
        "The recipient has replied STOP to this sender.",
    )
    state = ConsentState.objects.get(organization=personas.org, phone=ALICE)
    assert (state.opted_out, state.opt_out_source) == (True, ConsentSource.TWILIO_ERROR_21610)
    assert state.locked  # only the person's START undoes it
    assert list(
        ConsentEvent.objects.filter(organization=personas.org, phone=ALICE).values_list(
            "kind", "source", "contact"
        )
    ) == [("opt_out", "twilio_21610", alice.pk)]
    assert list(alice.tags.values_list("name", flat=True)) == [OPT_OUT_TAG]

    again = send_now(django_capture_on_commit_callbacks, personas, contact=alice, body="Hi")
    assert again.suppressed_reason == SuppressedReason.OPTED_OUT
    assert len(forms(rsps)) == 1


@pytest.mark.django_db
def test_it_marks_the_connection_failing_when_twilio_refuses_the_keys(
    personas, rsps, django_capture_on_commit_callbacks
):
    connection = connect_sender(personas)
    rsps.post(
        f"{tw.API}/Accounts/{tw.ACCOUNT_SID}/Messages.json", json=tw.load("error_20003"), status=401
    )

    message = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="Hi")

    assert message.status == Status.FAILED
    assert (message.error_code, message.error_message) == (
        20003,
        "Twilio refused the Account SID and Auth Token.",
    )
    connection.refresh_from_db()
    assert connection.state == ConnectionState.FAILING
    assert connection.last_error == "Twilio refused the Account SID and Auth Token."
    assert len(forms(rsps)) == 1


# --- Exactly once ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_sends_once_when_the_task_is_delivered_twice(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect_sender(personas)
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
    connect_sender(personas)
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

    monkeypatch.setattr(ratelimit, "take", take)
    results: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            results.append(message_submit(message.pk))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
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
    connect_sender(personas)
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


# --- What changed between create and send ---------------------------------------------------


@pytest.mark.django_db
def test_it_suppresses_when_an_opt_out_arrives_between_create_and_send(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect_sender(personas)
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
    connection = connect_sender(personas)
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
    connect_sender(personas)
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
    connect_sender(personas)
    messages_create(rsps, sid=SID, status="accepted")

    message = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="Hi")

    assert (message.status, message.sid) == (Status.ACCEPTED, SID)
    assert Connection.objects.get(organization=personas.org).state == ConnectionState.CONNECTED
