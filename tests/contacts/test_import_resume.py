"""An import killed, cancelled or resumed writes every row once; old files are removed."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from contacts.imports import files, run
from contacts.imports.files import import_report, imports_sweep
from contacts.imports.run import import_work, imports_resume
from contacts.imports.services import import_cancel, import_resume, import_start
from contacts.models import (
    ConsentEvent,
    Contact,
    ContactImport,
    ContactTag,
    ImportedNumber,
    ImportFilePart,
    ImportIssue,
    ImportState,
)
from contacts.services.bulk import contacts_upsert_many
from tenants.errors import ConflictError
from tests.contacts.import_helpers import uploaded

pytestmark = pytest.mark.django_db

ROWS = [["Phone", "Name", "Tags"]] + [[f"+1415555{n:04d}", f"P{n}", "vip"] for n in range(10)]
ROWS.insert(4, ["", "No phone", ""])  # line 5: reported once, however often the run restarts


@pytest.fixture(autouse=True)
def batches_of_three(monkeypatch):
    monkeypatch.setattr(run, "BATCH", 3)


@pytest.fixture
def started(personas, django_capture_on_commit_callbacks):
    """An import of ROWS started (its task enqueued once the start commits)."""

    def start() -> ContactImport:
        contact_import = uploaded(personas.org, ROWS)
        with django_capture_on_commit_callbacks(execute=True):
            import_start(contact_import=contact_import, options={"consent": True})
        return contact_import

    return start


def assert_imported_once(contact_import: ContactImport) -> None:
    contact_import.refresh_from_db()
    assert contact_import.state == ImportState.COMPLETED
    assert (contact_import.cursor, contact_import.total) == (11, 11)
    assert (contact_import.created, contact_import.errors) == (10, 1)
    assert Contact.objects.count() == 10
    assert ContactTag.objects.count() == 10
    assert ConsentEvent.objects.count() == 10
    assert list(ImportIssue.objects.values_list("line", flat=True)) == [5]
    assert ImportedNumber.objects.count() == 10


def test_a_worker_killed_mid_batch_is_resumed_without_duplicates(
    started, held_imports, monkeypatch
):
    contact_import = started()
    real = contacts_upsert_many
    calls = []

    def killed(**kwargs):
        calls.append(1)
        result = real(**kwargs)  # the batch's contacts are written …
        if len(calls) == 2:
            raise ConnectionError("worker killed")  # … and the worker dies before the commit
        return result

    monkeypatch.setattr(run, "contacts_upsert_many", killed)
    with pytest.raises(ConnectionError):
        import_work(contact_import.pk)
    contact_import.refresh_from_db()
    assert (contact_import.state, contact_import.cursor) == (ImportState.RUNNING, 3)
    assert Contact.objects.count() == 3

    monkeypatch.setattr(run, "contacts_upsert_many", real)
    assert import_work(contact_import.pk) is False

    assert_imported_once(contact_import)


def test_the_sweeper_starts_an_import_whose_worker_stopped(started, held_imports):
    contact_import = started()
    assert held_imports == [contact_import.pk]
    import_work(contact_import.pk, budget_seconds=0)  # one batch, then the worker is gone
    held_imports.clear()

    assert imports_resume() == 0  # touched just now: its worker may be busy
    later = timezone.now() + run.STALE_AFTER + datetime.timedelta(seconds=1)
    assert imports_resume(now=later) == 1
    assert held_imports == [contact_import.pk]
    assert imports_resume(now=later) == 0  # touched: not enqueued twice

    import_work(contact_import.pk)
    assert_imported_once(contact_import)


def test_a_cancelled_import_stops_and_a_resumed_one_carries_on_from_its_cursor(
    personas, started, held_imports, django_capture_on_commit_callbacks
):
    contact_import = started()
    assert import_work(contact_import.pk, budget_seconds=0) is True  # one batch done

    cancelled = import_cancel(contact_import=contact_import, by=personas.marketer)
    assert (cancelled.state, cancelled.cancelled_by, cancelled.cursor) == (
        ImportState.CANCELLED,
        personas.marketer,
        3,
    )
    assert import_work(contact_import.pk) is False  # the queued task finds it cancelled
    assert Contact.objects.count() == 3
    with pytest.raises(ConflictError):
        import_cancel(contact_import=contact_import)

    held_imports.clear()
    with django_capture_on_commit_callbacks(execute=True):
        resumed = import_resume(contact_import=contact_import)
    assert resumed.state == ImportState.QUEUED
    assert held_imports == [contact_import.pk]
    import_work(contact_import.pk)

    assert_imported_once(contact_import)
    with pytest.raises(ConflictError):
        import_resume(contact_import=contact_import)


def test_two_workers_on_one_import_do_each_batch_once(started, held_imports):
    contact_import = started()
    # A second task for the same import (the sweeper's, say) runs while the first is between
    # batches: whichever reaches a batch first does it, the other stops there.
    assert import_work(contact_import.pk, budget_seconds=0) is True
    stale = ContactImport.objects.get(pk=contact_import.pk)
    assert run._batch(contact_import.pk, 0, []) is False  # cursor moved on: not again
    import_work(stale.pk)

    assert_imported_once(contact_import)


def test_an_import_can_be_started_once(started, held_imports):
    contact_import = started()

    with pytest.raises(ConflictError) as raised:
        import_start(contact_import=contact_import)
    assert raised.value.code == "import_started"


def test_files_are_removed_after_seven_days_and_the_report_keeps_lines_and_reasons(
    personas, started, held_imports
):
    contact_import = started()
    import_work(contact_import.pk)
    waiting = uploaded(personas.org, ROWS)  # uploaded, never started

    assert imports_sweep() == 0
    week = timezone.now() + datetime.timedelta(days=files.FILE_DAYS, seconds=1)
    assert imports_sweep(now=week) == 2

    assert ImportFilePart.objects.count() == 0
    assert ImportedNumber.objects.count() == 0
    contact_import.refresh_from_db()
    waiting.refresh_from_db()
    assert contact_import.file_removed_at is not None
    assert (contact_import.state, contact_import.created) == (ImportState.COMPLETED, 10)
    assert waiting.state == ImportState.CANCELLED  # can no longer be started
    assert list(import_report(contact_import)) == [
        ["line", "reason", "Phone", "Name", "Tags"],
        ["5", "No phone number."],
    ]
    assert imports_sweep(now=week) == 0


def test_beat_resumes_stalled_imports_every_minute_and_removes_old_files_nightly(
    personas, started, held_imports
):
    from config.celery import app
    from contacts import tasks

    schedule = app.conf.beat_schedule
    assert schedule["resume-imports"] == {"task": "contacts.tasks.resume_imports", "schedule": 60.0}
    assert schedule["remove-old-import-files"]["task"] == "contacts.tasks.remove_old_import_files"
    contact_import = started()
    ContactImport.objects.filter(pk=contact_import.pk).update(
        updated_at=timezone.now() - run.STALE_AFTER * 2,
        created_at=timezone.now() - datetime.timedelta(days=files.FILE_DAYS + 1),
    )
    held_imports.clear()

    assert tasks.resume_imports() == 1
    assert held_imports == [contact_import.pk]
    assert tasks.remove_old_import_files() == 1
    assert ImportFilePart.objects.count() == 0
