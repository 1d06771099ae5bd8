"""The send rule about the frequency cap: messages per number in 24 hours, and which count."""

from __future__ import annotations

import datetime

import pytest

from contacts.models import ConsentSource
from contacts.services.consent import consent_opt_in, consent_opt_out
from messaging.models import Status, SuppressedReason
from messaging.services.sending import message_send
from tests.connections.helpers import connect
from tests.messaging.helpers import (
    Clock,
    expected_form,
    forms,
    make_contact,
    messages_create,
    send_now,
)
from tests.messaging.send_helpers import (
    ALICE,
    BOB,
    assert_suppressed,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unlimited_slots")]


# --- Frequency cap --------------------------------------------------------------------------


def cap(personas, n: int | None) -> None:
    personas.org.frequency_cap = n
    personas.org.save(update_fields=["frequency_cap"])


def test_it_suppresses_the_third_message_in_24_hours_with_a_cap_of_two(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect(personas)
    cap(personas, 2)
    alice = make_contact(personas, ALICE)
    messages_create(rsps)
    sent = [
        send_now(django_capture_on_commit_callbacks, personas, contact=alice, body=f"#{i}")
        for i in (1, 2)
    ]
    assert [m.status for m in sent] == [Status.QUEUED, Status.QUEUED]

    third = send_now(django_capture_on_commit_callbacks, personas, contact=alice, body="#3")

    assert_suppressed(third, SuppressedReason.FREQUENCY_CAP)
    assert [f["Body"] for f in forms(rsps)] == [["#1"], ["#2"]]


def test_it_caps_per_number(personas, rsps, django_capture_on_commit_callbacks):
    connect(personas)
    cap(personas, 1)
    messages_create(rsps)
    send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="Hi")

    bob = send_now(django_capture_on_commit_callbacks, personas, to=BOB, body="Hi")
    alice_again = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="Hi")

    assert bob.status == Status.QUEUED
    assert alice_again.suppressed_reason == SuppressedReason.FREQUENCY_CAP


def test_it_does_not_count_messages_older_than_24_hours(
    personas, rsps, monkeypatch, django_capture_on_commit_callbacks
):
    clock = Clock(monkeypatch, datetime.datetime(2026, 5, 4, 9, 0, tzinfo=datetime.UTC))
    connect(personas)
    cap(personas, 2)
    messages_create(rsps)
    send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="#1")
    clock.advance(hours=1)
    send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="#2")

    clock.advance(hours=23, minutes=1)  # #1 is now 24 h 1 min old, #2 23 h 1 min
    third = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="#3")
    fourth = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="#4")

    assert third.status == Status.QUEUED
    assert fourth.suppressed_reason == SuppressedReason.FREQUENCY_CAP
    assert [f["Body"] for f in forms(rsps)] == [["#1"], ["#2"], ["#3"]]


def test_it_does_not_count_messages_suppressed_when_created(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect(personas)
    cap(personas, 2)
    too_long = "x" * 1601
    for _ in range(3):
        suppressed = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body=too_long)
        assert suppressed.suppressed_reason == SuppressedReason.TOO_LONG
    messages_create(rsps)

    first = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="#1")
    second = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="#2")

    assert (first.status, second.status) == (Status.QUEUED, Status.QUEUED)
    assert len(forms(rsps)) == 2


def test_it_does_not_count_messages_suppressed_at_send_time(
    personas, rsps, django_capture_on_commit_callbacks
):
    """An opt-out that arrived between create and send: the message never reached Twilio."""
    connect(personas)
    cap(personas, 2)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            message = message_send(organization=personas.org, to=ALICE, body="Hi", source="test")
        consent_opt_out(organization=personas.org, phone=ALICE, source=ConsentSource.USER)
        for callback in callbacks:
            callback()
        message.refresh_from_db()
        assert message.suppressed_reason == SuppressedReason.OPTED_OUT
        consent_opt_in(organization=personas.org, phone=ALICE, source=ConsentSource.USER)
    messages_create(rsps)
    rsps.assert_all_requests_are_fired = False  # the assertions below say what was sent

    after = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="Hello")

    assert after.status == Status.QUEUED
    assert after.suppressed_reason == ""
    assert forms(rsps) == [expected_form(after, to=ALICE, body="Hello")]


def test_it_has_no_cap_when_the_organization_sets_none(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect(personas)
    cap(personas, None)
    messages_create(rsps)

    statuses = [
        send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body=f"#{i}").status
        for i in range(4)
    ]

    assert statuses == [Status.QUEUED] * 4
    assert len(forms(rsps)) == 4
