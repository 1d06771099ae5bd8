"""The rules every send obeys, in one place, and when each is checked.

A message is checked twice: when the send service creates it, and again when the send task
claims it to hand it to Twilio. Minutes or days may pass in between (a delay, quiet hours, a
retry's backoff), and in that time a number can opt out, the connection can be disconnected,
another message can use up the same dedupe key or the frequency cap's last slot. ``RULES``
lists every rule with the moments it is checked at; ``suppression`` applies them in order, the
first that stops a message gives its ``suppressed`` reason. See docs/architecture.md.
"""

from __future__ import annotations

import datetime
import enum
import zlib
import zoneinfo
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from django.db import connection as db
from django.db.models import Count, Q
from django.utils import timezone

from connections.models import Connection
from contacts.models import ConsentState
from messaging.models import DedupeKey, Message, Status, SuppressedReason
from templates_sms.segments import MAX_TEXT
from tenants.models import Organization

INVALID_NUMBER_CODES = (21211, 21614)
FREQUENCY_WINDOW = datetime.timedelta(hours=24)


class Moment(enum.Enum):
    CREATE = "create"  # the send service writes the row
    SEND = "send"  # the send task claims the row, right before calling Twilio


@dataclass(frozen=True)
class Facts:
    """What the rules need to know about a batch of numbers: a few queries per batch."""

    connection: Connection | None
    opted_out: set[str]
    invalid: set[str]
    used_keys: set[str]
    counts: dict[str, int]
    cap: int | None


@dataclass(frozen=True)
class Candidate:
    """One message as the rules see it."""

    text: str
    phone: str
    dedupe_key: str


@dataclass(frozen=True)
class Rule:
    reason: SuppressedReason
    moments: frozenset[Moment]
    stops: Callable[[Candidate, Facts], bool]


BOTH = frozenset(Moment)

RULES: tuple[Rule, ...] = (
    # Creation only: the text is rendered once and stored; it cannot grow afterwards.
    Rule(
        SuppressedReason.TOO_LONG,
        frozenset({Moment.CREATE}),
        lambda m, f: len(m.text) > MAX_TEXT,
    ),
    # A STOP (or Twilio's 21610) may arrive while the message waits.
    Rule(SuppressedReason.OPTED_OUT, BOTH, lambda m, f: m.phone in f.opted_out),
    # Another message to the number may have failed with 21211/21614 meanwhile.
    Rule(SuppressedReason.INVALID_NUMBER, BOTH, lambda m, f: m.phone in f.invalid),
    # An admin may disconnect Twilio while messages wait.
    Rule(SuppressedReason.NO_CONNECTION, BOTH, lambda m, f: f.connection is None),
    # At creation: against keys used up and keys held by messages on their way. At send: the
    # key is used up in the claiming transaction (``dedupe_keys_use``), where the unique
    # constraint decides between two workers; this check only saves that attempt.
    Rule(
        SuppressedReason.DUPLICATE,
        BOTH,
        lambda m, f: bool(m.dedupe_key) and m.dedupe_key in f.used_keys,
    ),
    # Counted over messages handed to Twilio in the last 24 hours. Messages waiting for later
    # are not counted at creation (they may never go), so the send task counts again, under
    # ``number_locks`` so that two workers racing for the last slot send one message.
    Rule(
        SuppressedReason.FREQUENCY_CAP,
        BOTH,
        lambda m, f: f.cap is not None and f.counts.get(m.phone, 0) >= f.cap,
    ),
)


def suppression(moment: Moment, candidate: Candidate, facts: Facts) -> str:
    """The first rule checked at ``moment`` that stops the message, or "" when it may go."""
    for rule in RULES:
        if moment in rule.moments and rule.stops(candidate, facts):
            return rule.reason
    return ""


def facts_gather(
    organization: Organization,
    connection: Connection | None,
    *,
    phones: list[str],
    keys: list[str],
    excluding: Collection[int] | None = None,
) -> Facts:
    """The facts for these numbers and keys. ``excluding``: the messages being sent, which
    must not count against themselves (they are already claimed when the send task asks)."""
    cap = organization.frequency_cap
    return Facts(
        connection=connection,
        opted_out=opted_out_numbers(organization, phones),
        invalid=invalid_numbers(organization, phones),
        used_keys=used_dedupe_keys(organization, keys, in_flight=excluding is None),
        counts=recent_counts(organization, phones, excluding=excluding) if cap else {},
        cap=cap,
    )


def opted_out_numbers(organization: Organization, phones: Iterable[str]) -> set[str]:
    return set(
        ConsentState.objects.filter(
            organization=organization, phone__any=list(phones), opted_out=True
        ).values_list("phone", flat=True)
    )


