"""The contacts CSV export: the columns, spreadsheet-safe cells, and the streamed download.

A read only. The rows are generated from a queryset in chunks (``iterator(chunk_size=…)``,
the tags prefetched per chunk), so a million contacts are streamed in flat memory and a
constant number of queries; the page and the API answer the same download.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import UTC
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from contacts.models import Contact
from tenants.models import Organization

COLUMNS = (
    "phone",
    "first_name",
    "last_name",
    "email",
    "time_zone",
    "tags",
    "opted_out",
    "created_at",
)
CHUNK_SIZE = 2000
# Rows are sent in pieces of about this many bytes, not one write per row.
PIECE_BYTES = 64 * 1024
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"

_KEYS_SQL = {
    "postgresql": (
        "SELECT DISTINCT jsonb_object_keys(custom_fields) AS key FROM {table} "
        "WHERE organization_id = %s AND jsonb_typeof(custom_fields) = 'object' ORDER BY key"
    ),
    "sqlite": (
        "SELECT DISTINCT field.key FROM {table}, json_each({table}.custom_fields) AS field "
        "WHERE organization_id = %s AND json_type({table}.custom_fields) = 'object' "
        "ORDER BY field.key"
    ),
}


def custom_field_keys(organization: Organization) -> list[str]:
    """Every custom-field key any of the organization's contacts has, sorted, in one query."""
    sql = _KEYS_SQL[connection.vendor].format(table=Contact._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql, [organization.pk])
        return [key for (key,) in cursor.fetchall()]


def safe_cell(value: str) -> str:
    """The cell as text a spreadsheet shows, never runs: ``+14155550100`` as ``'+14155550100``."""
    # Spreadsheets run a cell starting like a formula (OWASP CSV injection): ' makes it text.
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def header(keys: list[str]) -> list[str]:
    return [*COLUMNS, *(f"custom.{key}" for key in keys)]


def contact_row(contact: Contact, keys: list[str]) -> list[str]:
    """One contact's cells, in ``header``'s order (``opted_out`` annotated by the selector)."""
    custom = contact.custom_fields or {}
    return [
        contact.phone,
        contact.first_name,
        contact.last_name,
        contact.email,
        contact.time_zone,
        ", ".join(tag.name for tag in contact.tags.all()),
        "yes" if getattr(contact, "opted_out", False) else "no",
        contact.created_at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        *(str(custom.get(key, "")) for key in keys),
    ]


def csv_pieces(rows: Iterable[list[str]]) -> Iterator[bytes]:
    """UTF-8 CSV with a BOM first (so Excel reads accents), every cell spreadsheet-safe,
    in pieces of about ``PIECE_BYTES``."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
        if buffer.tell() >= PIECE_BYTES:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def export_rows(contacts: QuerySet[Contact], keys: list[str]) -> Iterator[list[str]]:
    """The header, then one row per contact, read ``CHUNK_SIZE`` at a time."""
    yield header(keys)
    for contact in contacts.iterator(chunk_size=CHUNK_SIZE):
        yield contact_row(contact, keys)


def export_response(
    *, organization: Organization, contacts: QuerySet[Contact]
) -> StreamingHttpResponse:
    """The download of ``contacts`` (the organization's, filtered and sorted), named by the
    date in the organization's time zone. The custom-field keys are read now; the rows as
    the response is sent."""
    keys = custom_field_keys(organization)
    today = timezone.localdate(timezone=ZoneInfo(organization.time_zone))
    response = StreamingHttpResponse(
        csv_pieces(export_rows(contacts, keys)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="contacts-{today.isoformat()}.csv"'
    return response
