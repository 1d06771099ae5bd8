"""The date triggers' pass: each contact enrolled at the local time in their own zone, once
per occurrence, on a daylight-saving day, every year across a leap year; a changed date
re-evaluated; a contact created after the day only gets the dates to come; a pass that comes
too late skips the occurrence."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from automations.models import AutomationRun, DateSchedule, Reason, RunState
from automations.services.date_pass import dates_enrol_due
from automations.services.dates import GRACE
from automations.tasks import enrol_due_dates
from contacts.models import ConsentSource, Contact
from contacts.services.consent import consent_opt_out
from contacts.services.contacts import contact_update
from messaging.models import Message
from tests.automations.date_helpers import BIRTHDAY, at
from tests.automations.helpers import active, contact, send, template

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connection", "enqueued")]


def dated(personas: Any, commits: Any, *, name: str = "Birthdays", **trigger: Any) -> Any:
    steps = [send(template(personas, name=f"{name} text", body="Happy birthday {{ first_name }}!"))]
    with commits():
        return active(personas, trigger={**BIRTHDAY, **trigger}, steps=steps, name=name)


def person(
    personas: Any, phone: str, birthday: str = "1990-06-15", zone: str = "UTC", **data: Any
) -> Contact:
    return contact(personas, phone, time_zone=zone, custom_fields={"birthday": birthday}, **data)


def schedule(automation: Any) -> dict[int, tuple[datetime.datetime, str]]:
    return {
        row.contact_id: (row.due_at, row.occurrence)
        for row in DateSchedule.objects.filter(automation=automation)
    }


def enrolled(automation: Any) -> list[tuple[int, str]]:
    return sorted(
        automation.runs.exclude(state=RunState.SKIPPED).values_list("contact_id", "occurrence_key")
    )


def test_date_triggers_at_local_time_in_three_time_zones(personas, clock, commits):
    tokyo = person(personas, "+14155550101", zone="Asia/Tokyo")
    paris = person(personas, "+14155550102", zone="Europe/Paris")
    la = person(personas, "+14155550103", zone="America/Los_Angeles")
    automation = dated(personas, commits)
    assert schedule(automation) == {
        tokyo.pk: (at(2026, 6, 15, 0, 0), "2026-06-15"),
        paris.pk: (at(2026, 6, 15, 7, 0), "2026-06-15"),
        la.pk: (at(2026, 6, 15, 16, 0), "2026-06-15"),
    }

    clock.now = at(2026, 6, 14, 23, 59, 30)
    assert dates_enrol_due() == 0
    clock.now = at(2026, 6, 15, 0, 0, 20)
    assert dates_enrol_due() == 1
    assert enrolled(automation) == [(tokyo.pk, "2026-06-15")]
    clock.now = at(2026, 6, 15, 7, 0, 20)
    assert dates_enrol_due() == 1
    clock.now = at(2026, 6, 15, 16, 0, 20)
    assert dates_enrol_due() == 1

    assert enrolled(automation) == sorted(
        [(tokyo.pk, "2026-06-15"), (paris.pk, "2026-06-15"), (la.pk, "2026-06-15")]
    )
    runs = AutomationRun.objects.filter(automation=automation)
    assert set(runs.values_list("state", flat=True)) == {RunState.COMPLETED}
    assert set(runs.values_list("source", flat=True)) == {"system"}
    assert set(runs.values_list("event_key", flat=True)) == {"date:2026-06-15"}
    text = "Happy birthday Ada!\nReply STOP to opt out"
    assert sorted(Message.objects.values_list("to", "body")) == [
        ("+14155550101", text),
        ("+14155550102", text),
        ("+14155550103", text),
    ]
    # Each row has moved on to next year's birthday.
    assert schedule(automation) == {
        tokyo.pk: (at(2027, 6, 15, 0, 0), "2027-06-15"),
        paris.pk: (at(2027, 6, 15, 7, 0), "2027-06-15"),
        la.pk: (at(2027, 6, 15, 16, 0), "2027-06-15"),
    }


def test_date_triggers_at_local_time_on_a_daylight_saving_day(personas, clock, commits):
    clock.now = at(2026, 3, 1, 12, 0)
    new_york = person(personas, "+14155550101", birthday="1985-03-08", zone="America/New_York")
    automation = dated(personas, commits)
    # 09:00 on 8 March is EDT (UTC-4): the clocks went forward at 02:00 that morning.
    assert schedule(automation) == {new_york.pk: (at(2026, 3, 8, 13, 0), "2026-03-08")}

    clock.now = at(2026, 3, 8, 12, 59, 50)  # 08:59:50 EDT; 09:00 in EST would have been due
    assert dates_enrol_due() == 0
    clock.now = at(2026, 3, 8, 13, 0, 10)
    assert dates_enrol_due() == 1
    assert enrolled(automation) == [(new_york.pk, "2026-03-08")]
    assert schedule(automation) == {new_york.pk: (at(2027, 3, 8, 14, 0), "2027-03-08")}  # EST


def test_date_triggers_yearly_across_a_leap_year(personas, clock, commits):
    clock.now = at(2027, 2, 1, 12, 0)
    leapling = person(personas, "+14155550101", birthday="2000-02-29")
    automation = dated(personas, commits)  # re-entry "once": each date enrols all the same
    assert schedule(automation) == {leapling.pk: (at(2027, 2, 28, 9, 0), "2027-02-28")}

    clock.now = at(2027, 2, 28, 9, 0, 30)
    assert dates_enrol_due() == 1
    assert schedule(automation) == {leapling.pk: (at(2028, 2, 29, 9, 0), "2028-02-29")}
    clock.now = at(2028, 2, 29, 9, 0, 30)
    assert dates_enrol_due() == 1
    assert schedule(automation) == {leapling.pk: (at(2029, 2, 28, 9, 0), "2029-02-28")}

    assert enrolled(automation) == [(leapling.pk, "2027-02-28"), (leapling.pk, "2028-02-29")]
    assert Message.objects.filter(contact=leapling).count() == 2


def test_date_triggers_a_changed_date_is_re_evaluated(personas, clock, commits):
    ada = person(personas, "+14155550101")
    automation = dated(personas, commits)

    with commits():
        contact_update(contact=ada, source="ui", custom_fields={"birthday": "1990-06-20"})
    assert schedule(automation) == {ada.pk: (at(2026, 6, 20, 9, 0), "2026-06-20")}
    with commits():
        contact_update(contact=ada, source="api", time_zone="Asia/Tokyo")
    assert schedule(automation) == {ada.pk: (at(2026, 6, 20, 0, 0), "2026-06-20")}

    clock.now = at(2026, 6, 15, 9, 0, 30)
    assert dates_enrol_due() == 0
    clock.now = at(2026, 6, 20, 0, 0, 30)
    assert dates_enrol_due() == 1
    assert enrolled(automation) == [(ada.pk, "2026-06-20")]


def test_date_triggers_a_date_removed_drops_the_contacts_schedule(personas, clock, commits):
    ada = person(personas, "+14155550101")
    automation = dated(personas, commits)

    with commits():
        contact_update(contact=ada, source="ui", custom_fields={"plan": "pro"})

    assert schedule(automation) == {}


def test_date_triggers_a_date_changed_unannounced_is_checked_when_due(personas, clock, commits):
    ada = person(personas, "+14155550101")
    automation = dated(personas, commits)
    # Changed without its event (or before the event's task ran): the row is stale.
    Contact.objects.filter(pk=ada.pk).update(custom_fields={"birthday": "1990-07-01"})

    clock.now = at(2026, 6, 15, 9, 0, 30)
    assert dates_enrol_due() == 0

    assert enrolled(automation) == []
    assert schedule(automation) == {ada.pk: (at(2026, 7, 1, 9, 0), "2026-07-01")}


def test_date_triggers_a_contact_created_after_the_day_gets_only_dates_to_come(
    personas, clock, commits
):
    clock.now = at(2026, 6, 1, 8, 0)
    early = contact(personas, "+14155550101")  # created 1 June: 3 days after is 4 June
    clock.now = at(2026, 6, 10, 12, 0)
    automation = dated(
        personas, commits, field="created_at", offset_days=3, time="10:00", recurrence="once"
    )
    assert schedule(automation) == {}

    with commits():
        late = contact(personas, "+14155550102", time_zone="Europe/Paris")
    assert schedule(automation) == {late.pk: (at(2026, 6, 13, 8, 0), "2026-06-13")}

    clock.now = at(2026, 6, 13, 8, 0, 30)
    assert dates_enrol_due() == 1
    assert enrolled(automation) == [(late.pk, "2026-06-13")]
    assert schedule(automation) == {}  # once: nothing more to come
    assert not automation.runs.filter(contact=early).exists()


def test_date_triggers_a_contact_created_after_this_years_birthday_waits_a_year(
    personas, clock, commits
):
    clock.now = at(2026, 6, 15, 9, 30)
    automation = dated(personas, commits)

    with commits():
        ada = person(personas, "+14155550101")

    assert schedule(automation) == {ada.pk: (at(2027, 6, 15, 9, 0), "2027-06-15")}
    assert dates_enrol_due() == 0


def test_date_triggers_within_the_grace_window_late_and_skips_beyond_it(personas, clock, commits):
    late = person(personas, "+14155550101")
    missed = person(personas, "+14155550102", birthday="1990-06-14")
    automation = dated(personas, commits)

    # The beat was down from 14 June 08:00 to 15 June 11:00.
    clock.now = at(2026, 6, 15, 11, 0)
    assert dates_enrol_due() == 1

    # Two hours late on the day: enrolled. A day late: skipped, and next year's is kept.
    assert datetime.timedelta(hours=6) == GRACE
    assert enrolled(automation) == [(late.pk, "2026-06-15")]
    assert schedule(automation) == {
        late.pk: (at(2027, 6, 15, 9, 0), "2027-06-15"),
        missed.pk: (at(2027, 6, 14, 9, 0), "2027-06-14"),
    }
    assert not automation.runs.filter(contact=missed).exists()


def test_date_triggers_never_late_into_the_next_local_day(personas, clock, commits):
    ada = person(personas, "+14155550101", birthday="1990-06-14")
    automation = dated(personas, commits, time="22:00")

    clock.now = at(2026, 6, 15, 0, 30)  # 2.5 hours late, but already 15 June
    assert dates_enrol_due() == 0

    assert enrolled(automation) == []
    assert schedule(automation) == {ada.pk: (at(2027, 6, 14, 22, 0), "2027-06-14")}


def test_date_triggers_once_per_occurrence_whatever_the_passes(personas, clock, commits):
    ada = person(personas, "+14155550101")
    automation = dated(personas, commits)
    clock.now = at(2026, 6, 15, 9, 0, 30)
    assert dates_enrol_due() == 1

    # The row put back as it was (a pass that died after enrolling, say): still one enrolment.
    DateSchedule.objects.filter(contact=ada).update(
        due_at=at(2026, 6, 15, 9), occurrence="2026-06-15"
    )
    assert dates_enrol_due() == 0
    assert dates_enrol_due() == 0

    assert enrolled(automation) == [(ada.pk, "2026-06-15")]
    assert Message.objects.count() == 1
    assert schedule(automation) == {ada.pk: (at(2027, 6, 15, 9, 0), "2027-06-15")}


def test_date_triggers_keep_the_rules_and_say_why_a_contact_was_skipped(personas, clock, commits):
    ada = person(personas, "+14155550101")
    consent_opt_out(
        organization=personas.org, phone=ada.phone, source=ConsentSource.INBOUND_KEYWORD
    )
    automation = dated(personas, commits)

    clock.now = at(2026, 6, 15, 9, 0, 30)
    assert enrol_due_dates.delay().get() == 0

    assert list(automation.runs.values_list("state", "reason")) == [
        (RunState.SKIPPED, Reason.OPTED_OUT)
    ]
    assert schedule(automation) == {ada.pk: (at(2027, 6, 15, 9, 0), "2027-06-15")}


def test_date_triggers_only_the_organizations_contacts_with_a_date(personas, clock, commits):
    ada = person(personas, "+14155550101")
    person(personas, "+14155550102", birthday="someday")
    contact(personas, "+14155550103")
    Contact.objects.create(
        organization=personas.other_org,
        phone="+14155550104",
        time_zone="UTC",
        custom_fields={"birthday": "1990-06-15"},
    )

    automation = dated(personas, commits)

    assert list(schedule(automation)) == [ada.pk]
