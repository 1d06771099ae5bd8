"""Shared by the import API tests: the route, the resource's fields, a form and its post."""

from __future__ import annotations

import json
from typing import Any

from contacts.models import Contact, ContactImport, ImportColumnMemory, ImportFilePart
from tests.contacts.helpers import OTHER_PHONE, PHONE
from tests.contacts.import_helpers import csv_text, upload_file

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
