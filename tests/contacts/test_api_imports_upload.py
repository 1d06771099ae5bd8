"""``POST /api/v1/contacts/imports/``: a CSV uploaded and started in one call, with or without
its mapping and options; a refused upload, mapping, option or form leaves nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings

from contacts import api_import
from contacts.imports import reading, services
from contacts.models import (
    ConsentEvent,
    ConsentSource,
    Contact,
    ContactImport,
    ImportState,
)
from tests.contacts.api_import_helpers import (
    CAROL,
    FIELDS,
    IMPORTS,
    PEOPLE,
    content,
    detail,
    nothing_stored,
    post,
)
from tests.contacts.helpers import OTHER_PHONE, PHONE, add, error, tag_names
from tests.contacts.import_helpers import upload_file

pytestmark = pytest.mark.django_db


# --- Upload and start ---------------------------------------------------------------------


def test_an_upload_without_a_mapping_is_imported_with_the_guess(
    personas, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the run, once committed
        response = post(personas.api("marketer"), content(PEOPLE))

    assert response.status_code == 202, response.content
    body = response.json()
    assert set(body) == FIELDS
    contact_import = ContactImport.objects.get()
    assert body["id"] == str(contact_import.public_id)
    assert response["Location"] == f"{settings.PUBLIC_BASE_URL}{detail(contact_import)}"
    assert body["state"] == "queued"
    assert body["source"] == "api"
    assert body["created_by"] is None
    assert body["mapping"] == {"columns": ["phone", "first_name", "email"], "date_fields": []}
    assert body["options"]["existing"] == "fill_empty"
    assert contact_import.created_by is None

    progress = personas.api("viewer").get(detail(contact_import)).json()
    assert progress["state"] == "completed"
    assert (progress["total"], progress["rows_read"], progress["created"]) == (2, 2, 2)
    assert progress["finished_at"]
    alice = Contact.objects.get(organization=personas.org, phone=PHONE)
    assert (alice.first_name, alice.email) == ("Alice", "alice@example.com")
    assert Contact.objects.get(organization=personas.org, phone=OTHER_PHONE).first_name == "Bob"


def test_a_mapping_by_header_and_options_are_applied(personas, django_capture_on_commit_callbacks):
    add(personas.org, PHONE, first_name="Old", last_name="Name")
    rows = [
        ["Mobile", "Given", "Notes"],
        [PHONE, "Alice", "called twice"],
        [CAROL, "Carol", "new"],
    ]
    mapping = {"columns": {"Mobile": "phone", "Given": "first_name"}}
    options = {"tags": ["spring", "Fair 2026"], "existing": "overwrite", "consent": True}

    with django_capture_on_commit_callbacks(execute=True):
        response = post(personas.api("marketer"), content(rows), mapping=mapping, options=options)

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["mapping"] == {"columns": ["phone", "first_name", ""], "date_fields": []}
    assert body["options"]["tags"] == ["spring", "Fair 2026"]
    assert body["options"]["existing"] == "overwrite"
    assert body["options"]["consent"] is True
    contact_import = ContactImport.objects.get()
    assert (contact_import.created, contact_import.updated) == (1, 1)
    alice = Contact.objects.get(organization=personas.org, phone=PHONE)
    carol = Contact.objects.get(organization=personas.org, phone=CAROL)
    assert (alice.first_name, alice.last_name) == ("Alice", "Name")  # overwritten, kept
    assert alice.custom_fields == {}  # Notes was left out
    assert carol.custom_fields == {}
    assert tag_names(alice) == tag_names(carol) == {"spring", "Fair 2026"}
    events = ConsentEvent.objects.filter(organization=personas.org, source=ConsentSource.IMPORT)
    assert sorted(events.values_list("phone", "kind")) == [(PHONE, "opt_in"), (CAROL, "opt_in")]


def test_a_mapping_by_position_with_a_date_field(personas, django_capture_on_commit_callbacks):
    rows = [["tel", "when"], [PHONE, "2026-05-01"]]
    mapping = {"columns": ["phone", "custom.joined"], "date_fields": ["joined"]}

    with django_capture_on_commit_callbacks(execute=True):
        response = post(personas.api("marketer"), content(rows), mapping=mapping)

    assert response.status_code == 202, response.content
    assert response.json()["mapping"] == {
        "columns": ["phone", "custom.joined"],
        "date_fields": ["joined"],
    }
    assert Contact.objects.get(phone=PHONE).custom_fields == {"joined": "2026-05-01"}


@pytest.mark.parametrize(
    ("mapping", "words"),
    [
        ("{columns", "not valid JSON"),
        ({"columns": {"Nope": "phone"}}, "no column “Nope”"),
        ({"columns": ["first_name", "email", ""]}, "phone numbers"),
        ({"columns": ["phone"]}, "one target per column"),
        ({"columns": ["phone", "nickname", ""]}, "“nickname” is not a target"),
        ([], "an object with columns"),
        ({}, "an object with columns"),
        ('{"columns": ["phone", "\\u0000", ""]}', "NUL"),
    ],
)
def test_a_mapping_that_is_not_valid_leaves_nothing(
    personas, django_capture_on_commit_callbacks, held_imports, mapping, words
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post(personas.api("marketer"), content(PEOPLE), mapping=mapping)

    assert response.status_code == 400, response.content
    assert error(response)["code"] == "validation_error"
    assert list(error(response)["fields"]) == ["mapping"]
    assert words in error(response)["message"]
    assert ContactImport.objects.count() == 0
    assert nothing_stored()
    assert callbacks == []
    assert held_imports == []


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"existing": "sometimes"}, "options.existing"),
        ({"consent": "yes"}, "options.consent"),
        ({"country": "ZZ"}, "options.country"),
        ({"colour": "red"}, "options.colour"),
        ("[1, 2]", "options"),
        ("{'tags': 1}", "options"),
    ],
)
def test_options_that_are_not_valid_leave_nothing(personas, held_imports, options, field):
    response = post(personas.api("marketer"), content(PEOPLE), options=options)

    assert response.status_code == 400, response.content
    assert list(error(response)["fields"]) == [field]
    assert nothing_stored()
    assert held_imports == []


@pytest.mark.parametrize(
    ("file", "words"),
    [
        (b"", "The file is empty."),
        (b"phone,first_name\r\n", "a header row but no contacts"),
        (b"\x00\x01PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text file"),
        (b"PK\x03\x04\x14\x00\x06\x00", "Excel workbook"),
        (b'phone,name\r\n+14155550123,"Alice\r\n', "closing quote"),
    ],
)
def test_a_file_the_scan_refuses_is_a_400_and_leaves_nothing(
    personas, django_capture_on_commit_callbacks, file, words
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post(personas.api("marketer"), file)

    assert response.status_code == 400, response.content
    body = error(response)
    assert body["code"] == "invalid_file"
    assert words in body["message"]
    assert body["fields"] == {"file": [body["message"]]}
    assert nothing_stored()
    assert callbacks == []


def test_a_file_over_the_size_limit_is_a_413(personas, monkeypatch):
    monkeypatch.setattr(reading, "MAX_FILE_BYTES", 40)
    file = content([["phone"], *([PHONE] for _ in range(5))])
    assert len(file) > 40

    response = post(personas.api("marketer"), file)

    assert response.status_code == 413, response.content
    assert error(response)["code"] == "file_too_large"
    assert "an import takes at most" in error(response)["message"]
    assert list(error(response)["fields"]) == ["file"]
    assert nothing_stored()


def test_a_file_over_the_row_limit_is_a_413(personas, monkeypatch):
    monkeypatch.setattr(reading, "MAX_ROWS", 1)

    response = post(personas.api("marketer"), content(PEOPLE))

    assert response.status_code == 413, response.content
    assert error(response)["code"] == "file_too_large"
    assert "more than 1 rows" in error(response)["message"]
    assert nothing_stored()


def test_a_body_too_large_for_any_file_is_refused_before_it_is_read(personas, monkeypatch):
    monkeypatch.setattr(reading, "MAX_FILE_BYTES", 100)
    monkeypatch.setattr(settings, "DATA_UPLOAD_MAX_MEMORY_SIZE", 100)
    read: list[object] = []
    monkeypatch.setattr(api_import, "_form", lambda request: read.append(request))

    response = post(personas.api("marketer"), b"phone\r\n" + b"+14155550123\r\n" * 30)

    assert response.status_code == 413, response.content
    assert error(response)["code"] == "file_too_large"
    assert error(response)["message"].startswith("The upload is 0.0 MB")
    assert read == []
    assert nothing_stored()


def test_form_fields_over_the_memory_limit_are_a_413(personas, monkeypatch):
    monkeypatch.setattr(settings, "DATA_UPLOAD_MAX_MEMORY_SIZE", 200)

    response = post(personas.api("marketer"), content(PEOPLE), options={"tags": ["x" * 300]})

    assert response.status_code == 413, response.content
    assert error(response)["code"] == "request_too_large"
    assert nothing_stored()


def test_a_file_kept_on_disk_is_imported(personas, monkeypatch, django_capture_on_commit_callbacks):
    """Django keeps an upload over ``FILE_UPLOAD_MAX_MEMORY_SIZE`` in a temporary file."""
    monkeypatch.setattr(settings, "FILE_UPLOAD_MAX_MEMORY_SIZE", 10)
    kinds: list[str] = []
    upload = services.import_upload

    def spy(**kwargs: Any) -> ContactImport:
        kinds.append(type(kwargs["file"]).__name__)
        return upload(**kwargs)

    monkeypatch.setattr(api_import, "import_upload", spy)

    with django_capture_on_commit_callbacks(execute=True):
        response = post(personas.api("marketer"), content(PEOPLE))

    assert response.status_code == 202, response.content
    assert kinds == ["TemporaryUploadedFile"]
    assert ContactImport.objects.get().state == ImportState.COMPLETED
    assert Contact.objects.filter(organization=personas.org).count() == 2


def test_a_missing_file_is_a_400(personas):
    response = post(personas.api("marketer"), None, mapping={"columns": ["phone"]})

    assert response.status_code == 400, response.content
    assert list(error(response)["fields"]) == ["file"]
    assert "“file”" in error(response)["message"]
    assert nothing_stored()


def test_a_file_sent_as_text_is_a_missing_file(personas):
    response = personas.api("marketer").post(
        IMPORTS, {"file": "phone\n+14155550123\n"}, format="multipart"
    )

    assert response.status_code == 400, response.content
    assert list(error(response)["fields"]) == ["file"]


def test_an_unknown_field_is_a_400(personas):
    response = post(personas.api("marketer"), content(PEOPLE), option={"tags": ["x"]})

    assert response.status_code == 400, response.content
    assert list(error(response)["fields"]) == ["option"]
    assert nothing_stored()


def test_a_nul_in_a_form_field_is_a_400_naming_it(personas):
    response = post(personas.api("marketer"), content(PEOPLE), mapping="\x00")

    assert response.status_code == 400, response.content
    assert error(response)["fields"] == {"mapping": ["NUL characters are not allowed."]}
    assert nothing_stored()


def test_a_nul_in_a_form_field_name_is_a_400_naming_it(personas):
    data = {"file": upload_file(content(PEOPLE)), "map\x00ping": "{}"}

    response = personas.api("marketer").post(IMPORTS, data, format="multipart")

    assert response.status_code == 400, response.content
    assert error(response)["fields"] == {"map\ufffdping": ["NUL characters are not allowed."]}
    assert nothing_stored()


def test_too_many_form_fields_is_the_apis_400(personas, monkeypatch):
    monkeypatch.setattr(settings, "DATA_UPLOAD_MAX_NUMBER_FIELDS", 2)

    response = post(personas.api("marketer"), content(PEOPLE), mapping={}, options={}, more="x")

    assert response.status_code == 400, response.content
    assert error(response)["code"] == "bad_request"
    assert nothing_stored()


def test_a_json_body_is_a_415(personas):
    response = personas.api("marketer").post(IMPORTS, {"file": "x"}, format="json")

    assert response.status_code == 415
    assert error(response)["code"] == "unsupported_media_type"
    assert "multipart/form-data" in error(response)["message"]
    assert nothing_stored()
