"""Shared by the import tests: files made as spreadsheets write them, and a run to the end."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from contacts.imports.run import import_work
from contacts.imports.services import import_start, import_upload
from contacts.models import ContactImport
from tenants.models import Organization, User


def csv_text(rows: Sequence[Sequence[str]], delimiter: str = ",", newline: str = "\r\n") -> str:
    """Rows as a spreadsheet writes them: a field with the delimiter, a quote or a newline
    quoted, its quotes doubled."""

    def cell(value: str) -> str:
        if any(ch in value for ch in (delimiter, '"', "\n", "\r")):
            return '"' + value.replace('"', '""') + '"'
        return value

    return "".join(delimiter.join(cell(v) for v in row) + newline for row in rows)


def upload_file(content: bytes, name: str = "contacts.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def uploaded(
    organization: Organization,
    rows: Sequence[Sequence[str]] | bytes,
    *,
    by: User | None = None,
    name: str = "contacts.csv",
    encoding: str = "utf-8",
    delimiter: str = ",",
) -> ContactImport:
    content = rows if isinstance(rows, bytes) else csv_text(rows, delimiter).encode(encoding)
    return import_upload(organization=organization, file=upload_file(content, name), by=by)


def run(contact_import: ContactImport, **start: Any) -> ContactImport:
    """Starts the import and works it to the end, as the task would."""
    import_start(contact_import=contact_import, **start)
    while import_work(contact_import.pk):
        pass
    contact_import.refresh_from_db()
    return contact_import


def imported(
    organization: Organization, rows: Sequence[Sequence[str]], **start: Any
) -> ContactImport:
    return run(uploaded(organization, rows), **start)
