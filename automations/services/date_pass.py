"""The date triggers' pass, every minute from beat: the due ``DateSchedule`` rows claimed
(``FOR UPDATE SKIP LOCKED``), each checked against the contact's date and the live trigger as
they are now, enrolled with its occurrence as key or skipped as too late, and moved to its
next occurrence or deleted, in one transaction per batch; the first steps after the commit.
See ``services.dates`` for the schedule and the rules on late occurrences."""

from __future__ import annotations

import datetime
import logging
import time
from collections import defaultdict
from typing import NamedTuple

from django.db import transaction
from django.utils import timezone

from automations.models import Automation, DateSchedule, State
from automations.services.dates import (
    BATCH,
    BUDGET_SECONDS,
    EPSILON,
    GRACE,
    TRIGGER_TYPE,
    Occurrence,
    _contact_values,
    _live,
    _Memo,
    _write,
    zone_of,
)
from automations.services.engine import runs_advance_ids
from automations.services.enrolment import runs_enrol
from contacts.models import Contact
from tenants.sources import Source

logger = logging.getLogger(__name__)


class _Pass(NamedTuple):
    claimed: int
    created: list[int]
    missed: int
    moved: int


def _enrol_batch(now: datetime.datetime) -> _Pass:
    created: list[int] = []
    missed = moved = 0
    with transaction.atomic():
        claimed = list(
            DateSchedule.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                due_at__lte=now,
                automation__state=State.ACTIVE,
                automation__trigger_type=TRIGGER_TYPE,
            )
            .order_by("due_at")
            .values_list("automation_id", "contact_id", "due_at", "occurrence")[:BATCH]
        )
        by_automation: dict[int, list[tuple[int, datetime.datetime, str]]] = defaultdict(list)
        for automation_id, contact_id, due_at, occurrence in claimed:
            by_automation[automation_id].append((contact_id, due_at, occurrence))
        automations = Automation.objects.select_related("live_version").in_bulk(by_automation)
        for automation_id, rows in by_automation.items():
            automation = automations[automation_id]
            settings = _live(automation)
            if settings is None or automation.live_version_id is None:
                continue  # paused or archived since the claim: the sync drops its rows
            memo = _Memo(settings)
            values = {
                pk: (time_zone, value)
                for pk, time_zone, value in _contact_values(
                    settings, Contact.objects.filter(pk__any=[c for c, _, _ in rows])
                )
            }
            enrol: dict[str, dict[int, str]] = defaultdict(dict)
            upcoming: list[tuple[int, Occurrence]] = []
            none: list[int] = []
            for contact_id, due_at, occurrence in rows:
                time_zone, value = values.get(contact_id, ("", None))
                day = memo.day(value, time_zone)
                due = memo.next(day, time_zone, due_at - EPSILON)
                if due is None or (due.due_at, due.key) != (due_at, occurrence):
                    moved += 1  # the date, the zone or the trigger changed since it was written
                elif now - due_at > GRACE or now.astimezone(zone_of(time_zone)).date() != due.date:
                    missed += 1
                else:
                    enrol[occurrence][contact_id] = occurrence
                following = memo.next(day, time_zone, now)
                if following is None:
                    none.append(contact_id)
                else:
                    upcoming.append((contact_id, following))
            for occurrence, contacts in enrol.items():
                result = runs_enrol(
                    automation=automation,
                    contact_ids=list(contacts),
                    key=f"date:{occurrence}",
                    source=Source.SYSTEM,
                    advance=False,  # after this transaction commits
                    occurrences=contacts,
                )
                created += result.created
            _write(automation.pk, automation.live_version_id, upcoming, none, keep_due_by=None)
    return _Pass(len(claimed), created, missed, moved)


def dates_enrol_due(
    *, now: datetime.datetime | None = None, budget_seconds: float = BUDGET_SECONDS
) -> int:
    """The beat's pass: the due rows, ``BATCH`` at a time, enrolled and moved on, then each
    batch's first steps; until none is due or the time is up. Returns the enrolments made."""
    began, total, missed, moved = time.monotonic(), 0, 0, 0
    while True:
        batch = _enrol_batch(now or timezone.now())
        if batch.created:
            runs_advance_ids(batch.created)
        total, missed, moved = (
            total + len(batch.created),
            missed + batch.missed,
            moved + batch.moved,
        )
        if batch.claimed < BATCH or time.monotonic() - began > budget_seconds:
            break
    if total or missed or moved:
        logger.info(
            "dates: %s enrolled, %s missed (more than %s late, or past their day), "
            "%s rescheduled (the date or the trigger changed)",
            total,
            missed,
            GRACE,
            moved,
        )
    return total
