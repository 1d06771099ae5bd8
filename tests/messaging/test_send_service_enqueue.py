"""The send service enqueues a due message on commit and leaves a later one to the beat task."""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from messaging.models import MessageEvent, Status
from messaging.services.dispatch import messages_enqueue_due
from messaging.services.sending import message_send
from templates_sms.services import template_create
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
    nothing_written,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unlimited_slots")]


# --- Due now: enqueued on commit, then sent -------------------------------------------------


def test_it_enqueues_a_due_message_on_commit_and_sends_it(
    personas, rsps, django_capture_on_commit_callbacks
):
    connection = connect(personas)
    messages_create(rsps, sid="SM" + "1" * 32)
    alice = make_contact(personas, ALICE, first_name="Alice")

    with django_capture_on_commit_callbacks(execute=True):
        message = message_send(
            organization=personas.org, contact=alice, body="Hello Alice", source="ui"
        )
        # Inside the transaction: the row is pending and nothing went to Twilio yet.
        assert message.status == Status.PENDING
        assert forms(rsps) == []

    assert forms(rsps) == [expected_form(message, to=ALICE, body="Hello Alice")]
    message.refresh_from_db()
    assert message.status == Status.QUEUED
    assert message.sid == "SM" + "1" * 32
    assert message.from_number == "+14155550100"
    assert message.connection_id == connection.pk
    assert message.attempts == 1
    assert message.submitted_at is not None
    assert message.enqueued_at is not None
    assert message.error_code is None
    assert (message.source, message.segments, message.encoding) == ("ui", 1, "GSM-7")
    assert list(MessageEvent.objects.filter(message=message).values_list("status", "params")) == [
        ("pending", {}),
        ("queued", {"sid": "SM" + "1" * 32}),
    ]


def test_it_sends_nothing_when_the_transaction_rolls_back(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect(personas)

    def create_then_fail() -> None:
        with transaction.atomic():
            message_send(organization=personas.org, to=ALICE, body="Hi", source="test")
            raise RuntimeError("the caller failed after creating the message")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        create_then_fail()

    assert callbacks == []
    assert nothing_written()
    assert forms(rsps) == []


def test_it_sends_a_rendered_template_with_its_media(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect(personas)
    messages_create(rsps)
    alice = make_contact(personas, ALICE, first_name="Alice")
    template = template_create(
        organization=personas.org,
        name="Promo",
        body="Hi {{ first_name }}, 20% off today at {{ organization.name }}.",
        media_url="https://cdn.example.com/promo.jpg",
    ).template

    message = send_now(
        django_capture_on_commit_callbacks,
        personas,
        contact=alice,
        template=template,
        source_ref="automation-7",
    )

    text = "Hi Alice, 20% off today at Acme A.\nReply STOP to opt out"
    assert forms(rsps) == [
        expected_form(message, to=ALICE, body=text, media_url="https://cdn.example.com/promo.jpg")
    ]
    assert (message.body, message.template_id, message.source_ref) == (
        text,
        template.pk,
        "automation-7",
    )


def test_it_normalizes_a_number_written_any_usual_way(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect(personas)
    messages_create(rsps)

    message = send_now(
        django_capture_on_commit_callbacks,
        personas,
        to="(415) 555-0123",
        body="Hi",
        media_url="https://cdn.example.com/a.png",
    )

    assert message.to == ALICE
    assert forms(rsps) == [
        expected_form(message, to=ALICE, body="Hi", media_url="https://cdn.example.com/a.png")
    ]


# --- Due later: left to the beat task --------------------------------------------------------


def test_it_sends_a_future_message_only_when_enqueue_due_runs_after_its_time(
    personas, rsps, monkeypatch, django_capture_on_commit_callbacks
):
    clock = Clock(monkeypatch, datetime.datetime(2026, 4, 1, 12, 0, tzinfo=datetime.UTC))
    connect(personas)
    messages_create(rsps)
    due = clock.now + datetime.timedelta(hours=2)

    message = send_now(
        django_capture_on_commit_callbacks, personas, to=ALICE, body="Later", send_after=due
    )

    assert (message.status, message.send_after, message.enqueued_at) == (Status.PENDING, due, None)
    assert forms(rsps) == []

    clock.advance(hours=1, minutes=59, seconds=59)
    assert messages_enqueue_due() == 0
    assert forms(rsps) == []

    clock.advance(seconds=1)
    assert messages_enqueue_due() == 1

    assert forms(rsps) == [expected_form(message, to=ALICE, body="Later")]
    message.refresh_from_db()
    assert (message.status, message.enqueued_at, message.submitted_at) == (
        Status.QUEUED,
        due,
        due,
    )
    assert messages_enqueue_due() == 0  # sent once, never again
    assert len(forms(rsps)) == 1


def test_it_sends_a_send_after_in_the_past_at_once(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect(personas)
    messages_create(rsps)
    past = timezone.now() - datetime.timedelta(minutes=5)

    message = send_now(
        django_capture_on_commit_callbacks, personas, to=ALICE, body="Hi", send_after=past
    )

    assert message.status == Status.QUEUED
    assert len(forms(rsps)) == 1
