"""The consent ledger's CSV download: every opt-out, opt-in and HELP of the organization,
oldest first (a ledger reads from its beginning), streamed.

The columns are the ledger API's (``/api/v1/consent/``) with the time also in the
organization's time zone; ``contact_id`` is the contact who has the number now (consent
belongs to the number, so a contact deleted and created again gets its history back), empty
when no contact has it. One query for the whole file: the contact is a subquery on the
(organization, phone) unique index, and the rows are read ``CHUNK_SIZE`` at a time.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest, StreamingHttpResponse

from contacts.export import csv_download, iso_utc
from contacts.models import ConsentEvent, Contact
from tenants.access import OrganizationView, organization_zone
from tenants.models import Organization, Role

CHUNK_SIZE = 2000
FIELDS = (
    "public_id",
    "created_at",
    "phone",
    "holder",
    "kind",
    "source",
    "message_sid",
    "actor",
)


def header(time_zone: str) -> list[str]:
    return [
        "id",
        "created_at",
        f"created_at_local ({time_zone})",
        "phone",
        "contact_id",
        "kind",
        "source",
        "message_sid",
        "actor",
    ]


def ledger(organization: Organization) -> QuerySet[ConsentEvent]:
    """The organization's consent events, oldest first, each with its number's contact."""
    holder = Contact.objects.filter(organization=organization, phone=OuterRef("phone")).values(
        "public_id"
    )[:1]
    return (
        ConsentEvent.objects.filter(organization=organization)
        .annotate(holder=Subquery(holder))
        .order_by("created_at", "pk")
    )


def event_row(values: tuple[Any, ...], tz: zoneinfo.ZoneInfo) -> list[str]:
    public_id, created_at, phone, holder, *rest = values
    local = created_at.astimezone(tz).isoformat(timespec="seconds")
    contact_id = "" if holder is None else str(holder)
    return [str(public_id), iso_utc(created_at), local, phone, contact_id, *map(str, rest)]


def ledger_rows(organization: Organization) -> Iterator[list[str]]:
    tz = organization_zone(organization)
    yield header(tz.key)
    for values in ledger(organization).values_list(*FIELDS).iterator(chunk_size=CHUNK_SIZE):
        yield event_row(values, tz)


class ConsentExportView(OrganizationView):
    """Marketers and above: the whole ledger as ``consent-<date>.csv``."""

    read_role = Role.MARKETER

    def get(self, request: HttpRequest) -> StreamingHttpResponse:
        return csv_download(
            organization=self.organization,
            name="consent",
            rows=ledger_rows(self.organization),
        )
