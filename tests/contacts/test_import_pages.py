"""CSV import pages: the upload (refused files in their own words, nothing stored), the
columns with their guesses and first values, the preview for the columns and options sent,
Start, refused mappings and options."""

from __future__ import annotations

import pytest

from contacts.models import Contact, ContactImport, ImportColumnMemory, ImportState
from tests.contacts.import_helpers import csv_text, uploaded
from tests.contacts.import_pages_helpers import (
    IMPORTS,
    PEOPLE,
    checked,
    form_data,
    page_url,
    post_file,
    selected,
    table,
    text,
    value,
)

pytestmark = pytest.mark.django_db


# --- The upload -------------------------------------------------------------------------------


def test_an_upload_leads_to_its_columns_with_the_guesses_and_the_preview(personas):
    client = personas.client("marketer")

    response = post_file(client, csv_text(PEOPLE).encode())

    contact_import = ContactImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == page_url(contact_import)
    assert contact_import.state == ImportState.UPLOADED
    assert contact_import.created_by == personas.marketer
    assert contact_import.organization == personas.org
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "people.csv: 3 rows. Check the columns and the preview" in text(page)
    assert [row[0] for row in table(page, "columns")] == PEOPLE[0]
    assert [row[1] for row in table(page, "columns")] == [
        "(415) 555-0100 415 555 0101 12",
        "Ann Bob Cy",
        "Lee",
        "ann@example.com",
        "1990-01-02",
        "likes cats",
    ]
    assert [selected(page, f"target_{i}") for i in range(6)] == [
        "phone",
        "first_name",
        "last_name",
        "email",
        "custom",
        "custom",
    ]
    assert value(page, "custom_4") == "birthday"
    assert value(page, "custom_5") == "notes"
    assert checked(page, "date_4")
    assert not checked(page, "date_5")
    assert selected(page, "country") == "US"
    assert checked(page, "existing", "fill_empty")
    assert not checked(page, "fire_automations")
    assert not checked(page, "consent")
    preview = table(page, "preview")
    assert preview[0] == [
        "2",
        "+14155550100",
        "Ann Lee",
        "ann@example.com",
        "America/Los_Angeles",
        "",
        "birthday : 1990-01-02 notes : likes cats",
        "",
    ]
    assert preview[1][:5] == ["3", "+14155550101", "Bob", "", "America/Los_Angeles"]
    assert preview[2][:2] == ["4", "12"]
    assert preview[2][7].startswith("not imported ")
    assert len(preview) == 3


def test_the_preview_says_which_rows_are_contacts_already_and_which_opted_out(personas, bob):
    from tests.contacts.helpers import add

    add(personas.org, "+14155550100", first_name="Ann")
    rows = [["phone"], ["+14155550100"], [bob.phone], ["+14155550199"]]
    contact_import = uploaded(personas.org, rows)

    page = personas.client("marketer").get(page_url(contact_import))

    notes = [row[7] for row in table(page, "preview")]
    assert notes == [
        "Already a contact: will be updated, its empty fields filled.",
        "Already a contact: will be updated, its empty fields filled. "
        "Opted out: stays opted out (no tags, no opt-in).",
        "",
    ]


def test_the_page_shows_the_upload_limits(personas):
    page = text(personas.client("marketer").get(IMPORTS))

    assert "Up to 50 MB and 1,000,000 rows" in page
    assert "UTF-8" in page
    assert "UTF-16" in page
    assert "Windows-1252" in page
    assert "Latin-1" in page
    assert "separated by a comma, semicolon or tab" in page
    assert 'accept=".csv,text/csv"' in personas.client("marketer").get(IMPORTS).content.decode()


BAD_FILES = [
    pytest.param(b"", "The file is empty.", id="empty"),
    pytest.param(
        b"phone,first_name\r\n", "The file has a header row but no contacts under it.", id="header"
    ),
    pytest.param(
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
        "This is not a text file (it holds binary data): upload a CSV file.",
        id="binary",
    ),
    pytest.param(
        b"PK\x03\x04\x14\x00\x06\x00",
        "This is an Excel workbook (.xlsx), not a CSV file",
        id="xlsx",
    ),
]


@pytest.mark.parametrize(("content", "message"), BAD_FILES)
def test_a_file_that_cannot_be_imported_is_refused_at_its_field_and_not_stored(
    personas, content, message
):
    response = post_file(personas.client("marketer"), content)

    assert response.status_code == 400
    assert message in text(response)
    assert 'class="field-error" id="upload-error"' in response.content.decode()
    assert ContactImport.objects.count() == 0


def test_a_file_over_the_size_limit_is_refused(personas, monkeypatch):
    monkeypatch.setattr("contacts.imports.reading.MAX_FILE_BYTES", 2 * 1024 * 1024)
    content = csv_text([["phone"], *[["+14155550100"]] * 200_000]).encode()

    response = post_file(personas.client("marketer"), content)

    assert response.status_code == 400
    assert "The file is 2.7 MB: an import takes at most 2 MB. Split it into smaller files." in (
        text(response)
    )
    assert ContactImport.objects.count() == 0


def test_no_file_is_asked_for(personas):
    response = personas.client("marketer").post(IMPORTS, {})

    assert response.status_code == 400
    assert "Choose a CSV file to upload." in text(response)
    assert ContactImport.objects.count() == 0


# --- Preview and Start ------------------------------------------------------------------------


