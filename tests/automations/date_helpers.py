"""Building blocks of the date trigger's tests: a birthday trigger and UTC instants."""

from __future__ import annotations

import datetime

UTC = datetime.UTC
BIRTHDAY = {
    "type": "date_field",
    "field": "custom.birthday",
    "offset_days": 0,
    "time": "09:00",
    "recurrence": "yearly",
}


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, second, tzinfo=UTC)
