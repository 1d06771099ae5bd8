"""``/api/v1/contacts/imports/``: a CSV uploaded and started in one call, its progress, its
error report, cancelling it; what a refused upload leaves (nothing), roles and organizations."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings
from django.http import StreamingHttpResponse
from rest_framework.test import APIClient

from contacts import api_import, tasks
from contacts.imports import reading, services
from contacts.models import (
    ConsentEvent,
    ConsentSource,
    Contact,
    ContactImport,
    ImportColumnMemory,
    ImportFilePart,
    ImportState,
)
from tests.contacts.helpers import OTHER_PHONE, PHONE, add, error, tag_names
from tests.contacts.import_helpers import csv_text, imported, run, upload_file, uploaded

pytestmark = pytest.mark.django_db

IMPORTS = "/api/v1/contacts/imports/"
CAROL = "+14155550125"
FIELDS = {
    "id",
    "state",
    "source",
    "file_name",
    "file_size",
    "encoding",
    "delimiter",
    "header",
    "mapping",
    "options",
    "total",
    "rows_read",
    "created",
    "updated",
    "unchanged",
    "errors",
    "opted_out",
    "error",
    "created_by",
    "cancelled_by",
    "created_at",
    "started_at",
    "finished_at",
    "file_removed_at",
    "errors_url",
}
PEOPLE = [
    ["Phone", "First Name", "Email"],
    [PHONE, "Alice", "alice@example.com"],
    [OTHER_PHONE, "Bob", ""],
]


def content(rows: list[list[str]], delimiter: str = ",") -> bytes:
    return csv_text(rows, delimiter).encode()


def form(file: bytes | None, **fields: Any) -> dict[str, Any]:
    """The multipart form: the file, and each other field as JSON (a str as it is)."""
    data: dict[str, Any] = {} if file is None else {"file": upload_file(file)}
    for name, value in fields.items():
        data[name] = value if isinstance(value, str) else json.dumps(value)
    return data


def post(api: Any, file: bytes | None, **fields: Any) -> Any:
    return api.post(IMPORTS, form(file, **fields), format="multipart")


def detail(contact_import: ContactImport | str, tail: str = "") -> str:
    key = contact_import if isinstance(contact_import, str) else contact_import.public_id
    return f"{IMPORTS}{key}/{tail}"


def nothing_stored() -> bool:
    return (
        not ContactImport.objects.exists()
        and not ImportFilePart.objects.exists()
        and not ImportColumnMemory.objects.exists()
        and not Contact.objects.exists()
    )


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The imports enqueued for a worker, which does not run (so they stay queued)."""
    calls: list[int] = []
    monkeypatch.setattr(tasks.work_import, "delay", calls.append)
    return calls


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
    personas, django_capture_on_commit_callbacks, enqueued, mapping, words
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
    assert enqueued == []


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
def test_options_that_are_not_valid_leave_nothing(personas, enqueued, options, field):
    response = post(personas.api("marketer"), content(PEOPLE), options=options)

    assert response.status_code == 400, response.content
    assert list(error(response)["fields"]) == [field]
    assert nothing_stored()
    assert enqueued == []


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


# --- Progress and the list ----------------------------------------------------------------


def test_the_detail_answers_the_progress_and_counts(personas):
    rows = [
        ["phone", "first_name"],
        [PHONE, "Alice"],
        ["not a phone", "Nobody"],
        [OTHER_PHONE, "Bob"],
    ]
    contact_import = run(uploaded(personas.org, rows, by=personas.marketer, delimiter=";"))

    response = personas.api("viewer").get(detail(contact_import))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == FIELDS
    assert body["id"] == str(contact_import.public_id)
    assert body["state"] == "completed"
    assert body["source"] == "ui"
    assert body["file_name"] == "contacts.csv"
    assert body["file_size"] == contact_import.file_size > 0
    assert body["encoding"] == "utf-8"
    assert body["delimiter"] == "semicolon"
    assert body["header"] == ["phone", "first_name"]
    assert (body["total"], body["rows_read"]) == (3, 3)
    assert (body["created"], body["updated"], body["unchanged"]) == (2, 0, 0)
    assert (body["errors"], body["opted_out"], body["error"]) == (1, 0, "")
    assert body["created_by"] == "marketer@a.example.com"
    assert body["cancelled_by"] is None
    assert body["started_at"]
    assert body["finished_at"]
    assert body["file_removed_at"] is None
    assert body["errors_url"] == (
        f"{settings.PUBLIC_BASE_URL}{IMPORTS}{contact_import.public_id}/errors.csv"
    )


def test_the_list_pages_the_imports_newest_first(personas):
    made = [imported(personas.org, [["phone"], [f"+141555501{i:02d}"]]) for i in range(3)]
    imported(personas.other_org, [["phone"], [PHONE]])
    api = personas.api("viewer")

    first = api.get(IMPORTS, {"limit": 2})
    second = api.get(first.json()["next"])

    assert first.status_code == 200
    assert set(first.json()) == {"results", "next", "previous"}
    assert [r["id"] for r in first.json()["results"]] == [
        str(made[2].public_id),
        str(made[1].public_id),
    ]
    assert set(first.json()["results"][0]) == FIELDS
    assert first.json()["previous"] is None
    assert [r["id"] for r in second.json()["results"]] == [str(made[0].public_id)]
    assert second.json()["next"] is None
    assert second.json()["previous"] is not None


