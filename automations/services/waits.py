"""When a wait step ends, in the contact's time zone.

``minutes`` and ``hours`` are lengths of time (two hours are two hours, even across a
daylight-saving change); ``days`` are calendar days: "wait 2 days" from 09:30 ends at 09:30
local time two days later, whether the clocks moved in between or not. ``until`` is the next
local time of day, on one of the weekdays if any are given, strictly after now. A local time
that does not exist (skipped when the clocks go forward) is read with the offset before the
change, so it lands just after the gap; one that happens twice is its first occurrence.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from automations.definition import WEEKDAYS

UTC = datetime.UTC


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _instant(day: datetime.date, at: datetime.time, zone: ZoneInfo) -> datetime.datetime:
    local = datetime.datetime.combine(day, at, tzinfo=zone)  # fold=0: the first occurrence
    return local.astimezone(UTC)


def wait_until(
    step: Mapping[str, Any], now: datetime.datetime, time_zone: str
) -> datetime.datetime:
    """The instant (UTC) a wait step entered at ``now`` ends for a contact in ``time_zone``."""
    zone = zone_of(time_zone)
    if "until" in step:
        hour, minute = (int(part) for part in step["until"]["time"].split(":"))
        weekdays = {WEEKDAYS.index(d) for d in step["until"]["weekdays"]} or set(range(7))
        today = now.astimezone(zone).date()
        for ahead in range(8):
            day = today + datetime.timedelta(days=ahead)
            if day.weekday() not in weekdays:
                continue
            instant = _instant(day, datetime.time(hour, minute), zone)
            if instant > now:
                return instant
        raise AssertionError("a weekday repeats within 8 days")  # pragma: no cover
    [(unit, amount)] = step["duration"].items()
    if unit == "days":
        local = now.astimezone(zone)
        day = local.date() + datetime.timedelta(days=amount)
        return _instant(day, local.time().replace(tzinfo=None), zone)
    return now + datetime.timedelta(**{unit: amount})
