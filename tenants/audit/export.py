"""The audit log's CSV download, streamed: the page's filters, every page of them.

The contacts room has the same download helpers, but this room is below it and cannot import
them; the rules are the same: UTF-8 with a BOM first (Excel), spreadsheet-safe cells (a cell
starting like a formula gets a leading '), rows read in chunks as the response is sent.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from tenants.access import organization_zone
from tenants.audit.describe import change_lines, event_sentence
from tenants.audit.models import AuditEvent
from tenants.models import Organization

CHUNK_SIZE = 2000
PIECE_BYTES = 64 * 1024
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
HEADER = (
    "at",
    "action",
    "description",
    "actor_type",
    "actor",
    "address",
    "target_type",
    "target_id",
    "target",
    "changes",
    "changes_json",
)


def safe_cell(value: str) -> str:
    # Spreadsheets run a cell starting like a formula (OWASP CSV injection): ' makes it text.
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def event_row(event: AuditEvent) -> list[str]:
    return [
        iso_utc(event.at),
        event.action,
        event_sentence(event),
        event.actor_type,
        event.actor_label,
        event.address or "",
        event.target_type,
        event.target_id,
        event.target_label,
        "; ".join(change_lines(event)),
        json.dumps(event.changes, sort_keys=True, ensure_ascii=False),
    ]


def csv_pieces(rows: Iterable[list[str]]) -> Iterator[bytes]:
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


def export_rows(events: QuerySet[AuditEvent]) -> Iterator[list[str]]:
    yield list(HEADER)
    for event in events.iterator(chunk_size=CHUNK_SIZE):
        yield event_row(event)


def export_response(
    *, organization: Organization, events: QuerySet[AuditEvent]
) -> StreamingHttpResponse:
    """``audit-log-<date>.csv``, the date the organization's today in its zone."""
    today = timezone.localdate(timezone=organization_zone(organization))
    response = StreamingHttpResponse(
        csv_pieces(export_rows(events)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="audit-log-{today.isoformat()}.csv"'
    return response
