"""CSV import pages: the list of every import, and who may see and do what (viewers read,
other organizations and unknown ids are not found, visitors sign in first)."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from contacts.models import ContactImport
from tests.contacts.import_helpers import csv_text, uploaded
from tests.contacts.import_pages_helpers import (
    IMPORTS,
    PEOPLE,
    form_data,
    page_url,
    post_file,
    table,
    text,
)
from tests.factories import page_text

pytestmark = pytest.mark.django_db


# --- Every import -----------------------------------------------------------------------------


def test_the_list_shows_past_imports_with_their_counts_in_the_organizations_time(
    personas, django_capture_on_commit_callbacks
):
    personas.org.time_zone = "Asia/Tokyo"
    personas.org.save()
    done = uploaded(personas.org, PEOPLE, by=personas.marketer, name="spring.csv")
    with django_capture_on_commit_callbacks(execute=True):
        personas.client("marketer").post(page_url(done, "start"), form_data(done))
    waiting = uploaded(personas.org, PEOPLE, by=personas.owner, name="later.csv")
    uploaded(personas.other_org, PEOPLE, name="theirs.csv")

    page = personas.client("viewer").get(IMPORTS)

    local = timezone.localtime(done.created_at, ZoneInfo("Asia/Tokyo")).strftime("%b %-d, %Y %H:%M")
    rows = table(page, "imports")
    assert rows == [
        [
            "later.csv",
            f"Olivia Owner {_shown(waiting.created_at)} JST",
            "Waiting for its columns",
            "3",
            "0",
            "0",
            "0",
            "0",
        ],
        ["spring.csv", f"marketer@a.example.com {local} JST", "Completed", "3", "2", "0", "0", "1"],
    ]
    assert f'href="{page_url(done)}"' in page.content.decode()
    assert "theirs.csv" not in text(page)


def _shown(moment: datetime.datetime) -> str:
    return timezone.localtime(moment, ZoneInfo("Asia/Tokyo")).strftime("%b %-d, %Y %H:%M")


def test_the_list_is_paginated_by_25(personas):
    for index in range(26):
        uploaded(personas.org, PEOPLE, name=f"file-{index:02}.csv")
    client = personas.client("marketer")

    first = client.get(IMPORTS)
    second = client.get(IMPORTS + "?page=2")

    assert len(table(first, "imports")) == 25
    assert table(first, "imports")[0][0] == "file-25.csv"
    assert "Page 1 of 2" in text(first)
    assert [row[0] for row in table(second, "imports")] == ["file-00.csv"]


def test_the_list_says_when_there_are_no_imports(personas):
    page = text(personas.client("marketer").get(IMPORTS))

    assert "No imports yet" in page


def test_the_contact_list_leads_to_the_import_for_writers_only(personas):
    writer = page_text(personas.client("marketer").get("/contacts/"))
    viewer = page_text(personas.client("viewer").get("/contacts/"))

    assert f'href="{IMPORTS}">Import CSV</a>' in writer
    assert ">Export CSV</a>" in writer
    assert IMPORTS not in viewer
    assert ">Export CSV</a>" in viewer


# --- Who may see and do what ------------------------------------------------------------------


def test_a_viewer_reads_the_list_and_the_import_without_any_form(personas):
    contact_import = uploaded(personas.org, PEOPLE)
    client = personas.client("viewer")

    listing = client.get(IMPORTS)
    detail = client.get(page_url(contact_import))

    assert listing.status_code == 200
    assert detail.status_code == 200
    assert 'type="file"' not in listing.content.decode()
    assert "No imports yet" not in text(listing)
    assert "A marketer chooses its columns and starts it." in text(detail)
    assert "<form" not in detail.content.decode().split('<main id="main"')[1]
    assert "discard" not in detail.content.decode()


VIEWER_WRITES = ["start", "cancel", "resume", "discard"]


@pytest.mark.parametrize("action", VIEWER_WRITES)
def test_a_viewer_may_not_upload_start_cancel_resume_or_discard(personas, action):
    contact_import = uploaded(personas.org, PEOPLE)
    before = ContactImport.objects.values().get()
    client = personas.client("viewer")

    response = client.post(page_url(contact_import, action), form_data(contact_import))
    upload = post_file(client, csv_text(PEOPLE).encode())

    assert response.status_code == 403
    assert upload.status_code == 403
    assert ContactImport.objects.values().get() == before
    assert client.get(page_url(contact_import, "discard")).status_code == 403


ROUTES = [
    ("get", ""),
    ("get", "progress"),
    ("get", "errors.csv"),
    ("post", "start"),
    ("post", "cancel"),
    ("post", "resume"),
    ("get", "discard"),
    ("post", "discard"),
]


@pytest.mark.parametrize(("method", "action"), ROUTES)
def test_another_organizations_import_is_not_found(personas, method, action):
    contact_import = uploaded(personas.org, PEOPLE)
    before = ContactImport.objects.values().get()

    response = getattr(personas.client("outsider"), method)(
        page_url(contact_import, action), form_data(contact_import) if method == "post" else None
    )

    assert response.status_code == 404
    assert "contacts.csv" not in text(response)
    assert ContactImport.objects.values().get() == before


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "5f0c3a1e-8d2b-4c7a-9e61-0b4d2f8a7c35"])
@pytest.mark.parametrize(("method", "action"), ROUTES)
def test_a_malformed_or_unknown_import_id_is_not_found(personas, method, action, bad_id):
    url = f"{IMPORTS}{bad_id}/{action}{'' if not action or action.endswith('.csv') else '/'}"

    response = getattr(personas.client("owner"), method)(url)

    assert response.status_code == 404


@pytest.mark.parametrize(("method", "action"), [("get", None), ("post", None), *ROUTES])
def test_anonymous_visitors_are_sent_to_the_login_page(client, personas, method, action):
    contact_import = uploaded(personas.org, PEOPLE)
    url = IMPORTS if action is None else page_url(contact_import, action)

    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={url}"