def test_preview_shows_the_rows_for_the_columns_and_options_sent_and_changes_nothing(personas):
    contact_import = uploaded(personas.org, PEOPLE)
    before = ContactImport.objects.values().get()
    client = personas.client("marketer")
    data = form_data(
        contact_import,
        target_1="",
        target_2="first_name",
        target_5="tags",
        tags="fair",
        existing="skip",
        consent="1",
        action="preview",
    )

    page = client.post(page_url(contact_import, "start"), data)
    british = client.post(page_url(contact_import, "start"), {**data, "country": "GB"})

    assert page.status_code == 200
    assert table(page, "preview")[0][:7] == [
        "2",
        "+14155550100",
        "Lee",
        "ann@example.com",
        "America/Los_Angeles",
        "fair likes cats",
        "birthday : 1990-01-02",
    ]
    assert [selected(page, f"target_{i}") for i in (1, 2, 5)] == ["", "first_name", "tags"]
    assert value(page, "tags") == "fair"
    assert checked(page, "existing", "skip")
    assert checked(page, "consent")
    assert not checked(page, "fire_automations")
    # Read as British numbers, the file's American ones are refused.
    assert british.status_code == 200
    assert selected(british, "country") == "GB"
    line = table(british, "preview")[0]
    assert line[:2] == ["2", "(415) 555-0100"]
    assert line[7].startswith("not imported ")
    assert ContactImport.objects.values().get() == before
    assert Contact.objects.count() == 0


def test_start_runs_the_import_and_its_page_shows_the_result(
    personas, django_capture_on_commit_callbacks
):
    client = personas.client("marketer")
    contact_import = uploaded(personas.org, PEOPLE, by=personas.marketer)
    data = form_data(contact_import, tags="fair, vip", target_5=None)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(page_url(contact_import, "start"), data)

    assert response.status_code == 302
    assert response["Location"] == page_url(contact_import)
    contact_import.refresh_from_db()
    assert contact_import.state == ImportState.COMPLETED
    assert (contact_import.created, contact_import.errors) == (2, 1)
    assert contact_import.options["tags"] == ["fair", "vip"]
    assert contact_import.mapping["columns"][5] == ""
    ann = Contact.objects.get(phone="+14155550100")
    assert (ann.first_name, ann.custom_fields) == ("Ann", {"birthday": "1990-01-02"})
    assert ImportColumnMemory.objects.filter(organization=personas.org).count() == 6
    page = client.get(response["Location"])
    words = text(page)
    assert "Import started: 3 rows to read." in words
    assert "Completed" in words
    assert "3 of 3 rows read (100%)" in words
    assert "Created 2 Updated 0 Unchanged 0 Errors 1 Opted out 0" in words
    assert "Tags added to every contact fair, vip" in words
    assert "Existing contacts Fill empty fields only" in words
    assert "Numbers without +country code read as United States (+1) numbers" in words
    assert "Birthday custom field birthday, read as a date Notes ignored" in words
    assert "Download the error report (1 row)" in words
    assert "kept for 7 days after its upload, then removed" in words
    assert "hx-trigger" not in page.content.decode()


BAD_MAPPINGS = [
    pytest.param(
        {"target_0": ""}, "Choose the column that holds the phone numbers.", id="no-phone"
    ),
    pytest.param(
        {"target_2": "first_name"},
        "Two columns (“First Name” and “Last Name”) go to first_name: choose one.",
        id="twice",
    ),
    pytest.param(
        {"custom_5": ""}, "“Notes” goes to a custom field: give the field a name.", id="unnamed"
    ),
    pytest.param(
        {"custom_5": "My Notes"}, "“custom.My Notes”: a custom field name starts", id="bad-key"
    ),
    pytest.param({"target_3": "fax"}, "“fax” is not a target", id="unknown-target"),
    pytest.param({"country": "ZZ"}, "“ZZ” is not a country code", id="country"),
    pytest.param({"existing": "merge"}, "Existing contacts: choose", id="existing"),
    pytest.param({"tag_separator": "/"}, "Tags are separated by a comma", id="separator"),
]


@pytest.mark.parametrize("action", ["start", "preview"])
@pytest.mark.parametrize(("changes", "message"), BAD_MAPPINGS)
def test_a_refused_mapping_or_option_shows_the_form_again_and_changes_nothing(
    personas, changes, message, action
):
    contact_import = uploaded(personas.org, PEOPLE)
    before = ContactImport.objects.values().get()

    response = personas.client("marketer").post(
        page_url(contact_import, "start"), form_data(contact_import, action=action, **changes)
    )

    assert response.status_code == 400
    assert message in text(response)
    assert 'role="alert" id="import-error"' in response.content.decode()
    assert 'name="target_0"' in response.content.decode()  # the form again, as sent
    assert ContactImport.objects.values().get() == before
    assert Contact.objects.count() == 0


def test_a_guess_without_a_phone_column_asks_for_one_without_a_preview(personas):
    contact_import = uploaded(personas.org, [["Name", "City"], ["Ann", "Paris"]])

    page = personas.client("marketer").get(page_url(contact_import))

    assert page.status_code == 200
    assert "Choose the column that holds the phone numbers." in text(page)
    assert "No preview yet" in text(page)


def test_an_import_is_started_once(personas, django_capture_on_commit_callbacks):
    client = personas.client("marketer")
    contact_import = uploaded(personas.org, PEOPLE)
    data = form_data(contact_import)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(page_url(contact_import, "start"), data)

    again = client.post(page_url(contact_import, "start"), data)

    assert again.status_code == 302
    assert "This import was started already." in text(client.get(again["Location"]))
    contact_import.refresh_from_db()
    assert contact_import.created == 2
