"""The rules checked again when the send task claims a message: everything that can change
between creation and sending (opt-out, number, connection, dedupe key, frequency cap), and
the frequency cap under two workers racing for its last slot."""

from __future__ import annotations

import datetime
import threading
import time

import pytest

from connections.services.connections import connection_disconnect
from contacts.models import ConsentSource
from contacts.services.consent import consent_opt_out
from messaging.models import DedupeKey, Message, Status, SuppressedReason
from messaging.services import rules
from messaging.services.dispatch import messages_enqueue_due
from messaging.services.sending import message_send, message_send_many
from messaging.services.submit import message_submit
from tenants.actor import Actor
from tests.concurrency import run_together
from tests.connections.helpers import connect
from tests.messaging.helpers import (
    expected_form,
    forms,
    limiter,
    make_contact,
    messages_create,
)
from tests.messaging.send_helpers import ALICE, BOB, T0, created_unsent

pytestmark = pytest.mark.usefixtures("unlimited_slots")


def cap(personas, n: int | None) -> None:
    personas.org.frequency_cap = n
    personas.org.save(update_fields=["frequency_cap"])


def statuses(messages: list[Message]) -> list[tuple[str, str]]:
    for message in messages:
        message.refresh_from_db()
    return [(m.status, m.suppressed_reason) for m in messages]


# --- The list of rules --------------------------------------------------------------------


def test_every_rule_but_the_length_is_checked_at_both_moments():
    at_send = {rule.reason for rule in rules.RULES if rules.Moment.SEND in rule.moments}
    at_create = {rule.reason for rule in rules.RULES if rules.Moment.CREATE in rule.moments}

    assert at_create == set(SuppressedReason)
    assert at_send == set(SuppressedReason) - {SuppressedReason.TOO_LONG}


# --- The frequency cap at send time ---------------------------------------------------------


@pytest.mark.django_db
def test_it_sends_one_of_three_messages_scheduled_for_later_with_a_cap_of_one(
    personas, rsps, clock, django_capture_on_commit_callbacks
):
    connect(personas)
    cap(personas, 1)
    alice = make_contact(personas, ALICE)
    messages_create(rsps)
    later = T0 + datetime.timedelta(hours=2)
    with django_capture_on_commit_callbacks(execute=True):
        scheduled = [
            message_send(
                organization=personas.org,
                contact=alice,
                body=f"#{i}",
                send_after=later + datetime.timedelta(minutes=i),
                source="api",
            )
            for i in (1, 2, 3)
        ]
    # Nothing was handed to Twilio yet, so creation let all three wait.
    assert statuses(scheduled) == [(Status.PENDING, "")] * 3

    clock.now = later + datetime.timedelta(minutes=5)
    with django_capture_on_commit_callbacks(execute=True):
        assert messages_enqueue_due() == 3

    assert statuses(scheduled) == [
        (Status.QUEUED, ""),
        (Status.SUPPRESSED, SuppressedReason.FREQUENCY_CAP),
        (Status.SUPPRESSED, SuppressedReason.FREQUENCY_CAP),
    ]
    assert [f["Body"] for f in forms(rsps)] == [["#1"]]


@pytest.mark.django_db
def test_it_caps_messages_held_by_quiet_hours_when_the_window_opens(
    personas, rsps, clock, django_capture_on_commit_callbacks
):
    connect(personas)
    cap(personas, 1)
    alice = make_contact(personas, ALICE, time_zone="America/New_York")
    messages_create(rsps)
    clock.now = datetime.datetime(2026, 4, 1, 3, 0, tzinfo=datetime.UTC)  # 23:00 in New York
    with django_capture_on_commit_callbacks(execute=True):
        held = message_send_many(
            organization=personas.org,
            contacts=[alice, alice],
            body="Morning",
            respect_quiet_hours=True,
            source="automation",
        )
    messages = list(Message.objects.filter(pk__in=held.message_ids).order_by("pk"))
    opening = datetime.datetime(2026, 4, 1, 12, 0, tzinfo=datetime.UTC)  # 08:00 in New York
    assert [(m.status, m.send_after) for m in messages] == [(Status.PENDING, opening)] * 2

    clock.now = opening
    with django_capture_on_commit_callbacks(execute=True):
        assert messages_enqueue_due() == 2

    assert statuses(messages) == [
        (Status.QUEUED, ""),
        (Status.SUPPRESSED, SuppressedReason.FREQUENCY_CAP),
    ]
    assert len(forms(rsps)) == 1


