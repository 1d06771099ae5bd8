"""Date triggers: when each contact's date next comes round, and the pass that enrols them.

A ``date_field`` automation keeps one ``DateSchedule`` row per contact with an occurrence to
come: its instant (UTC) and its local date, the enrolment's occurrence key. So the beat's pass
reads an index range (the rows due) instead of every contact's date every minute.

- ``schedule_rebuild`` writes the rows for every contact of the organization, a chunk at a
  time, when the automation becomes active or publishes a new version (a task after commit:
  no request holds the contacts); ``schedule_sync`` drops them when it is paused, archived
  or given another trigger (resuming rebuilds: the dates that passed meanwhile are not
  enrolled late).
- ``schedule_contacts`` re-evaluates some contacts for every active date automation of their
  organization: a contact created, or whose date or time zone changed.
- ``date_pass.dates_enrol_due`` is the pass: it enrols the contacts of the due rows with their
  occurrence as key (once per date, whatever the re-entry policy) and moves the rows on.

**Late occurrences.** An occurrence is enrolled when the pass finds it at most ``GRACE`` (6
hours) late and still on its local date in the contact's zone; later than that (the beat or
the workers were down) it is skipped and the row moves on. A birthday text a few hours late
is still on the day; one a day late reads wrong, and arriving in a batch after an outage it
is worse than none. Rebuilding after an activation only counts occurrences still to come,
so a contact whose date (plus the offset) is already past gets the next one, or none under
``once``.

Rows are only ever written when the automation is, at that statement, active with the
version (and trigger) they were computed from, and a rebuild never moves a row already due
(the pass owns those): no lock on the automation is needed (the pass takes it inside
``runs_enrol`` while holding its rows, so a rebuild holding it too could deadlock), and two
syncs racing (pause, then resume) leave the rows of whichever state is current.
"""

from __future__ import annotations

import calendar
import datetime
import functools
import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, QuerySet
from django.db.models.fields.json import KT
from django.utils import timezone

from automations.models import Automation, DateSchedule, State
from automations.services import waits
from automations.triggers.date_field import CREATED_AT, custom_key
from contacts.models import Contact

logger = logging.getLogger(__name__)

UTC = datetime.UTC
TRIGGER_TYPE = "date_field"
GRACE = datetime.timedelta(hours=6)
CHUNK = 5000  # contacts per rebuild transaction
BATCH = 1000  # due rows per pass transaction: runs_enrol's set-wise size
BUDGET_SECONDS = 45.0  # the pass runs every minute: it hands the rest to the next one
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EPSILON = datetime.timedelta(microseconds=1)

Settings = Mapping[str, Any]


class Occurrence(NamedTuple):
    due_at: datetime.datetime  # UTC
    date: datetime.date  # the local date it falls on

    @property
    def key(self) -> str:
        return self.date.isoformat()


@functools.lru_cache(maxsize=1024)
def zone_of(name: str) -> ZoneInfo:
    """``waits.zone_of``, kept: ZoneInfo keeps only its last 8 zones, and a pass over
    contacts in a dozen zones would read their files again and again (0.1 ms a lookup)."""
    return waits.zone_of(name)


