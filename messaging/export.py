"""The message log's CSV export: its columns, and its rows read from the log's query.

A read only. The rows come from one query (the contact's and the template's columns joined),
read ``CHUNK_SIZE`` at a time with ``iterator()``, so the file is streamed in flat memory and
in the same number of queries however many messages it holds. Cells go through the contacts
export's ``csv_pieces`` (spreadsheet-safe, UTF-8 with a BOM).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from contacts.export import csv_download, iso_utc
from messaging.models import Message
from tenants.access import organization_zone
from tenants.models import Organization

CHUNK_SIZE = 2000
# What a row is read from, in the order of ``header``'s columns after the local time.
FIELDS = (
    "public_id",
    "created_at",
    "direction",
    "status",
    "error_code",
    "error_message",
    "suppressed_reason",
    "to",
    "from_number",
    "contact__public_id",
    "template__name",
    "segments",
    "encoding",
    "source",
    "body",
)


def header(time_zone: str) -> list[str]:
    return [
        "id",
        "created_at",
        f"created_at_local ({time_zone})",
        "direction",
        "status",
        "error_code",
        "error_message",
        "suppressed_reason",
        "to",
        "from",
        "contact_id",
        "template_name",
        "segments",
        "encoding",
        "source",
        "body",
    ]


def message_row(values: tuple[Any, ...], tz: zoneinfo.ZoneInfo) -> list[str]:
    """One message's cells, in ``header``'s order, from its ``FIELDS``."""
    public_id, created_at, *rest = values
    local = created_at.astimezone(tz).isoformat(timespec="seconds")
    return [
        str(public_id),
        iso_utc(created_at),
        local,
        *("" if v is None else str(v) for v in rest),
    ]


def export_rows(messages: QuerySet[Message], tz: zoneinfo.ZoneInfo) -> Iterator[list[str]]:
    """The header, then one row per message, newest first as the log lists them."""
    yield header(tz.key)
    rows = (
        messages.order_by("-created_at", "-public_id")
        .values_list(*FIELDS)
        .iterator(chunk_size=CHUNK_SIZE)
    )
    for values in rows:
        yield message_row(values, tz)


def export_response(
    *, organization: Organization, messages: QuerySet[Message]
) -> StreamingHttpResponse:
    """The download of ``messages`` (the organization's, filtered), read as it is sent."""
    return csv_download(
        organization=organization,
        name="messages",
        rows=export_rows(messages, organization_zone(organization)),
    )
