"""An import's progress page: the progress bar and counts, polled while the import is open
and no longer once it has ended; Cancel and Resume; a failure's reason; the error report
(spreadsheet-safe, with a byte order mark), also once the file is removed; Discard, asked
first; and what viewers see."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from contacts.models import ContactImport, ImportFilePart, ImportIssue, ImportState
from tests.contacts.import_helpers import imported, uploaded
from tests.contacts.import_pages_helpers import IMPORTS, PEOPLE, POLLING, form_data, page_url, text

pytestmark = pytest.mark.django_db

TWO_BAD_ROWS = [
    ["phone", "first_name", "email", "notes"],
    ["+14155550100", "Ann", "ann@example.com", "fine"],
    ["not a phone", "=cmd", "", ""],
    ["+14155550101", "Bo", "not-an-email", "-5"],
]


def queued(personas, client, commits) -> ContactImport:
    """Started from its page, with the task held back."""
    contact_import = uploaded(personas.org, PEOPLE, by=personas.marketer)
    with commits(execute=True):
        client.post(page_url(contact_import, "start"), form_data(contact_import))
    contact_import.refresh_from_db()
    return contact_import


def test_an_open_import_shows_its_progress_and_is_polled(
    personas, held_imports, django_capture_on_commit_callbacks
):
    contact_import = queued(
        personas, personas.client("marketer"), django_capture_on_commit_callbacks
    )
    ContactImport.objects.filter(pk=contact_import.pk).update(
        state=ImportState.RUNNING, cursor=1, created=1
    )
    client = personas.client("viewer")

    page = client.get(page_url(contact_import))
    fragment = client.get(page_url(contact_import, "progress"))

    html = page.content.decode()
    progress = page_url(contact_import, "progress")
    assert f'hx-get="{progress}" {POLLING} hx-swap="outerHTML"' in html
    assert re.search(
        r'<script src="/static/tenants/vendor/htmx-2\.0\.11\.min\.[0-9a-f]+\.js"', html
    )
    assert '<progress max="3" value="1" aria-labelledby="import-done">33%</progress>' in html
    assert "Running" in text(page)
    assert "1 of 3 rows read (33%)" in text(page)
    assert "Created 1 Updated 0 Unchanged 0 Errors 0 Opted out 0" in text(page)
    assert "Cancel import" not in text(page)  # a viewer's
    assert fragment.status_code == 200
    assert POLLING in fragment.content.decode()
    assert "<html" not in fragment.content.decode()
    assert "1 of 3 rows read (33%)" in text(fragment)
    assert held_imports == [contact_import.pk]


def test_polling_stops_once_the_import_has_ended(personas):
    contact_import = imported(personas.org, PEOPLE)
    client = personas.client("marketer")

    page = client.get(page_url(contact_import))
    fragment = client.get(page_url(contact_import, "progress"))

    assert "hx-trigger" not in page.content.decode()
    assert "hx-trigger" not in fragment.content.decode()
    assert "Completed" in text(fragment)
    assert "3 of 3 rows read (100%)" in text(fragment)
    assert "Created 2 Updated 0 Unchanged 0 Errors 1 Opted out 0" in text(fragment)
    assert "Cancel import" not in text(fragment)
    assert "Resume import" not in text(fragment)


def test_cancel_stops_an_open_import_and_resume_carries_it_on(
    personas, held_imports, django_capture_on_commit_callbacks
):
    client = personas.client("marketer")
    contact_import = queued(personas, client, django_capture_on_commit_callbacks)
    page = client.get(page_url(contact_import))
    assert f'action="{page_url(contact_import, "cancel")}"' in page.content.decode()

    cancelled = client.post(page_url(contact_import, "cancel"))

    contact_import.refresh_from_db()
    assert cancelled.status_code == 302
    assert cancelled["Location"] == page_url(contact_import)
    assert contact_import.state == ImportState.CANCELLED
    assert contact_import.cancelled_by == personas.marketer
    after = client.get(page_url(contact_import))
    assert "Cancelled after 0 of 3 rows: those stay imported" in text(after)
    assert f'action="{page_url(contact_import, "resume")}"' in after.content.decode()
    assert "hx-trigger" not in after.content.decode()
    assert "Cancelled" in text(after)
    assert "by marketer@a.example.com" in text(after)

    with django_capture_on_commit_callbacks(execute=True):
        resumed = client.post(page_url(contact_import, "resume"))

    contact_import.refresh_from_db()
    assert contact_import.state == ImportState.QUEUED
    assert "Resumed from row 1 of 3." in text(client.get(resumed["Location"]))
    assert held_imports == [contact_import.pk, contact_import.pk]


def test_cancel_and_resume_are_refused_in_words_when_they_do_not_apply(personas):
    contact_import = imported(personas.org, PEOPLE)
    client = personas.client("marketer")

    cancel = client.post(page_url(contact_import, "cancel"))
    cancel_words = text(client.get(cancel["Location"]))
    resume = client.post(page_url(contact_import, "resume"))
    resume_words = text(client.get(resume["Location"]))

    assert "This import is completed: there is nothing to cancel." in cancel_words
    assert "only a cancelled or failed import can be resumed" in resume_words
    contact_import.refresh_from_db()
    assert contact_import.state == ImportState.COMPLETED


def test_a_failed_import_says_why_and_may_be_resumed(personas):
    contact_import = uploaded(personas.org, PEOPLE)
    ContactImport.objects.filter(pk=contact_import.pk).update(
        state=ImportState.FAILED, error="Line 3 cannot be read.", finished_at=timezone.now()
    )

    page = personas.client("marketer").get(page_url(contact_import))

    assert "The import failed: Line 3 cannot be read." in text(page)
    assert "Resume import" in text(page)
    assert "It carries on from row 1." in text(page)


# --- The error report -------------------------------------------------------------------------


def test_the_error_report_has_each_refused_row_with_its_line_reason_and_cells(personas):
    personas.org.time_zone = "Pacific/Kiritimati"  # a day ahead of UTC most of the time
    personas.org.save()
    contact_import = imported(personas.org, TWO_BAD_ROWS)
    client = personas.client("viewer")
    page = client.get(page_url(contact_import))

    response = client.get(page_url(contact_import, "errors.csv"))

    assert "Download the error report (2 rows)" in text(page)
    assert f'href="{page_url(contact_import, "errors.csv")}"' in page.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = timezone.localdate(timezone=ZoneInfo("Pacific/Kiritimati")).isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="import-errors-{today}.csv"'
    content = b"".join(response.streaming_content).decode("utf-8")
    assert content.startswith("\ufeff")
    assert content[1:].split("\r\n") == [
        "line,reason,phone,first_name,email,notes",
        '3,"A phone number has only digits, spaces, +, -, . and parentheses.",not a phone,\'=cmd,,',
        "4,“not-an-email” is not an e-mail address.,'+14155550101,Bo,not-an-email,'-5",
        "",
    ]


def test_the_error_report_keeps_lines_and_reasons_once_the_file_is_removed(personas):
    contact_import = imported(personas.org, TWO_BAD_ROWS)
    ImportFilePart.objects.filter(contact_import=contact_import).delete()
    ContactImport.objects.filter(pk=contact_import.pk).update(
        file_removed_at=timezone.now(), state=ImportState.CANCELLED
    )
    client = personas.client("marketer")

    page = client.get(page_url(contact_import))
    response = client.get(page_url(contact_import, "errors.csv"))

    assert "The file was removed on" in text(page)
    assert "the error report has the line numbers and reasons only" in text(page)
    assert "Resume import" not in text(page)
    lines = b"".join(response.streaming_content).decode("utf-8")[1:].split("\r\n")
    assert lines == [
        "line,reason,phone,first_name,email,notes",
        '3,"A phone number has only digits, spaces, +, -, . and parentheses."',
        "4,“not-an-email” is not an e-mail address.",
        "",
    ]


def test_no_report_is_offered_without_issues(personas):
    contact_import = imported(personas.org, [["phone"], ["+14155550100"]])

    page = text(personas.client("marketer").get(page_url(contact_import)))

    assert "Download the error report" not in page
    assert "Created 1 Updated 0 Unchanged 0 Errors 0" in page


# --- Discard ----------------------------------------------------------------------------------


def test_discard_asks_first_then_deletes_the_import_and_its_file(personas):
    contact_import = uploaded(personas.org, PEOPLE, name="people.csv")
    client = personas.client("marketer")
    mapping_page = client.get(page_url(contact_import))
    assert f'href="{page_url(contact_import, "discard")}"' in mapping_page.content.decode()

    asked = client.get(page_url(contact_import, "discard"))
    discarded = client.post(page_url(contact_import, "discard"))

    assert asked.status_code == 200
    assert "Discard the import of people.csv?" in text(asked)
    assert f'action="{page_url(contact_import, "discard")}"' in asked.content.decode()
    assert discarded.status_code == 302
    assert discarded["Location"] == IMPORTS
    assert "Discarded the import of people.csv." in text(client.get(IMPORTS))
    assert ContactImport.objects.count() == 0
    assert ImportFilePart.objects.count() == 0


def test_a_started_import_cannot_be_discarded(personas):
    contact_import = imported(personas.org, TWO_BAD_ROWS)
    client = personas.client("marketer")

    asked = client.get(page_url(contact_import, "discard"))
    asked_words = text(client.get(asked["Location"]))
    refused = client.post(page_url(contact_import, "discard"))

    assert asked.status_code == 302
    assert "Only an import that was never started can be discarded." in asked_words
    assert refused.status_code == 302
    assert "it can no longer be discarded" in text(client.get(refused["Location"]))
    assert ContactImport.objects.count() == 1
    assert ImportIssue.objects.count() == 2