def local_instant(day: datetime.date, at: datetime.time, zone: ZoneInfo) -> datetime.datetime:
    """``at`` on ``day`` in ``zone``, as a UTC instant. A time the clocks skip (spring
    forward) is the first instant after the gap, the change itself (03:00 for 02:30 in New
    York); a time that happens twice (fall back) is its first occurrence."""
    local = datetime.datetime.combine(day, at, tzinfo=zone)  # fold=0: the first of two
    instant = local.astimezone(UTC)
    shifted = instant.astimezone(zone).replace(tzinfo=None)
    gap = shifted - local.replace(tzinfo=None)
    if not gap:
        return instant
    # In a gap fold=0 reads the time with the offset from before the change, which lands as
    # far past the change as the time was into the gap: the change is within ``gap`` before.
    low, high = instant - gap, instant
    before = low.astimezone(zone).utcoffset()
    while high - low > datetime.timedelta(seconds=1):
        middle = low + datetime.timedelta(seconds=(high - low).total_seconds() // 2)
        if middle.astimezone(zone).utcoffset() == before:
            low = middle
        else:
            high = middle
    return high


def _in_year(day: datetime.date, year: int) -> datetime.date:
    if day.month == 2 and day.day == 29 and not calendar.isleap(year):
        return datetime.date(year, 2, 28)
    return day.replace(year=year)


def _dates(settings: Settings, contact_date: datetime.date, year: int) -> Iterator[datetime.date]:
    """The local dates the trigger falls on, in order: the one, or those of the years about
    ``year`` (an offset of up to a year moves a date into the year before or after)."""
    offset = datetime.timedelta(days=settings.get("offset_days", 0))
    years = [contact_date.year] if settings["recurrence"] == "once" else range(year - 2, year + 3)
    for each in years:
        try:
            yield _in_year(contact_date, each) + offset
        except (OverflowError, ValueError):  # before year 1 or after 9999
            continue


def next_occurrence(
    settings: Settings, contact_date: datetime.date, time_zone: str, after: datetime.datetime
) -> Occurrence | None:
    """The first occurrence strictly after ``after`` of the trigger for a contact whose date
    is ``contact_date`` and who lives in ``time_zone``, or None (``once``, and it is past)."""
    zone = zone_of(time_zone)
    hour, minute = (int(part) for part in settings["time"].split(":"))
    at = datetime.time(hour, minute)
    for day in _dates(settings, contact_date, after.year):
        due = local_instant(day, at, zone)
        if due > after:
            return Occurrence(due, day)
    return None


def contact_date(settings: Settings, value: object, time_zone: str) -> datetime.date | None:
    """The contact's date for the trigger: ``value`` is its ``created_at`` (read as a date in
    the contact's zone) or the custom field's text (``YYYY-MM-DD``; anything else: no date)."""
    if isinstance(value, datetime.datetime):
        return value.astimezone(zone_of(time_zone)).date()
    if isinstance(value, str) and DATE.match(value.strip()):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _contact_values(
    settings: Settings, contacts: QuerySet[Contact]
) -> QuerySet[Contact, tuple[int, str, Any]]:
    """(id, time zone, date value) of the contacts, reading only the field the trigger needs."""
    key = custom_key(settings["field"])
    if key is None:
        return contacts.values_list("pk", "time_zone", CREATED_AT)
    return contacts.annotate(date_value=KT(f"custom_fields__{key}")).values_list(
        "pk", "time_zone", "date_value"
    )


@dataclass
class _Memo:
    """A trigger's dates and occurrences worked out so far: many contacts share a date and a
    zone (and every year only the month and day matter), so each is computed once."""

    settings: Settings
    days: dict[str, datetime.date | None] = field(default_factory=dict)
    occurrences: dict[tuple[object, str, datetime.datetime], Occurrence | None] = field(
        default_factory=dict
    )

    def day(self, value: object, time_zone: str) -> datetime.date | None:
        if not isinstance(value, str):  # created_at: its date depends on the zone
            return contact_date(self.settings, value, time_zone)
        if value not in self.days:
            self.days[value] = contact_date(self.settings, value, time_zone)
        return self.days[value]

    def next(
        self, day: datetime.date | None, time_zone: str, after: datetime.datetime
    ) -> Occurrence | None:
        if day is None:
            return None
        yearly = self.settings["recurrence"] == "yearly"
        key = ((day.month, day.day) if yearly else day, time_zone, after)
        if key not in self.occurrences:
            self.occurrences[key] = next_occurrence(self.settings, day, time_zone, after)
        return self.occurrences[key]


def _upcoming(
    memo: _Memo, rows: Iterable[tuple[int, str, Any]], after: datetime.datetime
) -> tuple[list[tuple[int, Occurrence]], list[int]]:
    """Each contact's next occurrence after ``after``, and the contacts with none."""
    upcoming: list[tuple[int, Occurrence]] = []
    none: list[int] = []
    for contact_id, time_zone, value in rows:
        occurrence = memo.next(memo.day(value, time_zone), time_zone, after)
        if occurrence is None:
            none.append(contact_id)
        else:
            upcoming.append((contact_id, occurrence))
    return upcoming, none


def _still(automation_id: int, version_id: int) -> Exists:
    """True while the automation is active on that version of a date trigger."""
    return Exists(
        Automation.objects.filter(
            pk=automation_id,
            live_version_id=version_id,
            state=State.ACTIVE,
            trigger_type=TRIGGER_TYPE,
        )
    )


def _write(
    automation_id: int,
    version_id: int,
    upcoming: Sequence[tuple[int, Occurrence]],
    none: Sequence[int],
    *,
    keep_due_by: datetime.datetime | None,
    insert_only: bool = False,
) -> None:
    """Upserts the rows of ``upcoming`` and deletes those of ``none``, each statement only if
    the automation is still active on that version. With ``keep_due_by``, a row already due
    by then is left alone (the pass's to handle); a row that would not change is not written.
    ``insert_only`` when no row can exist yet: a plain insert (an ``IntegrityError`` if one
    does), without the conflict check that costs a third of the statement.
    """
    if none:
        gone = DateSchedule.objects.filter(automation_id=automation_id, contact_id__any=list(none))
        if keep_due_by is not None:
            gone = gone.filter(due_at__gt=keep_due_by)
        gone.filter(_still(automation_id, version_id)).delete()
    if not upcoming:
        return
    quote = connection.ops.quote_name
    table = quote(DateSchedule._meta.db_table)
    automations = quote(Automation._meta.db_table)
    due_at = DateSchedule._meta.get_field("due_at")
    guard = (
        f"EXISTS (SELECT 1 FROM {automations} WHERE id = %s AND live_version_id = %s "  # noqa: S608
        "AND state = %s AND trigger_type = %s)"
    )
    guard_params: list[Any] = [automation_id, version_id, State.ACTIVE.value, TRIGGER_TYPE]
    changed = f"({table}.due_at <> excluded.due_at OR {table}.occurrence <> excluded.occurrence)"
    changed_params: list[Any] = []
    if keep_due_by is not None:
        changed = f"{table}.due_at > %s AND {changed}"
        changed_params = [due_at.get_db_prep_value(keep_due_by, connection)]
    head = f"INSERT INTO {table} (automation_id, contact_id, due_at, occurrence)"
    tail = (
        "ON CONFLICT (automation_id, contact_id) DO UPDATE "
        f"SET due_at = excluded.due_at, occurrence = excluded.occurrence WHERE {changed}"
    )
    if insert_only:
        tail, changed_params = "", []
    statements: list[tuple[str, list[Any]]] = []
    if connection.vendor == "postgresql":
        # One statement whatever the rows, passed as one JSON array (as bulk_insert does).
        said: dict[datetime.datetime, str] = {}  # rows share few instants: each said once
        for _, o in upcoming:
            if o.due_at not in said:
                said[o.due_at] = o.due_at.isoformat()
        data = json.dumps([[pk, said[o.due_at], o.key] for pk, o in upcoming])
        select = "SELECT %s, (r->>0)::bigint, (r->>1)::timestamptz, r->>2"
        sql = f"{head} {select} FROM json_array_elements(%s::json) AS r WHERE {guard} {tail}"
        statements.append((sql, [automation_id, data, *guard_params, *changed_params]))
    else:
        per = (connection.features.max_query_params or 999) // 3 - 10
        for start in range(0, len(upcoming), per):
            part = upcoming[start : start + per]
            params: list[Any] = []
            for pk, o in part:
                params += [pk, due_at.get_db_prep_value(o.due_at, connection), o.key]
            values = ", ".join(["(%s, %s, %s)"] * len(part))
            select = f"SELECT %s, column1, column2, column3 FROM (VALUES {values})"  # noqa: S608
            sql = f"{head} {select} WHERE {guard} {tail}"
            statements.append((sql, [automation_id, *params, *guard_params, *changed_params]))
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)