@pytest.mark.django_db
def test_it_does_not_count_the_message_being_sent_against_the_cap(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect(personas)
    cap(personas, 1)
    messages_create(rsps)
    message, callbacks = created_unsent(
        personas, django_capture_on_commit_callbacks, to=ALICE, body="Hi"
    )

    for callback in callbacks:
        callback()

    message.refresh_from_db()
    assert message.status == Status.QUEUED
    assert forms(rsps) == [expected_form(message, to=ALICE, body="Hi")]


# --- Every rule that can change between creation and sending --------------------------------


def opt_out(personas, rsps, capture) -> None:
    consent_opt_out(organization=personas.org, phone=ALICE, source=ConsentSource.INBOUND_KEYWORD)


def reject_the_number(personas, rsps, capture) -> None:
    """Another message to the number failed meanwhile: Twilio said it is not a valid number."""
    Message.objects.create(
        organization=personas.org, to=ALICE, body="Other", status=Status.FAILED, error_code=21211
    )


def disconnect(personas, rsps, capture) -> None:
    connection_disconnect(
        connection=personas.org.connections.get(),
        by=Actor.for_membership(personas.membership("owner")),
    )


def use_the_dedupe_key(personas, rsps, capture) -> None:
    """Another message (created before the key was held) uses the key up."""
    DedupeKey.objects.create(organization=personas.org, key="welcome:alice")


def fill_the_cap(personas, rsps, capture) -> None:
    """Another message to the number is handed to Twilio meanwhile."""
    messages_create(rsps)
    other, callbacks = created_unsent(personas, capture, to=ALICE, body="Other")
    for callback in callbacks:
        callback()
    other.refresh_from_db()
    assert other.status == Status.QUEUED


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (opt_out, SuppressedReason.OPTED_OUT),
        (reject_the_number, SuppressedReason.INVALID_NUMBER),
        (disconnect, SuppressedReason.NO_CONNECTION),
        (use_the_dedupe_key, SuppressedReason.DUPLICATE),
        (fill_the_cap, SuppressedReason.FREQUENCY_CAP),
    ],
    ids=lambda value: getattr(value, "__name__", str(value)),
)
@pytest.mark.django_db
def test_it_suppresses_at_send_what_changed_since_creation(
    personas, rsps, django_capture_on_commit_callbacks, change, reason
):
    connect(personas)
    cap(personas, 1)
    message, callbacks = created_unsent(
        personas,
        django_capture_on_commit_callbacks,
        to=ALICE,
        body="Hi",
        dedupe_key="welcome:alice",
    )
    assert message.status == Status.PENDING

    change(personas, rsps, django_capture_on_commit_callbacks)
    for callback in callbacks:
        callback()

    message.refresh_from_db()
    assert (message.status, message.suppressed_reason) == (Status.SUPPRESSED, reason)
    assert message.sid is None
    # Only the other message of the change, if any, went to Twilio.
    assert [f["Body"] for f in forms(rsps)] == ([["Other"]] if change is fill_the_cap else [])
    # A suppressed message holds no dedupe key: one a message used up stays its own.
    assert not DedupeKey.objects.filter(message=message).exists()


# --- Two workers, two messages, one slot left ------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_the_last_slot_send_one_message(personas, rsps, clock, monkeypatch):
    """Both workers read their row as pending, take a rate-limit slot together, and count what
    was handed to Twilio slowly: without the per-number lock both would count zero and send."""
    connect(personas)
    cap(personas, 1)
    alice = make_contact(personas, ALICE)
    make_contact(personas, BOB)
    messages_create(rsps)
    later = T0 + datetime.timedelta(minutes=5)
    first, second = (
        message_send(
            organization=personas.org, contact=alice, body=body, send_after=later, source="api"
        )
        for body in ("First", "Second")
    )
    barrier = threading.Barrier(2, timeout=10)

    def take(key: str, *, rate: float, cost: int = 1) -> float:
        barrier.wait()  # both workers have read their row and go on together
        return 0.0

    limiter(monkeypatch, take)
    counted = rules.recent_counts

    def slow_count(*args, **kwargs):
        counts = counted(*args, **kwargs)
        time.sleep(0.3)  # the other worker, unlocked, would count now and also see nothing
        return counts

    monkeypatch.setattr(rules, "recent_counts", slow_count)
    assert [m.status for m in (first, second)] == [Status.PENDING] * 2  # due later
    clock.now = later
    results = run_together(lambda: message_submit(first.pk), lambda: message_submit(second.pk))

    assert sorted(results) == ["submitted", "suppressed"]
    rows = sorted(
        Message.objects.filter(pk__in=[first.pk, second.pk]).values_list(
            "status", "suppressed_reason"
        )
    )
    assert rows == [(Status.QUEUED, ""), (Status.SUPPRESSED, SuppressedReason.FREQUENCY_CAP)]
    assert len(forms(rsps)) == 1
    # The message Twilio got is the one the workers agree was sent.
    sent = Message.objects.get(status=Status.QUEUED)
    assert forms(rsps) == [expected_form(sent, to=ALICE, body=sent.body)]
