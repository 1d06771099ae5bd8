"""Reads for the message log: filters, keyset pages and counts per status."""

from __future__ import annotations

import base64
import binascii
import datetime
import uuid
import zoneinfo
from dataclasses import dataclass, field, replace

from django.db.models import Count, Q, QuerySet

from contacts.models import Contact
from messaging.models import Message
from templates_sms.models import SmsTemplate
from tenants.access import organization_zone
from tenants.models import Organization

PAGE_SIZE = 50


@dataclass(frozen=True)
class MessageFilter:
    """What the message log (its page and ``GET /api/v1/messages/``) is filtered by; each
    reader parses its own parameters into one of these, and ``messages_filtered`` alone turns
    it into a query."""

    status: str = ""
    direction: str = ""
    template: SmsTemplate | None = None
    contact: Contact | None = None
    source: str = ""
    source_ref: str = ""
    since: datetime.date | None = None  # inclusive, in the organization's time zone
    until: datetime.date | None = None  # inclusive
    created_after: datetime.datetime | None = None  # inclusive, an instant
    created_before: datetime.datetime | None = None  # exclusive
    attention: bool = False

    @property
    def active(self) -> bool:
        return self != MessageFilter()

    def without_status(self) -> MessageFilter:
        return replace(self, status="")


# Days outside these hold no message, and their bounds may not fit a database's datetime.
_EARLIEST, _LATEST = datetime.date(1900, 1, 1), datetime.date(9000, 1, 1)


def _start_of(day: datetime.date, tz: zoneinfo.ZoneInfo) -> datetime.datetime:
    day = min(max(day, _EARLIEST), _LATEST)
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)


def messages_filtered(organization: Organization, filters: MessageFilter) -> QuerySet[Message]:
    """The organization's messages matching ``filters``, in no particular order."""
    messages = Message.objects.filter(organization=organization)
    if filters.status:
        messages = messages.filter(status=filters.status)
    if filters.direction:
        messages = messages.filter(direction=filters.direction)
    if filters.template is not None:
        messages = messages.filter(template=filters.template)
    if filters.contact is not None:
        messages = messages.filter(contact=filters.contact)
    if filters.source:
        messages = messages.filter(source=filters.source)
    if filters.source_ref:
        messages = messages.filter(source_ref=filters.source_ref)
    if filters.created_after is not None:
        messages = messages.filter(created_at__gte=filters.created_after)
    if filters.created_before is not None:
        messages = messages.filter(created_at__lt=filters.created_before)
    tz = organization_zone(organization)
    if filters.since:
        messages = messages.filter(created_at__gte=_start_of(filters.since, tz))
    if filters.until:
        next_day = min(filters.until, _LATEST) + datetime.timedelta(days=1)
        messages = messages.filter(created_at__lt=_start_of(next_day, tz))
    if filters.attention:
        messages = messages.filter(needs_attention=True)
    return messages


# --- Keyset pages ----------------------------------------------------------------------------
# Newest first, by (created_at, public_id): the page after a row is everything strictly older
# in that order, so rows added meanwhile never shift or repeat a page. The cursor is that row's
# position, opaque to the reader; integer keys never leave the database.


@dataclass(frozen=True)
class Position:
    created_at: datetime.datetime
    public_id: uuid.UUID

    def encode(self) -> str:
        raw = f"{self.created_at.isoformat()}|{self.public_id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> Position | None:
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
            moment, public_id = raw.split("|")
            created_at = datetime.datetime.fromisoformat(moment)
            if created_at.tzinfo is None:
                return None
            # In UTC, as stored: a time no database can hold is no position.
            return cls(created_at.astimezone(datetime.UTC), uuid.UUID(public_id))
        except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError):
            return None

    @classmethod
    def of(cls, message: Message) -> Position:
        return cls(message.created_at, message.public_id)


@dataclass
class MessagePage:
    messages: list[Message] = field(default_factory=list)
    older: str = ""  # cursor of the next page (older messages), "" on the last
    newer: str = ""  # cursor of the previous page (newer messages), "" on the first


def _older_than(position: Position) -> Q:
    return Q(created_at__lt=position.created_at) | Q(
        created_at=position.created_at, public_id__lt=position.public_id
    )


def _newer_than(position: Position) -> Q:
    return Q(created_at__gt=position.created_at) | Q(
        created_at=position.created_at, public_id__gt=position.public_id
    )


def messages_page(
    messages: QuerySet[Message],
    *,
    older: Position | None = None,
    newer: Position | None = None,
    size: int = PAGE_SIZE,
) -> MessagePage:
    """One page, newest first: the ``size`` messages after ``older``, before ``newer``, or the
    newest. Reads ``size + 1`` rows to know whether there is more."""
    messages = messages.select_related("contact", "template")
    if newer is not None:
        rows = list(
            messages.filter(created_at__gte=newer.created_at)
            .filter(_newer_than(newer))
            .order_by("created_at", "public_id")[: size + 1]
        )
        more_newer = len(rows) > size
        rows = rows[:size][::-1]
        page = MessagePage(rows)
        if rows:
            page.older = Position.of(rows[-1]).encode()
            page.newer = Position.of(rows[0]).encode() if more_newer else ""
        return page
    if older is not None:
        messages = messages.filter(created_at__lte=older.created_at).filter(_older_than(older))
    rows = list(messages.order_by("-created_at", "-public_id")[: size + 1])
    page = MessagePage(rows[:size])
    if len(rows) > size:
        page.older = Position.of(rows[size - 1]).encode()
    if older is not None and page.messages:
        page.newer = Position.of(page.messages[0]).encode()
    return page


def message_status_counts(
    organization: Organization, filters: MessageFilter
) -> list[tuple[str, int]]:
    """How many messages of each status match the filters but the status itself, counted by
    the database; most common first."""
    rows = (
        messages_filtered(organization, filters.without_status())
        .order_by()
        .values_list("status")
        .annotate(count=Count("pk"))
    )
    return sorted(((status, count) for status, count in rows), key=lambda row: (-row[1], row[0]))
