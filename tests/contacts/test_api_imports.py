"""``/api/v1/contacts/imports/``: an import's progress, the list, its error report, cancelling
it; roles and organizations."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.http import StreamingHttpResponse
from rest_framework.test import APIClient

from contacts.models import (
    Contact,
    ContactImport,
    ImportState,
)
from tests.contacts.api_import_helpers import (
    FIELDS,
    IMPORTS,
    PEOPLE,
    content,
    detail,
    post,
)
from tests.contacts.helpers import OTHER_PHONE, PHONE, error
from tests.contacts.import_helpers import imported, run, uploaded

pytestmark = pytest.mark.django_db


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
    personas, held_imports, django_capture_on_commit_callbacks
):
    api = personas.api("marketer")
    with django_capture_on_commit_callbacks(execute=True):
        started = post(api, content(PEOPLE))
    contact_import = ContactImport.objects.get()
    assert held_imports == [contact_import.pk]
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


def test_a_viewer_reads_but_cannot_upload_or_cancel(personas, held_imports):
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
def test_writers_upload(personas, held_imports, persona):
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
def test_another_organizations_import_is_a_404(personas, held_imports, tail):
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
