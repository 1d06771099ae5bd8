"""``date_field``: a date of the contact's comes round
(``{"type": "date_field", "field": "custom.birthday", "offset_days": 0, "time": "09:00",
"recurrence": "yearly"}``).

The date is ``created_at`` (the day the contact was added, in the contact's time zone) or a
custom field holding ``YYYY-MM-DD``. The contact enrols ``offset_days`` after it (before it
when negative), at ``time`` in their own time zone; ``once`` on that one date, or ``yearly``
on every anniversary (29 February falls on 28 February in other years). No event fires it:
``services/dates.py`` keeps each contact's next occurrence and the beat's pass enrols them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from automations.definition.steps import TIME
from automations.triggers import Settings, Trigger, register
from tenants.errors import ApplicationError
from tenants.models import Organization

CREATED_AT = "created_at"
CUSTOM = re.compile(r"^custom\.([a-z][a-z0-9_]{0,49})$")  # a custom field's key, as contacts'
MAX_OFFSET = 365
RECURRENCES = ("once", "yearly")


def custom_key(field: str) -> str | None:
    """The custom field's key of ``custom.<key>``, or None for ``created_at``."""
    found = CUSTOM.match(field)
    return found.group(1) if found else None


def clean(organization: Organization, data: Mapping[str, Any]) -> Settings:
    field = data.get("field")
    field = field.strip() if isinstance(field, str) else ""
    if field != CREATED_AT and not CUSTOM.match(field):
        raise ApplicationError.for_field(
            "trigger.field",
            "Choose the date: created_at, or custom.<key> for a custom field holding a date "
            "(YYYY-MM-DD), such as custom.birthday.",
        )
    offset = data.get("offset_days")
    if offset is None or offset == "":
        offset = 0
    if isinstance(offset, str) and re.fullmatch(r"-?\d{1,3}", offset.strip()):
        offset = int(offset)
    if not isinstance(offset, int) or isinstance(offset, bool) or abs(offset) > MAX_OFFSET:
        raise ApplicationError.for_field(
            "trigger.offset_days",
            f"Give the days after the date as a whole number from -{MAX_OFFSET} to {MAX_OFFSET} "
            "(negative: before it).",
        )
    time = data.get("time") or "09:00"
    if not isinstance(time, str) or not TIME.match(time):
        raise ApplicationError.for_field("trigger.time", "Give a time of day as HH:MM (24-hour).")
    recurrence = data.get("recurrence")
    if recurrence not in RECURRENCES:  # no default: "yearly" by mistake texts every year
        raise ApplicationError.for_field(
            "trigger.recurrence", "Choose the recurrence: once or yearly."
        )
    return {"field": field, "offset_days": offset, "time": time, "recurrence": recurrence}


def describe(settings: Settings) -> str:
    field, offset = settings["field"], settings["offset_days"]
    key = custom_key(field)
    if key is None:
        the_date = "the contact was created"
        on_the_day = "On the day the contact was created"
    else:
        the_date = f"each contact's {key.replace('_', ' ')} ({field})"
        on_the_day = f"On {the_date}"
    if offset:
        days = f"{abs(offset)} day{'s' if abs(offset) != 1 else ''}"
        when = f"{days} {'after' if offset > 0 else 'before'} {the_date}"
        when = when[0].upper() + when[1:]
    else:
        when = on_the_day
    # "…the contact was created at 10:00" would read as the time of creation.
    at = ", at" if key is None else " at"
    every = ", every year" if settings["recurrence"] == "yearly" else ""
    return f"{when}{at} {settings['time']}{every}"


TRIGGER = register(
    Trigger(
        type="date_field",
        event="",  # never an event: the beat's pass enrols each contact when their date comes
        label="Date",
        description="A contact's date comes round, such as a birthday or the day they joined, "
        "at a time of day in their own time zone.",
        clean=clean,
        describe=describe,
        matches=lambda settings, event: False,
        position=60,
    )
)
