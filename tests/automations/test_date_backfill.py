"""The date trigger's backfill: the contacts whose occurrence fell in the last 7 days, at the
local time in their own zone, keyed by that date; worked in chunks by a launch that enrols
nobody twice."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from automations.models import AutomationRun, LaunchKind, LaunchState
from automations.services.date_backfill import dates_backfill_chunk, dates_backfill_count
from automations.services.launches import backfill_audience, launch_create, launch_work
from tests.automations.helpers import active, contact, send, template

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connection", "enqueued")]

NOW = datetime.datetime(2026, 6, 15, 12, 0, tzinfo=datetime.UTC)


def birthday(recurrence: str = "once", **extra) -> dict:
    return {
        "type": "date_field",
        "field": "custom.birthday",
        "offset_days": 0,
        "time": "09:00",
        "recurrence": recurrence,
        **extra,
    }


def automation(personas, trigger: dict):
    return active(personas, trigger=trigger, steps=[send(template(personas))])


def person(personas, phone: str, date: str | None, zone: str = "UTC"):
    fields = {"birthday": date} if date else {}
    return contact(personas, phone, time_zone=zone, custom_fields=fields)


def test_who_already_matches_is_whose_date_fell_in_the_last_seven_days(personas):
    once = automation(personas, birthday())
    three_days = person(personas, "+14155550001", "2026-06-12")
    person(personas, "+14155550002", "2026-06-07")  # 8 days ago
    person(personas, "+14155550003", "2026-06-15", "Pacific/Honolulu")  # 19:00 UTC: to come
    new_york = person(personas, "+14155550004", "2026-06-14", "America/New_York")
    tokyo_today = person(personas, "+14155550005", "2026-06-15", "Asia/Tokyo")  # 00:00 UTC
    person(personas, "+14155550006", None)
    person(personas, "+14155550007", "not a date")

    last, found = dates_backfill_chunk(once, after_id=0, limit=100, now=NOW)

    assert found == {
        three_days.pk: "2026-06-12",
        new_york.pk: "2026-06-14",
        tokyo_today.pk: "2026-06-15",
    }
    assert last == tokyo_today.pk + 2  # every contact with the field was looked at
    assert dates_backfill_count(once, now=NOW) == 3


def test_a_yearly_date_matches_with_this_years_key(personas):
    yearly = automation(personas, birthday("yearly"))
    born = person(personas, "+14155550001", "1990-06-13", "Asia/Tokyo")
    person(personas, "+14155550002", "1990-03-01")

    assert dates_backfill_chunk(yearly, after_id=0, limit=10, now=NOW)[1] == {born.pk: "2026-06-13"}


def test_created_at_with_an_offset_counts_everyone(personas):
    signup = automation(personas, birthday(field="created_at", offset_days=2, time="00:00"))
    first = person(personas, "+14155550001", None)
    later = timezone.now() + datetime.timedelta(days=4)

    assert dates_backfill_chunk(signup, after_id=0, limit=10, now=later)[1] == {
        first.pk: (timezone.now().date() + datetime.timedelta(days=2)).isoformat()
    }


def test_chunks_follow_the_contact_ids(personas):
    once = automation(personas, birthday())
    people = [person(personas, f"+1415555000{n}", "2026-06-12") for n in range(1, 6)]

    last, found = dates_backfill_chunk(once, after_id=0, limit=2, now=NOW)
    assert (last, list(found)) == (people[1].pk, [people[0].pk, people[1].pk])
    last, found = dates_backfill_chunk(once, after_id=people[1].pk, limit=2, now=NOW)
    assert list(found) == [people[2].pk, people[3].pk]
    assert dates_backfill_chunk(once, after_id=people[-1].pk, limit=2, now=NOW) == (None, {})


def test_a_tag_or_manual_automation_has_no_date_backfill(personas):
    tagged = automation(personas, {"type": "tag_added", "tag": "vip"})
    assert dates_backfill_chunk(tagged, after_id=0, limit=10) == (None, {})
    assert dates_backfill_count(tagged) == 0


def test_a_backfill_launch_enrols_each_match_once_with_its_date(personas, monkeypatch):
    once = automation(personas, birthday())
    today = timezone.now().date()
    recent = person(personas, "+14155550001", (today - datetime.timedelta(days=3)).isoformat())
    person(personas, "+14155550002", (today - datetime.timedelta(days=30)).isoformat())
    assert backfill_audience(once) == {"date_backfill": True}

    for _ in range(2):  # the second finds them enrolled for that date already
        launch = launch_create(automation=once, kind=LaunchKind.BACKFILL)
        assert launch.total == 1
        launch_work(launch.pk)
        launch.refresh_from_db()
        assert launch.state == LaunchState.COMPLETED

    run = AutomationRun.objects.get(automation=once)
    assert (run.contact, run.occurrence_key) == (
        recent,
        (today - datetime.timedelta(days=3)).isoformat(),
    )
