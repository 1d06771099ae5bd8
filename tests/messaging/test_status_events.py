"""``message_status_changed``: once per change of status, after the commit, never for a
rollback; from the send task, Twilio's status callbacks (the hand-written SQL path), the
sweeper and a person's decision. And a later success clears an error that no longer holds."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from contacts.models import ConsentSource
from contacts.services.consent import consent_opt_out
from messaging import signals
from messaging.models import Message, Status
from messaging.services.attention import CANCEL, message_attention_resolve
from messaging.services.sending import message_send
from messaging.services.sweeper import messages_sweep
from tenants.actor import Actor
from tests.concurrency import run_together
from tests.connections.helpers import connect
from tests.messaging import webhook_helpers as wh
from tests.messaging.helpers import make_contact, messages_create, messages_refuse
from tests.messaging.send_helpers import ALICE, T0, created_unsent
from tests.messaging.sweeper.helpers import SID, handed_over, submitting, twilio_fetches

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unlimited_slots")]

Received = list[dict[str, Any]]


@pytest.fixture
def changes() -> Iterator[Received]:
    """Every ``message_status_changed`` sent, as its payload."""
    received: Received = []

    def receiver(sender: Any, *, signal: Any, **payload: Any) -> None:
        assert sender is None
        received.append(payload)

    signals.message_status_changed.connect(receiver, weak=False)
    yield received
    assert signals.message_status_changed.disconnect(receiver)


def change(message: Message, status: str, source: str, error_code: int | None = None) -> dict:
    return {
        "organization_id": message.organization_id,
        "contact_ids": [message.contact_id] if message.contact_id else [],
        "source": source,
        "message_ids": [message.pk],
        "status": status,
        "error_code": error_code,
    }


def handed(personas, **fields: Any) -> Message:
    """An outbound message to Alice (a contact) as the send task leaves it: SID stored."""
    contact = make_contact(personas, ALICE)
    later = timezone.now() + datetime.timedelta(days=1)  # never enqueued by its creation
    message = message_send(
        organization=personas.org, contact=contact, body="Hi", send_after=later, source="api"
    )
    fields.setdefault("status", Status.QUEUED)
    Message.objects.filter(pk=message.pk).update(
        sid=SID,
        send_after=None,
        submitted_at=timezone.now(),
        from_number="+14155550100",
        **fields,
    )
    message.refresh_from_db()
    return message


def callback(client: Client, message: Message, status: str, error_code: int | None = None):
    form = wh.status_form(sid=SID, status=status, error_code=error_code)
    response = wh.post_signed(client, wh.status_path(message), form)
    assert response.status_code == 204
    return response


# --- Twilio's status callbacks --------------------------------------------------------------


def test_it_announces_each_status_a_callback_moves_to_once(
    personas, client, changes, django_capture_on_commit_callbacks
):
    connect(personas)
    message = handed(personas)

    with django_capture_on_commit_callbacks(execute=True):
        callback(client, message, "queued")  # the status it already has: no change
        callback(client, message, "sent")
        callback(client, message, "sent")  # a repeat
        callback(client, message, "delivered")
        callback(client, message, "sending")  # late: the status stays delivered
        callback(client, message, "undelivered", 30003)  # a second final status stays an event

    assert changes == [change(message, "sent", "webhook"), change(message, "delivered", "webhook")]


def test_it_announces_a_failure_with_its_error_code(
    personas, client, changes, django_capture_on_commit_callbacks
):
    connect(personas)
    message = handed(personas, status=Status.SENT)

    with django_capture_on_commit_callbacks(execute=True):
        callback(client, message, "undelivered", 30007)

    assert changes == [change(message, "undelivered", "webhook", 30007)]


def test_it_announces_a_callback_only_once_its_transaction_commits(
    personas, client, changes, django_capture_on_commit_callbacks
):
    connect(personas)
    message = handed(personas)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        callback(client, message, "delivered")
    assert changes == []
    assert len(callbacks) == 1

    callbacks[0]()
    assert changes == [change(message, "delivered", "webhook")]


def test_it_announces_nothing_for_a_callback_whose_transaction_rolls_back(
    personas, changes, django_capture_on_commit_callbacks
):
    from messaging.services.webhooks import status_callback_apply

    connect(personas)
    message = handed(personas)
    form = wh.status_form(sid=SID, status="delivered")
    path = wh.status_path(message)

    class Rollback(Exception):
        pass

    def apply_then_roll_back() -> None:
        with transaction.atomic():
            status_callback_apply(
                public_id=message.public_id, path=path, params=form, signature=wh.sign(path, form)
            )
            assert Message.objects.get(pk=message.pk).status == Status.DELIVERED
            raise Rollback

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Rollback):
        apply_then_roll_back()

    assert callbacks == []
    assert changes == []
    assert Message.objects.get(pk=message.pk).status == Status.QUEUED


@pytest.mark.django_db(transaction=True)
def test_two_copies_of_a_callback_arriving_together_announce_it_once(personas, changes):
    connect(personas)
    message = handed(personas, status=Status.SENT)
    form = wh.status_form(sid=SID, status="delivered")
    barrier = threading.Barrier(2, timeout=10)

    def post() -> int:
        barrier.wait()
        client = Client(HTTP_X_FORWARDED_PROTO="https")
        return wh.post_signed(client, wh.status_path(message), form).status_code

    answers = run_together(post, post)

    assert answers == [204, 204]
    assert changes == [change(message, "delivered", "webhook")]


# --- A later success clears an error that no longer holds ------------------------------------


def test_a_delivered_callback_clears_the_error_of_a_send_that_timed_out(
    personas, client, django_capture_on_commit_callbacks
):
    connect(personas)
    message = handed(
        personas,
        status=Status.SUBMITTING,
        error_message="Twilio did not answer in time.",
    )

    callback(client, message, "sent")

    message.refresh_from_db()
    assert (message.status, message.error_code, message.error_message) == (Status.SENT, None, "")
    callback(client, message, "delivered")
    message.refresh_from_db()
    assert (message.status, message.error_message) == (Status.DELIVERED, "")


def test_a_failure_without_a_code_keeps_the_error_it_had(personas, client):
    connect(personas)
    message = handed(
        personas, status=Status.SENT, error_code=30003, error_message="The handset is unreachable."
    )

    callback(client, message, "undelivered")

    message.refresh_from_db()
    assert (message.status, message.error_code, message.error_message) == (
        Status.UNDELIVERED,
        30003,
        "The handset is unreachable.",
    )


def test_a_late_callback_leaves_a_final_status_and_its_error_alone(personas, client):
    connect(personas)
    message = handed(personas, status=Status.SENT)
    callback(client, message, "undelivered", 30003)

    callback(client, message, "sent")

    message.refresh_from_db()
    assert (message.status, message.error_code) == (Status.UNDELIVERED, 30003)
    assert message.error_message == "The handset is unreachable (off, out of coverage, or full)."


# --- The send task ----------------------------------------------------------------------------


def test_the_send_task_announces_what_twilio_took(
    personas, rsps, changes, django_capture_on_commit_callbacks
):
    connect(personas)
    alice = make_contact(personas, ALICE)
    messages_create(rsps)

    with django_capture_on_commit_callbacks(execute=True):
        message = message_send(organization=personas.org, contact=alice, body="Hi", source="api")

    message.refresh_from_db()
    assert message.status == Status.QUEUED
    # The message's creation (pending) is not announced: its caller has the row.
    assert changes == [change(message, "queued", "system")]


def test_the_send_task_announces_a_suppression_and_a_failure(
    personas, rsps, changes, django_capture_on_commit_callbacks
):
    connect(personas)
    alice = make_contact(personas, ALICE)
    opted, callbacks = created_unsent(
        personas, django_capture_on_commit_callbacks, contact=alice, body="One"
    )
    consent_opt_out(organization=personas.org, phone=ALICE, source=ConsentSource.INBOUND_KEYWORD)
    with django_capture_on_commit_callbacks(execute=True):
        for run in callbacks:
            run()
    messages_refuse(rsps, 21211, 400, "The 'To' number +14155550177 is not a valid phone number.")

    with django_capture_on_commit_callbacks(execute=True):
        failed = message_send(
            organization=personas.org, to="+14155550177", body="Two", source="api"
        )

    assert changes == [
        change(opted, "suppressed", "system"),
        change(failed, "failed", "system", 21211),
    ]


# --- The sweeper and a person's decision -----------------------------------------------------


def test_the_sweeper_announces_a_status_it_fetched(
    personas, rsps, clock, changes, django_capture_on_commit_callbacks
):
    connect(personas)
    message = handed_over(
        django_capture_on_commit_callbacks,
        personas,
        submitted=T0 - datetime.timedelta(hours=25),
        updated=T0 - datetime.timedelta(hours=25),
    )
    twilio_fetches(rsps, "undelivered", error_code=30003)

    with django_capture_on_commit_callbacks(execute=True):
        result = messages_sweep()

    assert result.fetched == 1
    assert changes == [change(message, "undelivered", "system", 30003)]


def test_a_persons_decision_not_to_send_is_announced_as_theirs(
    personas, clock, changes, django_capture_on_commit_callbacks
):
    connect(personas)
    message = submitting(
        django_capture_on_commit_callbacks,
        personas,
        since=datetime.timedelta(minutes=6),
        needs_attention=True,
    )

    with django_capture_on_commit_callbacks(execute=True):
        message_attention_resolve(
            message=message,
            action=CANCEL,
            by=Actor.for_membership(personas.membership("marketer")),
        )

    assert changes == [change(message, "failed", "ui")]
