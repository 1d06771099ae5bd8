"""The date trigger's backfill: who "already matches" a ``date_field`` automation when it is
activated.

The schedule (``services.dates``) only counts occurrences still to come, so a contact whose
date fell earlier (a birthday yesterday, a renewal date last week) would wait a year, or
forever under ``once``. The activation offers to enrol those whose occurrence fell in the
last ``BACKFILL_DAYS``: older ones would read wrong ("happy birthday" in December for a March
birthday). Each is enrolled with that occurrence's date as its key, the key the schedule's
pass would have used, so the pass never enrols it again and next year's is another key.

Worked like the schedule: the contacts' dates read in SQL (only the trigger's field), each
(date, zone) occurrence worked out once (``dates._Memo``).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from automations.models import Automation
from automations.services import dates
from automations.triggers.date_field import custom_key
from contacts.models import Contact

BACKFILL_DAYS = 7


def _trigger(automation: Automation) -> dates.Settings | None:
    version = automation.live_version
    trigger = version.definition["trigger"] if version else {}
    return trigger if trigger.get("type") == dates.TRIGGER_TYPE else None


def _rows(
    settings: dates.Settings, automation: Automation
) -> QuerySet[Contact, tuple[int, str, Any]]:
    """(id, zone, date value) of the contacts that have the trigger's field, in id order."""
    contacts = Contact.objects.filter(organization_id=automation.organization_id)
    if (key := custom_key(settings["field"])) is not None:
        contacts = contacts.filter(custom_fields__has_key=key)
    return dates._contact_values(settings, contacts.order_by("pk"))


def _matches(
    settings: dates.Settings, rows: Iterable[tuple[int, str, Any]], now: datetime.datetime
) -> dict[int, str]:
    """{contact id: occurrence key} of those whose occurrence fell in the last days: the
    first after that many days ago, if it is not still to come."""
    memo = dates._Memo(settings)
    since = now - datetime.timedelta(days=BACKFILL_DAYS)
    found: dict[int, str] = {}
    for contact_id, time_zone, value in rows:
        occurrence = memo.next(memo.day(value, time_zone), time_zone, since)
        if occurrence is not None and occurrence.due_at <= now:
            found[contact_id] = occurrence.key
    return found


def dates_backfill_chunk(
    automation: Automation,
    *,
    after_id: int,
    limit: int,
    now: datetime.datetime | None = None,
) -> tuple[int | None, dict[int, str]]:
    """The next ``limit`` contacts after ``after_id`` that have the date: the last id looked
    at (None when there were none) and the matches among them (``_matches``)."""
    settings = _trigger(automation)
    if settings is None:
        return None, {}
    looked = list(_rows(settings, automation).filter(pk__gt=after_id)[:limit])
    if not looked:
        return None, {}
    return looked[-1][0], _matches(settings, looked, now or timezone.now())


def dates_backfill_count(automation: Automation, *, now: datetime.datetime | None = None) -> int:
    """How many contacts the backfill would enrol."""
    settings = _trigger(automation)
    if settings is None:
        return 0
    rows = _rows(settings, automation).iterator(chunk_size=5000)
    return len(_matches(settings, rows, now or timezone.now()))