def _live(automation: Automation) -> Settings | None:
    """The live trigger of an active date automation, else None."""
    version = automation.live_version
    if automation.state != State.ACTIVE or version is None:
        return None
    trigger = version.definition["trigger"]
    return trigger if trigger.get("type") == TRIGGER_TYPE else None


def _batches(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _inserted(
    automation_id: int,
    version_id: int,
    upcoming: Sequence[tuple[int, Occurrence]],
    now: datetime.datetime,
) -> bool:
    """Inserts the rows without a conflict check, or says it could not: a row was written
    meanwhile (a contact created since), and none of these is kept."""
    try:
        with transaction.atomic():  # a savepoint
            _write(automation_id, version_id, upcoming, [], keep_due_by=now, insert_only=True)
    except IntegrityError:
        return False
    return True


def schedule_rebuild(*, automation: Automation) -> int:
    """Every contact's next occurrence for this active date automation, ``CHUNK`` contacts a
    transaction; rows of contacts with none to come are deleted. Returns how many contacts
    have one."""
    settings = _live(automation)
    if settings is None or automation.live_version_id is None:
        return 0
    version_id = automation.live_version_id
    contacts = Contact.objects.filter(organization_id=automation.organization_id)
    scheduled = 0
    # One read of the organization's contacts (a server-side cursor on PostgreSQL), written a
    # chunk at a time, every chunk from the same instant: a contact created meanwhile is
    # scheduled by its own event.
    now, memo = timezone.now(), _Memo(settings)
    # On an activation there is no row yet: plain inserts, until a chunk meets a row written
    # meanwhile (a contact created since), and upserts from then on.
    fresh = not DateSchedule.objects.filter(automation_id=automation.pk).exists()
    values = _contact_values(settings, contacts).iterator(chunk_size=CHUNK)
    for chunk in _batches(values, CHUNK):
        upcoming, none = _upcoming(memo, chunk, now)
        scheduled += len(upcoming)
        with transaction.atomic():
            if fresh and _inserted(automation.pk, version_id, upcoming, now):
                upcoming = []
            else:
                fresh = False
            _write(automation.pk, version_id, upcoming, none, keep_due_by=now)
    logger.info("dates: %s contacts scheduled for automation %s", scheduled, automation.pk)
    return scheduled


def schedule_clear(*, automation_id: int) -> int:
    """Deletes the automation's rows unless it is (by now) an active date automation."""
    active = Exists(
        Automation.objects.filter(pk=automation_id, state=State.ACTIVE, trigger_type=TRIGGER_TYPE)
    )
    deleted, _ = DateSchedule.objects.filter(automation_id=automation_id).filter(~active).delete()
    return deleted


def schedule_sync(*, automation_id: int) -> int:
    """The automation's rows as its state and trigger now say: rebuilt when it is an active
    date automation, deleted otherwise (paused, archived, another trigger)."""
    automation = Automation.objects.select_related("live_version").filter(pk=automation_id).first()
    if automation is None:
        return 0
    if _live(automation) is not None:
        return schedule_rebuild(automation=automation)
    return schedule_clear(automation_id=automation_id)


def schedule_contacts(*, organization_id: int, contact_ids: Sequence[int]) -> int:
    """Re-evaluates these contacts (created, or their date or time zone changed) for every
    active date automation of the organization. Returns the rows written or kept."""
    automations = Automation.objects.filter(
        organization_id=organization_id, state=State.ACTIVE, trigger_type=TRIGGER_TYPE
    ).select_related("live_version")
    total = 0
    for automation in automations:
        settings = _live(automation)
        if settings is None or automation.live_version_id is None or not contact_ids:
            continue
        contacts = Contact.objects.filter(organization_id=organization_id)
        rows = list(_contact_values(settings, contacts.filter(pk__any=list(contact_ids))))
        now = timezone.now()
        upcoming, none = _upcoming(_Memo(settings), rows, now)
        with transaction.atomic():
            _write(automation.pk, automation.live_version_id, upcoming, none, keep_due_by=now)
        total += len(upcoming)
    return total
