"""Launches: a manual run worked a chunk at a time, each chunk once, resumable, cancellable;
a bulk change followed by one launch per automation."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from automations.models import AutomationRun, Launch, LaunchKind, LaunchState, Reason, RunState
from automations.services import enrolment, launches
from automations.services.automations import automation_pause
from automations.services.engine import runs_advance
from automations.services.launches import (
    STALE_AFTER,
    launch_cancel,
    launch_chunk,
    launch_create,
    launch_work,
    launches_resume,
)
from contacts.models import ConsentSource, Contact
from contacts.services.consent import consent_opt_out
from contacts.services.tags import contact_tags_add, contacts_tag_bulk_add
from messaging.models import Message
from messaging.services import dispatch
from tenants.errors import ApplicationError, ConflictError
from tests.automations.helpers import active, contact, send, template

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connection", "enqueued")]

MANUAL = {"type": "manual"}


@pytest.fixture
def chunk_of_three(monkeypatch):
    monkeypatch.setattr(launches, "CHUNK", 3)


def people(personas, count: int) -> list[Contact]:
    return [contact(personas, f"+1415555{n:04d}") for n in range(1, count + 1)]


def manual(personas):
    return active(
        personas, trigger=MANUAL, steps=[send(template(personas), respect_quiet_hours=False)]
    )


def test_a_manual_launch_enrols_each_contact_once_and_sends_their_first_step(
    personas, chunk_of_three
):
    automation = manual(personas)
    everyone = people(personas, 8)
    consent_opt_out(organization=personas.org, phone=everyone[0].phone, source=ConsentSource.USER)
    launch = launch_create(automation=automation, audience={"all": True}, by=personas.marketer)
    assert (launch.state, launch.total, launch.kind) == (
        LaunchState.PREPARING,
        8,
        LaunchKind.MANUAL,
    )

    assert launch_work(launch.pk) is False
    launch.refresh_from_db()
    assert (launch.state, launch.done, launch.enrolled, launch.skipped) == (
        LaunchState.COMPLETED,
        8,
        7,
        1,
    )
    assert launch.started_at
    assert launch.finished_at
    runs = AutomationRun.objects.filter(automation=automation)
    assert runs.count() == 8
    assert runs.get(contact=everyone[0]).reason == Reason.OPTED_OUT
    assert set(runs.values_list("event_key", flat=True)) == {launch.event_key}
    assert set(runs.values_list("source", flat=True)) == {"ui"}
    assert Message.objects.filter(source_ref=str(automation.public_id)).count() == 7


def test_a_launch_killed_between_chunks_resumes_without_duplicates(personas, chunk_of_three):
    automation = manual(personas)
    people(personas, 7)
    launch = launch_create(automation=automation, audience={"all": True})
    chunk = launch_chunk(launch.pk)  # the worker dies here: its first steps never ran
    assert chunk.more
    assert len(chunk.created) == 3
    launch.refresh_from_db()
    assert (launch.state, launch.done) == (LaunchState.RUNNING, 3)

    real = enrolment.runs_enrol

    def crash(**kwargs):
        real(**kwargs)  # the chunk's enrolments are written …
        raise ConnectionError("worker killed")  # … and the worker dies before the commit

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("automations.services.launches.runs_enrol", crash)
        with pytest.raises(ConnectionError):
            launch_chunk(launch.pk)
    launch.refresh_from_db()
    assert launch.done == 3  # the crashed chunk counted nothing
    assert AutomationRun.objects.count() == 3

    launch_work(launch.pk)  # the task again, delivered once more
    launch_work(launch.pk)  # and even twice
    launch.refresh_from_db()
    assert (launch.state, launch.done, launch.enrolled) == (LaunchState.COMPLETED, 7, 7)
    assert AutomationRun.objects.count() == 7
    # The first chunk's first steps never ran (the worker died after its commit): they are
    # due, and the engine's pass sends them.
    assert Message.objects.count() == 4
    assert runs_advance() == 3
    assert Message.objects.count() == 7


def test_cancel_stops_the_next_chunks(personas, chunk_of_three):
    automation = manual(personas)
    people(personas, 7)
    launch = launch_create(automation=automation, audience={"all": True})
    launch_chunk(launch.pk)
    launch_cancel(launch=launch, by=personas.marketer)
    assert launch_work(launch.pk) is False
    launch.refresh_from_db()
    assert (launch.state, launch.done, launch.cancelled_by) == (
        LaunchState.CANCELLED,
        3,
        personas.marketer,
    )
    assert AutomationRun.objects.count() == 3
    with pytest.raises(ConflictError):
        launch_cancel(launch=launch)


def test_an_audience_of_tags_and_a_paused_automation(personas, chunk_of_three):
    automation = manual(personas)
    everyone = people(personas, 5)
    for person in everyone[:2]:
        contact_tags_add(contact=person, names=["vip"], source="ui")
    launch = launch_create(automation=automation, audience={"has_all_tags": ["vip"]})
    assert launch.total == 2
    automation_pause(automation=automation)
    assert launch_chunk(launch.pk) == launches.Chunk(more=False)  # held while paused
    launch.refresh_from_db()
    assert (launch.state, launch.done) == (LaunchState.PREPARING, 0)
    with pytest.raises(ConflictError):
        launch_create(automation=automation, audience={"all": True})


def test_a_bad_audience_is_refused_and_nothing_is_stored(personas):
    automation = manual(personas)
    with pytest.raises(ApplicationError) as raised:
        launch_create(automation=automation, audience={"has_all_tags": 5})
    assert "audience.has_all_tags" in raised.value.fields
    assert not Launch.objects.exists()


def test_the_sweeper_resumes_a_launch_its_worker_left(personas, monkeypatch):
    automation = manual(personas)
    people(personas, 2)
    launch = launch_create(automation=automation, audience={"all": True})
    enqueued: list[int] = []
    monkeypatch.setattr("automations.tasks.work_launch.delay", enqueued.append)
    assert launches_resume() == 0  # touched just now
    later = timezone.now() + datetime.timedelta(minutes=3)
    assert launches_resume(now=later) == 1
    assert enqueued == [launch.pk] * launches.WORKERS  # as many tasks as a new launch gets
    assert launches_resume(now=later) == 0  # enqueued once, not at every pass


def test_a_bulk_tag_goes_through_one_launch_per_automation(
    personas, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr("contacts.signals.CHUNK_SIZE", 3)
    automation = active(
        personas,
        trigger={"type": "tag_added", "tag": "new-lead"},
        steps=[send(template(personas), respect_quiet_hours=False)],
    )
    people(personas, 7)
    with django_capture_on_commit_callbacks(execute=True):
        contacts_tag_bulk_add(
            organization=personas.org,
            contacts=Contact.objects.filter(organization=personas.org),
            name="new-lead",
            source="ui",
        )
    launch = Launch.objects.get()
    assert (launch.automation, launch.kind, launch.state) == (
        automation,
        LaunchKind.BULK_EVENT,
        LaunchState.COMPLETED,
    )
    assert (launch.total, launch.done, launch.enrolled) == (7, 7, 7)
    assert launch.audience == {"event": "tag_added", "tag": "new-lead"}
    assert AutomationRun.objects.filter(state=RunState.COMPLETED).count() == 7
    assert Message.objects.count() == 7


def test_a_bulk_launch_the_sweeper_gave_up_on_takes_its_late_chunks_and_completes(
    personas, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr("contacts.signals.CHUNK_SIZE", 3)
    active(
        personas,
        trigger={"type": "tag_added", "tag": "new-lead"},
        steps=[send(template(personas), respect_quiet_hours=False)],
    )
    people(personas, 7)
    with django_capture_on_commit_callbacks() as chunks:
        contacts_tag_bulk_add(
            organization=personas.org,
            contacts=Contact.objects.filter(organization=personas.org),
            name="new-lead",
            source="ui",
        )
    first, *late = chunks
    first()
    # The other chunks wait in a busy queue past the sweeper's patience.
    launches_resume(now=timezone.now() + STALE_AFTER + datetime.timedelta(seconds=1))
    launch = Launch.objects.get()
    assert (launch.state, launch.done) == (LaunchState.FAILED, 3)

    late[0]()
    launch.refresh_from_db()
    assert (launch.state, launch.error, launch.done) == (LaunchState.RUNNING, "", 6)
    for chunk in late[1:]:
        chunk()

    launch.refresh_from_db()
    assert (launch.state, launch.done, launch.enrolled) == (LaunchState.COMPLETED, 7, 7)
    assert Message.objects.count() == 7


def test_a_launchs_first_sends_are_batched_for_the_whole_launch_not_per_chunk(
    personas, monkeypatch, commits
):
    monkeypatch.setattr(launches, "CHUNK", 10)
    batches: list[list[int]] = []
    monkeypatch.setattr("messaging.services.sending.send_batches", dispatch.send_batches)
    monkeypatch.setattr("messaging.tasks.send_messages.delay", batches.append)
    automation = manual(personas)
    people(personas, 40)
    launch = launch_create(automation=automation, audience={"all": True})

    with commits():
        launch_work(launch.pk)

    # 40 messages among 16 send threads: batches of 3 (a chunk's 10 alone would go one by one).
    assert sorted(len(batch) for batch in batches) == [1] * 4 + [3] * 12
    assert sorted(pk for batch in batches for pk in batch) == sorted(
        Message.objects.filter(source_ref=str(automation.public_id)).values_list("pk", flat=True)
    )


def test_a_chunks_first_steps_use_the_facts_its_enrolment_read(personas, monkeypatch):
    from automations.services.facts import contact_facts

    read_again: list[int] = []

    def reading(*args, **kwargs):
        read_again.append(1)
        return contact_facts(*args, **kwargs)

    monkeypatch.setattr("automations.services.engine.contact_facts", reading)
    automation = manual(personas)
    people(personas, 5)
    launch = launch_create(automation=automation, audience={"all": True})

    launch_work(launch.pk)

    assert read_again == []
    assert Message.objects.filter(source_ref=str(automation.public_id)).count() == 5