def test_the_list_is_empty_before_any_import(personas):
    response = personas.api("viewer").get(IMPORTS)

    assert response.json() == {"results": [], "next": None, "previous": None}


# --- The error report ---------------------------------------------------------------------


def test_the_error_report_is_the_bad_rows_as_csv(personas):
    rows = [
        ["phone", "first_name", "note"],
        [PHONE, "Alice", "fine"],
        ["12", "=SUM(1)", "short"],
        ["", "Bob", "+ve"],
    ]
    contact_import = imported(personas.org, rows)

    response = personas.api("viewer").get(detail(contact_import, "errors.csv"))

    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="import-{contact_import.public_id}-errors.csv"'
    )
    assert response.getvalue().decode() == (
        "\ufeffline,reason,phone,first_name,note\r\n"
        "3,“12” is too short for a phone number.,12,'=SUM(1),short\r\n"
        "4,No phone number.,,Bob,'+ve\r\n"
    )


@pytest.mark.parametrize("accept", ["text/csv", "application/json", "*/*"])
def test_the_error_report_is_csv_whatever_accept_says(personas, accept):
    contact_import = imported(personas.org, [["phone"], [PHONE]])

    response = personas.api("viewer").get(detail(contact_import, "errors.csv"), HTTP_ACCEPT=accept)

    assert response.status_code == 200
    assert response.getvalue().decode() == "\ufeffline,reason,phone\r\n"


# --- Cancel -------------------------------------------------------------------------------


def test_cancel_stops_an_open_import_and_twice_is_a_409(
    personas, enqueued, django_capture_on_commit_callbacks
):
    api = personas.api("marketer")
    with django_capture_on_commit_callbacks(execute=True):
        started = post(api, content(PEOPLE))
    contact_import = ContactImport.objects.get()
    assert enqueued == [contact_import.pk]
    assert started.json()["state"] == "queued"

    cancelled = api.post(detail(contact_import, "cancel/"))
    again = api.post(detail(contact_import, "cancel/"))

    assert cancelled.status_code == 200, cancelled.content
    assert cancelled.json()["state"] == "cancelled"
    assert cancelled.json()["finished_at"]
    assert cancelled.json()["cancelled_by"] is None
    assert again.status_code == 409
    assert error(again)["code"] == "import_not_open"
    assert "cancelled" in error(again)["message"]
    contact_import.refresh_from_db()
    assert contact_import.state == ImportState.CANCELLED
    assert not Contact.objects.exists()


def test_cancelling_a_completed_import_is_a_409(personas):
    contact_import = imported(personas.org, [["phone"], [PHONE]])

    response = personas.api("marketer").post(detail(contact_import, "cancel/"))

    assert response.status_code == 409
    assert error(response)["code"] == "import_not_open"


# --- Roles and organizations --------------------------------------------------------------


def test_a_viewer_reads_but_cannot_upload_or_cancel(personas, enqueued):
    contact_import = uploaded(personas.org, [["phone"], [PHONE]])
    ContactImport.objects.filter(pk=contact_import.pk).update(state=ImportState.QUEUED)
    api = personas.api("viewer")

    assert api.get(IMPORTS).status_code == 200
    assert api.get(detail(contact_import)).status_code == 200
    assert api.get(detail(contact_import, "errors.csv")).status_code == 200
    refused = post(api, content(PEOPLE))
    cancel = api.post(detail(contact_import, "cancel/"))

    assert refused.status_code == 403
    assert error(refused)["code"] == "permission_denied"
    assert "marketer" in error(refused)["message"]
    assert cancel.status_code == 403
    assert ContactImport.objects.count() == 1
    contact_import.refresh_from_db()
    assert contact_import.state == ImportState.QUEUED


@pytest.mark.parametrize("persona", ["owner", "admin", "marketer"])
def test_writers_upload(personas, enqueued, persona):
    assert post(personas.api(persona), content(PEOPLE)).status_code == 202


def test_without_a_key_it_is_a_401(personas):
    contact_import = imported(personas.org, [["phone"], [PHONE]])
    api = APIClient(HTTP_X_FORWARDED_PROTO="https")

    for response in (
        api.get(IMPORTS),
        post(api, content(PEOPLE)),
        api.get(detail(contact_import)),
        api.get(detail(contact_import, "errors.csv")),
        api.post(detail(contact_import, "cancel/")),
    ):
        assert response.status_code == 401
        assert error(response)["code"] == "not_authenticated"
    assert ContactImport.objects.count() == 1


@pytest.mark.parametrize("tail", ["", "errors.csv", "cancel/"])
def test_another_organizations_import_is_a_404(personas, enqueued, tail):
    theirs = uploaded(personas.other_org, [["phone", "name"], ["12", "=bad"]])
    ContactImport.objects.filter(pk=theirs.pk).update(state=ImportState.QUEUED)
    api = personas.api("admin")
    send = api.post if tail == "cancel/" else api.get

    response = send(detail(theirs, tail))
    malformed = send(detail("not-a-uuid", tail))

    assert response.status_code == 404
    assert error(response)["code"] == "not_found"
    assert malformed.status_code == 404
    theirs.refresh_from_db()
    assert theirs.state == ImportState.QUEUED
