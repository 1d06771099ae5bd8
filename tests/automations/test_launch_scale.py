"""A launch to 10,000 contacts on PostgreSQL: each enrolled exactly once and sent its first
message once, through a worker that dies mid-chunk and a chunk worked twice; a cancel stops
it before its next chunk."""

from __future__ import annotations

import pytest
from django.db import connection as db
from django.db.models import Count

from automations.models import AutomationRun, LaunchState, RunState
from automations.services import enrolment, launches
from automations.services.engine import runs_advance_due
from automations.services.launches import (
    launch_cancel,
    launch_chunk,
    launch_create,
    launch_work,
)
from contacts.models import Contact
from messaging.models import Message
from tests.automations.helpers import active, send, template
from tests.conftest import require_service

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connection")]

SIZE = 10_000


@pytest.fixture
def audience(personas):
    require_service("PostgreSQL (DATABASE_URL)", db.vendor == "postgresql")
    Contact.objects.bulk_create(
        Contact(
            organization=personas.org,
            phone=f"+1415{n:07d}",
            first_name=f"Ada{n % 50}",
            time_zone="America/New_York",
        )
        for n in range(2_000_000, 2_000_000 + SIZE)
    )
    return active(
        personas,
        trigger={"type": "manual"},
        steps=[send(template(personas), respect_quiet_hours=False)],
    )


def test_a_launch_killed_mid_chunk_and_a_chunk_worked_twice_enrol_each_contact_once(
    personas, audience, enqueued, monkeypatch, django_capture_on_commit_callbacks
):
    launch = launch_create(automation=audience, audience={"all": True}, by=personas.marketer)
    assert launch.total == SIZE
    # Three chunks whose worker dies before their first steps: those are due, for the beat.
    for _ in range(3):
        launch_chunk(launch.pk)

    # The worker dies inside the fourth chunk: its transaction is rolled back.
    real_enrol = enrolment.runs_enrol

    def dies(**kwargs):
        real_enrol(**kwargs)
        raise SystemExit("killed")

    monkeypatch.setattr(launches, "runs_enrol", dies)
    with pytest.raises(SystemExit):
        launch_chunk(launch.pk)
    monkeypatch.setattr(launches, "runs_enrol", real_enrol)
    launch.refresh_from_db()
    assert (launch.state, launch.done, launch.enrolled) == (LaunchState.RUNNING, 3000, 3000)

    # A chunk done before is worked again (its cursor lost): nobody is enrolled twice.
    type(launch).objects.filter(pk=launch.pk).update(cursor=launch.cursor - 1000)
    with django_capture_on_commit_callbacks(execute=True):  # the sends are enqueued on commit
        assert launch_work(launch.pk) is False
        while runs_advance_due():
            pass

    launch.refresh_from_db()
    assert launch.state == LaunchState.COMPLETED
    assert launch.done == SIZE
    assert (launch.enrolled, launch.skipped) == (SIZE, 0)
    runs = AutomationRun.objects.filter(automation=audience)
    assert runs.count() == SIZE
    assert not runs.values("contact_id").annotate(n=Count("pk")).filter(n__gt=1).exists()
    assert set(runs.values_list("state", flat=True)) == {RunState.COMPLETED}
    messages = Message.objects.filter(source_ref=str(audience.public_id))
    assert messages.count() == SIZE
    assert messages.values("contact_id").distinct().count() == SIZE
    assert sorted(enqueued) == sorted(messages.values_list("pk", flat=True))


def test_a_cancelled_launch_works_no_further_chunk(personas, audience, enqueued):
    launch = launch_create(automation=audience, audience={"all": True})
    launch_chunk(launch.pk)
    launch_cancel(launch=launch, by=personas.marketer)

    assert launch_work(launch.pk) is False
    launch.refresh_from_db()
    assert (launch.state, launch.done) == (LaunchState.CANCELLED, 1000)
    assert AutomationRun.objects.filter(automation=audience).count() == 1000


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_one_launch_enrol_and_text_each_contact_once(personas, audience, enqueued):
    import threading

    from django.db import connections

    launch = launch_create(automation=audience, audience={"all": True})
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            launch_work(launch.pk)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(launches.WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    launch.refresh_from_db()
    assert (launch.state, launch.done, launch.enrolled) == (LaunchState.COMPLETED, SIZE, SIZE)
    runs = AutomationRun.objects.filter(automation=audience)
    assert runs.count() == SIZE
    assert not runs.values("contact_id").annotate(n=Count("pk")).filter(n__gt=1).exists()
    messages = Message.objects.filter(source_ref=str(audience.public_id))
    assert messages.values("contact_id").distinct().count() == messages.count() == SIZE
