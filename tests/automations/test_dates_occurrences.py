"""When a date trigger next falls for a contact: the local time in their own zone, across
daylight-saving changes, once or every year (29 February on 28 February in other years), and
the trigger's settings checked and said in words."""

from __future__ import annotations

import datetime

import pytest

from automations.services.dates import contact_date, next_occurrence
from automations.triggers import trigger_clean, trigger_describe
from tenants.errors import ApplicationError
from tests.automations.date_helpers import BIRTHDAY, at


@pytest.mark.parametrize(
    ("zone", "due"),
    [
        ("Asia/Tokyo", at(2026, 6, 15, 0, 0)),  # UTC+9
        ("Europe/Paris", at(2026, 6, 15, 7, 0)),  # UTC+2 in summer
        ("America/Los_Angeles", at(2026, 6, 15, 16, 0)),  # UTC-7 in summer
    ],
)
def test_it_falls_at_the_local_time_in_each_contacts_zone(zone, due):
    found = next_occurrence(BIRTHDAY, datetime.date(1990, 6, 15), zone, at(2026, 6, 1))

    assert found == (due, datetime.date(2026, 6, 15))
    assert found is not None
    assert found.key == "2026-06-15"


def test_on_a_daylight_saving_day_it_keeps_the_local_time():
    # New York moves from UTC-5 to UTC-4 at 02:00 on 8 March 2026.
    before = next_occurrence(
        BIRTHDAY, datetime.date(1990, 3, 7), "America/New_York", at(2026, 3, 1)
    )
    on = next_occurrence(BIRTHDAY, datetime.date(1990, 3, 8), "America/New_York", at(2026, 3, 1))

    assert before is not None
    assert before.due_at == at(2026, 3, 7, 14, 0)
    assert on is not None
    assert on.due_at == at(2026, 3, 8, 13, 0)


def test_a_time_the_clocks_skip_falls_when_they_jump_and_a_repeated_one_the_first_time():
    spring = next_occurrence(
        {**BIRTHDAY, "time": "02:30"}, datetime.date(1990, 3, 8), "America/New_York", at(2026, 3, 1)
    )
    autumn = next_occurrence(
        {**BIRTHDAY, "time": "01:30"},
        datetime.date(1990, 11, 1),
        "America/New_York",
        at(2026, 3, 1),
    )
    half_hour = next_occurrence(  # Lord Howe Island moves on by 30 minutes at 02:00
        {**BIRTHDAY, "time": "02:15"},
        datetime.date(1990, 10, 4),
        "Australia/Lord_Howe",
        at(2026, 9, 1),
    )

    assert spring is not None
    assert spring.due_at == at(2026, 3, 8, 7, 0)  # 03:00 EDT
    assert autumn is not None
    assert autumn.due_at == at(2026, 11, 1, 5, 30)  # 01:30 EDT, not EST
    assert half_hour is not None
    assert half_hour.due_at == at(2026, 10, 3, 15, 30)  # 02:30 +11


def test_yearly_across_a_leap_year_29_february_falls_on_28_february_in_other_years():
    leapling = datetime.date(2000, 2, 29)
    tokyo = "Asia/Tokyo"

    first = next_occurrence(BIRTHDAY, leapling, tokyo, at(2026, 3, 1))
    assert first == (at(2027, 2, 28, 0, 0), datetime.date(2027, 2, 28))
    second = next_occurrence(BIRTHDAY, leapling, tokyo, first.due_at)
    assert second == (at(2028, 2, 29, 0, 0), datetime.date(2028, 2, 29))
    third = next_occurrence(BIRTHDAY, leapling, tokyo, second.due_at)
    assert third == (at(2029, 2, 28, 0, 0), datetime.date(2029, 2, 28))


def test_an_offset_moves_the_date_and_may_cross_into_another_year():
    settings = {**BIRTHDAY, "offset_days": -3}

    found = next_occurrence(settings, datetime.date(1990, 1, 1), "UTC", at(2026, 6, 1))

    assert found == (at(2026, 12, 29, 9, 0), datetime.date(2026, 12, 29))


def test_once_falls_on_the_one_date_and_never_again():
    settings = {**BIRTHDAY, "field": "custom.renewal", "recurrence": "once", "offset_days": 7}
    renewal = datetime.date(2026, 5, 1)

    assert next_occurrence(settings, renewal, "UTC", at(2026, 5, 8, 8, 59)) == (
        at(2026, 5, 8, 9, 0),
        datetime.date(2026, 5, 8),
    )
    assert next_occurrence(settings, renewal, "UTC", at(2026, 5, 8, 9, 0)) is None


def test_the_creation_date_is_read_in_the_contacts_zone():
    created = at(2026, 4, 1, 20, 0)  # already 2 April in Tokyo

    assert contact_date({"field": "created_at"}, created, "Asia/Tokyo") == datetime.date(2026, 4, 2)
    assert contact_date({"field": "created_at"}, created, "America/Chicago") == datetime.date(
        2026, 4, 1
    )


@pytest.mark.parametrize("value", ["", "soon", "2026-02-30", "20260101", "2026-1-1", None, 12])
def test_a_custom_field_that_is_no_date_gives_no_date(value):
    assert contact_date(BIRTHDAY, value, "UTC") is None


def test_it_stores_the_settings_with_their_defaults(personas):
    cleaned = trigger_clean(
        personas.org, {"type": "date_field", "field": "custom.birthday", "recurrence": "yearly"}
    )

    assert cleaned == BIRTHDAY


@pytest.mark.parametrize(
    ("data", "path", "words"),
    [
        ({"field": "birthday"}, "trigger.field", "Choose the date: created_at, or custom.<key>"),
        ({"field": "custom.Birth-Day"}, "trigger.field", "Choose the date"),
        ({"offset_days": 366}, "trigger.offset_days", "from -365 to 365"),
        ({"offset_days": 1.5}, "trigger.offset_days", "whole number"),
        ({"offset_days": True}, "trigger.offset_days", "whole number"),
        ({"time": "9am"}, "trigger.time", "HH:MM"),
        ({"time": "24:00"}, "trigger.time", "HH:MM"),
        ({"recurrence": None}, "trigger.recurrence", "once or yearly"),
        ({"recurrence": "monthly"}, "trigger.recurrence", "once or yearly"),
    ],
)
def test_it_refuses_bad_settings_naming_the_field(personas, data, path, words):
    with pytest.raises(ApplicationError) as error:
        trigger_clean(personas.org, {**BIRTHDAY, **data})

    assert list(error.value.fields) == [path]
    assert words in error.value.fields[path][0]


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        (BIRTHDAY, "On each contact's birthday (custom.birthday) at 09:00, every year"),
        (
            {
                **BIRTHDAY,
                "field": "created_at",
                "offset_days": 3,
                "time": "10:00",
                "recurrence": "once",
            },
            "3 days after the contact was created, at 10:00",
        ),
        (
            {**BIRTHDAY, "field": "custom.renewal_date", "offset_days": -1, "recurrence": "once"},
            "1 day before each contact's renewal date (custom.renewal_date) at 09:00",
        ),
        (
            {**BIRTHDAY, "field": "created_at"},
            "On the day the contact was created, at 09:00, every year",
        ),
    ],
)
def test_it_says_the_trigger_in_words(settings, words):
    assert trigger_describe(settings) == words
