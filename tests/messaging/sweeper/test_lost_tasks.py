"""The sweeper finds messages whose send task was lost and enqueues them again; beat runs it."""

from __future__ import annotations

import datetime

import pytest

from config.celery import app as celery_app
from messaging.models import Message, Status
from messaging.services import sweeper
from messaging.services.dispatch import messages_enqueue_due
from messaging.tasks import sweep_messages
from tests import twilio_mocks as tw
from tests.connections.helpers import connect
from tests.messaging.helpers import (
    expected_form,
    forms,
    messages_create,
)
from tests.messaging.sweeper.helpers import (
    ALICE,
    CREATE,
    SID,
    T0,
    ago,
    created,
    done,
    event,
    events,
    row,
)

# --- Lost tasks ------------------------------------------------------------------------------


@pytest.mark.parametrize("send_after", [None, ago(minutes=10)], ids=["now", "due earlier"])
@pytest.mark.django_db
def test_a_lost_send_task_is_enqueued_again_and_the_message_sent(
    personas, rsps, clock, sweep, django_capture_on_commit_callbacks, send_after
):
    connect(personas)
    message = created(django_capture_on_commit_callbacks, personas)
    Message.objects.filter(pk=message.pk).update(enqueued_at=ago(minutes=3), send_after=send_after)
    messages_create(rsps, sid=SID)

    result = sweep()

    assert done(result) == {"requeued": 1}
    message.refresh_from_db()
    assert message.enqueued_at == T0
    assert (message.status, message.sid, message.attempts) == (Status.QUEUED, SID, 1)
    assert events(message) == ["pending", "requeued", "queued"]
    assert event(message, "requeued").params == {"enqueued_at": str(ago(minutes=3))}
    assert tw.requests_made(rsps) == [CREATE]
    assert forms(rsps) == [expected_form(message, to=ALICE, body="Hi")]


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"enqueued_at": ago(minutes=1)}, id="enqueued a minute ago"),
        pytest.param(
            {"enqueued_at": ago(minutes=3), "send_after": T0 + datetime.timedelta(minutes=10)},
            id="due later",
        ),
        pytest.param(
            {"enqueued_at": ago(minutes=3), "status": Status.QUEUED, "sid": SID},
            id="not pending",
        ),
    ],
)
@pytest.mark.django_db
def test_a_message_whose_task_may_still_run_is_left_alone(
    personas, rsps, clock, sweep, django_capture_on_commit_callbacks, fields
):
    connect(personas)
    message = created(django_capture_on_commit_callbacks, personas)
    Message.objects.filter(pk=message.pk).update(**fields)
    before = row(message)

    assert done(sweep()) == {}

    assert row(message) == before
    assert events(message) == ["pending"]
    assert tw.requests_made(rsps) == []


@pytest.mark.django_db
def test_a_message_whose_enqueue_never_ran_is_still_sent(
    personas, rsps, clock, sweep, django_capture_on_commit_callbacks
):
    """The on-commit enqueue may never run (the process dies right after the commit, or an
    earlier on-commit callback raises): ``enqueued_at`` is stamped with the row, so the sweeper
    finds it two minutes later."""
    connect(personas)
    message = created(django_capture_on_commit_callbacks, personas)  # its callback is dropped
    assert row(message)["enqueued_at"] == T0
    messages_create(rsps, sid=SID)

    for _minute in range(10):  # ten minutes of beat: enqueue-due and the sweeper
        clock.advance(minutes=1)
        with django_capture_on_commit_callbacks(execute=True):
            messages_enqueue_due()
        sweep()

    message.refresh_from_db()
    assert (message.status, message.sid) == (Status.QUEUED, SID), (
        "a pending message never enqueued is never sent: neither beat task picks it up"
    )
    assert tw.requests_made(rsps) == [CREATE]


# --- Beat ------------------------------------------------------------------------------------


def test_beat_runs_the_sweeper_every_minute():
    entry = celery_app.conf.beat_schedule["sweep-messages"]
    assert entry["task"] == "messaging.tasks.sweep_messages"
    assert entry["schedule"] == 60.0
    assert "messaging.tasks.sweep_messages" in celery_app.tasks


@pytest.mark.django_db
def test_the_sweep_task_returns_its_counts(personas, clock, django_capture_on_commit_callbacks):
    connect(personas)
    message = created(django_capture_on_commit_callbacks, personas)
    Message.objects.filter(pk=message.pk).update(enqueued_at=ago(minutes=3))

    with django_capture_on_commit_callbacks(execute=False):  # the requeued send is not run
        counts = sweep_messages.delay().get()

    assert counts == {
        "requeued": 1,
        "adopted": 0,
        "resent": 0,
        "gave_up": 0,
        "ambiguous": 0,
        "fetched": 0,
        "twilio_errors": 0,
    }


@pytest.mark.django_db
def test_one_pass_requeues_every_lost_task_a_batch_at_a_time_within_its_time(
    personas, clock, monkeypatch, django_capture_on_commit_callbacks
):
    """After an outage thousands may be waiting: a pass takes batch after batch (here of 2)
    until none is left, or stops after the batch that used up its time."""
    connect(personas)
    monkeypatch.setattr(sweeper, "BATCH", 2)
    lost = [created(django_capture_on_commit_callbacks, personas, to=ALICE) for _ in range(5)]
    ids = [message.pk for message in lost]
    Message.objects.filter(pk__in=ids).update(enqueued_at=ago(minutes=3))

    with django_capture_on_commit_callbacks(execute=False) as sends:
        late = sweeper.messages_sweep(time_budget=-1)
    assert (late.requeued, len(sends)) == (2, 1)  # out of time: the first batch only

    with django_capture_on_commit_callbacks(execute=False) as sends:
        result = sweeper.messages_sweep()
    assert (result.requeued, len(sends)) == (3, 2)
    assert set(Message.objects.filter(pk__in=ids).values_list("enqueued_at", flat=True)) == {T0}
    assert [events(message) for message in lost] == [["pending", "requeued"]] * 5