def invalid_numbers(organization: Organization, phones: Iterable[str]) -> set[str]:
    """Numbers Twilio rejected as not valid (or not mobile) when we last tried them."""
    return set(
        Message.objects.filter(
            organization=organization,
            to__any=list(phones),
            status=Status.FAILED,
            error_code__in=INVALID_NUMBER_CODES,
        ).values_list("to", flat=True)
    )


def used_dedupe_keys(
    organization: Organization, keys: Iterable[str], *, in_flight: bool = True
) -> set[str]:
    """Keys used up (handed to Twilio) and, with ``in_flight``, keys held by a message still
    on its way (what creation checks; the send task's own message holds its key)."""
    wanted = [k for k in keys if k]
    if not wanted:
        return set()
    used = set(
        DedupeKey.objects.filter(organization=organization, key__any=wanted).values_list(
            "key", flat=True
        )
    )
    if not in_flight:
        return used
    held = Message.objects.filter(
        organization=organization,
        dedupe_key__any=wanted,
        status__in=(Status.PENDING, Status.SUBMITTING),
    ).values_list("dedupe_key", flat=True)
    return used | set(held)


def dedupe_keys_use(messages: list[Message]) -> set[int]:
    """Uses up the messages' keys (one message per key: the first wins); returns the ids of
    the messages whose key another message holds (the unique constraint decides between racing
    workers). Two queries whatever the number. Call inside the claiming transaction."""
    first: dict[tuple[int, str], Message] = {}
    for message in messages:
        if message.dedupe_key:
            first.setdefault((message.organization_id, message.dedupe_key), message)
    if not first:
        return set()
    DedupeKey.objects.bulk_create(
        [DedupeKey(organization_id=o, key=k, message=m) for (o, k), m in first.items()],
        ignore_conflicts=True,
    )
    rows = DedupeKey.objects.filter(
        organization_id__in={o for o, _ in first}, key__any={k for _, k in first}
    ).values_list("organization_id", "key", "message_id")
    holders = {(o, k): m for o, k, m in rows}
    return {
        message.pk
        for message in messages
        if message.dedupe_key
        and holders.get((message.organization_id, message.dedupe_key)) != message.pk
    }


def recent_counts(
    organization: Organization,
    phones: Iterable[str],
    *,
    excluding: Collection[int] | None = None,
) -> dict[str, int]:
    """Messages handed to Twilio per number in the last 24 hours (for the frequency cap)."""
    since = timezone.now() - FREQUENCY_WINDOW
    # Handed to Twilio: it took the message (a SID), or the call is in flight.
    handed = Message.objects.filter(
        organization=organization, to__any=list(phones), submitted_at__gte=since
    ).filter(Q(sid__isnull=False) | Q(status=Status.SUBMITTING))
    if excluding is not None:
        handed = handed.exclude(pk__any=list(excluding))
    rows = handed.values("to").annotate(n=Count("pk"))
    return {row["to"]: row["n"] for row in rows}


def number_locks(organization: Organization, phones: Iterable[str]) -> None:
    """Serializes, until the transaction ends, the send task's claims of messages to these
    numbers, so the frequency cap is counted and its slot taken as one step. One statement;
    the locks are taken in key order, so two batches sharing numbers cannot deadlock.

    On PostgreSQL a transaction-scoped advisory lock keyed by (organization, number) — no
    row to lock exists for every number, and a lock table would be written on every send. A
    hash collision only makes two numbers wait for each other. SQLite needs none: its
    transactions take the database's write lock when they begin (``IMMEDIATE``).
    """
    if db.vendor != "postgresql":
        return
    keys = sorted({zlib.crc32(phone.encode()) - 2**31 for phone in phones})  # signed 32-bit
    if not keys:
        return
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(%s, key)) FROM unnest(%s::int[]) AS key",
            [organization.pk, keys],
        )


def next_allowed_instant(
    now: datetime.datetime, *, time_zone: str, start: datetime.time, end: datetime.time
) -> datetime.datetime:
    """``now`` if it is inside the sending window in ``time_zone``, else when it next opens.

    Works in local wall time, so a window "08:00 to 21:00" means 08:00 on the clock in that zone
    on both sides of a daylight-saving change; a window may cross midnight (22:00 to 06:00).
    """
    try:
        zone = zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if start == end:
        return now
    inside = start <= clock < end if start < end else (clock >= start or clock < end)
    if inside:
        return now
    day = local.date()
    if start < end and clock >= end:
        day += datetime.timedelta(days=1)
    opening = datetime.datetime.combine(day, start, tzinfo=zone)
    # A wall time skipped by a spring-forward (02:30 on that night) is read with the offset
    # before the change, which lands just after the gap once converted to UTC.
    return opening.astimezone(datetime.UTC)
