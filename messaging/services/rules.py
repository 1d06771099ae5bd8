"""The rules every send obeys, in one place (DESIGN.md, "A message's life", step 1)."""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Iterable

from django.db.models import Count, Q
from django.utils import timezone

from connections.models import Connection, ConnectionKind, ConnectionState, TwilioCredentials
from contacts.models import ConsentState
from messaging.models import DedupeKey, Message, Status, SuppressedReason
from tenants.models import Organization

MAX_TEXT = 1600
INVALID_NUMBER_CODES = (21211, 21614)
FREQUENCY_WINDOW = datetime.timedelta(hours=24)


def working_connection(organization: Organization) -> Connection | None:
    """The Twilio connection that can send: connected or failing (it may pass), with keys."""
    connection = (
        Connection.objects.filter(organization=organization, kind=ConnectionKind.TWILIO)
        .exclude(state=ConnectionState.DISCONNECTED)
        .select_related("twilio")
        .first()
    )
    if connection is None:
        return None
    try:
        connection.twilio  # noqa: B018 - the credentials must exist
    except TwilioCredentials.DoesNotExist:
        return None
    return connection


def opted_out_numbers(organization: Organization, phones: Iterable[str]) -> set[str]:
    return set(
        ConsentState.objects.filter(
            organization=organization, phone__in=list(phones), opted_out=True
        ).values_list("phone", flat=True)
    )


def invalid_numbers(organization: Organization, phones: Iterable[str]) -> set[str]:
    """Numbers Twilio rejected as not valid (or not mobile) when we last tried them."""
    return set(
        Message.objects.filter(
            organization=organization,
            to__in=list(phones),
            status=Status.FAILED,
            error_code__in=INVALID_NUMBER_CODES,
        ).values_list("to", flat=True)
    )


def used_dedupe_keys(organization: Organization, keys: Iterable[str]) -> set[str]:
    """Keys used up (handed to Twilio), or held by a message still on its way."""
    wanted = [k for k in keys if k]
    if not wanted:
        return set()
    used = set(
        DedupeKey.objects.filter(organization=organization, key__in=wanted).values_list(
            "key", flat=True
        )
    )
    in_flight = Message.objects.filter(
        organization=organization,
        dedupe_key__in=wanted,
        status__in=(Status.PENDING, Status.SUBMITTING),
    ).values_list("dedupe_key", flat=True)
    return used | set(in_flight)


def recent_counts(organization: Organization, phones: Iterable[str]) -> dict[str, int]:
    """Messages handed to Twilio per number in the last 24 hours (for the frequency cap)."""
    since = timezone.now() - FREQUENCY_WINDOW
    # Handed to Twilio: it took the message (a SID), or the call is in flight.
    rows = (
        Message.objects.filter(
            organization=organization, to__in=list(phones), submitted_at__gte=since
        )
        .filter(Q(sid__isnull=False) | Q(status=Status.SUBMITTING))
        .values("to")
        .annotate(n=Count("pk"))
    )
    return {row["to"]: row["n"] for row in rows}


def suppression(
    *,
    text: str,
    phone: str,
    connection: Connection | None,
    dedupe_key: str,
    opted_out: set[str],
    invalid: set[str],
    used_keys: set[str],
    counts: dict[str, int],
    cap: int | None,
) -> str:
    """The first rule that stops this message, or "" when it may go."""
    if len(text) > MAX_TEXT:
        return SuppressedReason.TOO_LONG
    if phone in opted_out:
        return SuppressedReason.OPTED_OUT
    if phone in invalid:
        return SuppressedReason.INVALID_NUMBER
    if connection is None:
        return SuppressedReason.NO_CONNECTION
    if dedupe_key and dedupe_key in used_keys:
        return SuppressedReason.DUPLICATE
    if cap is not None and counts.get(phone, 0) >= cap:
        return SuppressedReason.FREQUENCY_CAP
    return ""


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
