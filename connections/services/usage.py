"""Spend: what an organization's texting cost, from its Twilio account's Usage Records.

``usage_refresh`` asks Twilio for the account's daily records of the categories ``sms`` and
``mms`` over the last 31 days and stores them, one ``UsageDay`` per day and category, at most
about once an hour per connection; the hourly beat task ``refresh_usage_records`` runs it for
every connected account. ``spend`` reads the stored figures for the dashboard, so a page never
waits on Twilio.

Days are UTC days. Twilio keeps an account's usage per GMT day (the records' ``StartDate``,
``EndDate``, ``start_date`` and ``end_date`` are GMT dates) and has nothing finer, so what was
spent on a day of the organization's own time zone cannot be known: a day that began at 19:00
in New York would need part of two records. The figures keep Twilio's days, and whoever shows
them says they are UTC days rather than shifting them silently.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db.models import Max
from django.utils import timezone

from connections.models import Connection, ConnectionKind, ConnectionState, UsageDay
from connections.selectors import twilio_connection, twilio_credentials
from connections.services.connections import connection_note_twilio_error
from connections.twilio_api import TwilioGateway
from connections.twilio_errors import TwilioError
from connections.twilio_records import UsageRecord
from tenants.models import Organization

logger = logging.getLogger(__name__)

SMS, MMS = "sms", "mms"
CATEGORIES = (SMS, MMS)
WINDOW_DAYS = 31  # today and the 30 days before it
# At most hourly, less a margin: beat's hourly runs drift by a few seconds, and a run that
# found the last fetch 59 minutes 59 seconds old would skip it and leave the figures two hours
# old.
REFRESH_INTERVAL = timedelta(minutes=55)


@dataclass(frozen=True)
class SpendDay:
    day: date  # a UTC day
    sms: Decimal
    mms: Decimal
    total: Decimal


@dataclass(frozen=True)
class Spend:
    days: list[SpendDay]  # every day asked for, oldest first; a day without figures is zero
    total: Decimal
    currency: str  # ISO 4217 (USD); "" when no figure names one
    fetched_at: datetime | None  # when Twilio was last asked; None: never (nothing to show)


def _last_fetch(connection: Connection) -> datetime | None:
    last: datetime | None = UsageDay.objects.filter(connection=connection).aggregate(
        last=Max("fetched_at")
    )["last"]
    return last


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _rows(
    connection: Connection, records: list[UsageRecord], start: date, end: date, now: datetime
) -> list[UsageDay]:
    """One row per day of the window and category: a day Twilio did not report cost nothing
    (and a figure stored earlier for it, from an account since replaced, is zeroed)."""
    found: dict[tuple[date, str], list[UsageRecord]] = defaultdict(list)
    for record in records:
        if start <= record.day <= end and record.category in CATEGORIES:
            found[(record.day, record.category)].append(record)
    currency = next((r.price_unit for r in records if r.price_unit), "")
    rows = []
    for day in _days(start, end):
        for category in CATEGORIES:
            same = found.get((day, category), [])
            rows.append(
                UsageDay(
                    connection=connection,
                    day=day,
                    category=category,
                    count=sum(r.count for r in same),
                    usage=sum(r.usage for r in same),
                    price=sum((r.price for r in same), Decimal(0)),
                    price_unit=same[0].price_unit if same else currency,
                    fetched_at=now,
                )
            )
    return rows


def usage_refresh(
    connection: Connection, *, now: datetime | None = None, force: bool = False
) -> bool:
    """Fetches the last 31 UTC days of the connection's SMS and MMS usage from Twilio and
    stores it; True when it did. Skipped (False) when the figures were fetched within the
    hour (unless ``force``) or the connection has no credentials. Never raises for Twilio: a
    failure is logged, the stored figures stay, and an authentication failure marks the
    connection failing, as every call to Twilio does."""
    now = now or timezone.now()
    credentials = twilio_credentials(connection)
    if credentials is None:
        return False
    if not force:
        last = _last_fetch(connection)
        if last is not None and now - last < REFRESH_INTERVAL:
            return False
    end = now.astimezone(UTC).date()
    start = end - timedelta(days=WINDOW_DAYS - 1)
    gateway = TwilioGateway(credentials.account_sid, credentials.auth_token())
    try:
        records = gateway.list_daily_usage(start=start, end=end, categories=CATEGORIES)
    except TwilioError as error:
        connection_note_twilio_error(connection=connection, error=error)
        logger.warning(
            "usage refresh failed: connection=%s account=%s: %s",
            connection.public_id,
            credentials.account_sid,
            error,
        )
        return False
    UsageDay.objects.bulk_create(
        _rows(connection, records, start, end, now),
        update_conflicts=True,
        unique_fields=["connection", "day", "category"],
        update_fields=["count", "usage", "price", "price_unit", "fetched_at"],
    )
    logger.info("usage refreshed: connection=%s %s..%s", connection.public_id, start, end)
    return True


def usage_connection_ids() -> list[int]:
    """The Twilio connections whose usage the hourly refresh fetches: verified, not
    disconnected, with credentials (a failing one too: the cause may have passed)."""
    return list(
        Connection.objects.filter(
            kind=ConnectionKind.TWILIO, verified_at__isnull=False, twilio__isnull=False
        )
        .exclude(state=ConnectionState.DISCONNECTED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def usage_refresh_by_id(*, connection_id: int, force: bool = False) -> bool:
    """``usage_refresh`` of one connection by id (a task's argument); False when it is gone."""
    connection = (
        Connection.objects.filter(pk=connection_id, kind=ConnectionKind.TWILIO)
        .select_related("twilio")
        .first()
    )
    return connection is not None and usage_refresh(connection, force=force)


def spend(organization: Organization, *, start: date, end: date) -> Spend:
    """What the organization's texting (SMS and MMS) cost on each UTC day from ``start`` to
    ``end`` (both included), from the figures its Twilio connection stored. Figures in another
    currency than the latest day's (an account since replaced) are left out rather than
    added up."""
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    connection = twilio_connection(organization)
    rows = (
        list(
            UsageDay.objects.filter(
                connection=connection, day__range=(start, end), category__in=CATEGORIES
            ).order_by("-day")
        )
        if connection is not None
        else []
    )
    currency = next((row.price_unit for row in rows if row.price_unit), "")
    prices: dict[tuple[date, str], Decimal] = defaultdict(Decimal)
    for row in rows:
        if row.price_unit in (currency, ""):
            prices[(row.day, row.category)] += row.price
    days = [
        SpendDay(
            day=day,
            sms=prices[(day, SMS)],
            mms=prices[(day, MMS)],
            total=prices[(day, SMS)] + prices[(day, MMS)],
        )
        for day in _days(start, end)
    ]
    return Spend(
        days=days,
        total=sum((day.total for day in days), Decimal(0)),
        currency=currency,
        fetched_at=_last_fetch(connection) if connection is not None else None,
    )
