"""A date automation's schedule follows its life: built on activation (and through the API),
rebuilt on publish and resume, dropped on pause, archive or another trigger; a rebuild never
moves a row already due, and only a date or time zone change re-evaluates a contact."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from automations.models import DateSchedule, State
from automations.services import dates
from automations.services.automations import (
    automation_activate,
    automation_archive,
    automation_pause,
    automation_publish,
    automation_update,
)
from automations.services.date_pass import dates_enrol_due
from automations.services.dates import schedule_rebuild
from contacts.models import Contact
from contacts.services.contacts import contact_update
from tests.automations.date_helpers import BIRTHDAY, at
from tests.automations.helpers import active, contact, send, template

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connection", "enqueued")]


@pytest.fixture
def ada(personas: Any) -> Contact:
    return contact(
        personas, "+14155550101", time_zone="UTC", custom_fields={"birthday": "1990-06-15"}
    )


def rows() -> list[tuple[int, datetime.datetime, str]]:
    return sorted(DateSchedule.objects.values_list("contact_id", "due_at", "occurrence"))


def birthdays(personas: Any, commits: Any) -> Any:
    with commits():
        return active(personas, trigger=BIRTHDAY, steps=[send(template(personas))])


def republish(automation: Any, commits: Any, **trigger: Any) -> None:
    draft = {**automation.draft, "trigger": {**automation.draft["trigger"], **trigger}}
    with commits():
        automation_update(automation=automation, definition=draft, complete=True)
        automation_publish(automation=automation)


def test_it_builds_the_schedule_only_once_the_activation_commits(personas, ada, clock, commits):
    with commits() as callbacks:
        automation = active(personas, trigger=BIRTHDAY, steps=[send(template(personas))])
        assert rows() == []  # nothing in the request's transaction

    assert len(callbacks) == 1
    assert automation.state == State.ACTIVE
    assert rows() == [(ada.pk, at(2026, 6, 15, 9, 0), "2026-06-15")]


def test_creating_it_active_through_the_api_builds_the_schedule(personas, ada, clock, commits):
    data = {
        "name": "Birthdays",
        "state": "active",
        "trigger": BIRTHDAY,
        "steps": [send(template(personas))],
    }

    with commits():
        response = personas.api("marketer").post("/api/v1/automations/", data, format="json")

    assert response.status_code == 201, response.content
    assert rows() == [(ada.pk, at(2026, 6, 15, 9, 0), "2026-06-15")]


def test_the_api_names_the_bad_setting(personas):
    steps = [send(template(personas))]
    data = {"name": "Birthdays", "trigger": {**BIRTHDAY, "time": "25:00"}, "steps": steps}

    response = personas.api("marketer").post("/api/v1/automations/", data, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "trigger.time": ["Give a time of day as HH:MM (24-hour)."]
    }
    assert not DateSchedule.objects.exists()


def test_pausing_drops_the_schedule_and_resuming_rebuilds_it_from_now(
    personas, ada, clock, commits
):
    automation = birthdays(personas, commits)

    with commits():
        automation_pause(automation=automation)
    assert rows() == []

    clock.now = at(2026, 6, 20, 12, 0)  # this year's birthday passed while paused
    with commits():
        automation_activate(automation=automation)
    assert rows() == [(ada.pk, at(2027, 6, 15, 9, 0), "2027-06-15")]
    assert dates_enrol_due() == 0


def test_archiving_drops_the_schedule(personas, ada, clock, commits):
    automation = birthdays(personas, commits)

    with commits():
        automation_archive(automation=automation)

    assert rows() == []


def test_publishing_another_trigger_drops_the_schedule(personas, ada, clock, commits):
    automation = birthdays(personas, commits)

    with commits():
        automation_update(
            automation=automation,
            definition={**automation.draft, "trigger": {"type": "tag_added", "tag": "vip"}},
            complete=True,
        )
        automation_publish(automation=automation)

    assert rows() == []


def test_publishing_a_new_time_moves_the_schedule(personas, ada, clock, commits):
    automation = birthdays(personas, commits)

    republish(automation, commits, time="18:30", offset_days=-1)

    assert rows() == [(ada.pk, at(2026, 6, 14, 18, 30), "2026-06-14")]


def test_a_rebuild_leaves_a_due_row_to_the_pass_which_follows_the_live_trigger(
    personas, ada, clock, commits
):
    automation = birthdays(personas, commits)
    clock.now = at(2026, 6, 15, 9, 0, 20)  # due, and the beat has not run yet

    republish(automation, commits, time="10:00")
    assert rows() == [(ada.pk, at(2026, 6, 15, 9, 0), "2026-06-15")]

    assert dates_enrol_due() == 0  # 09:00 is no longer the time: moved to 10:00 today
    assert rows() == [(ada.pk, at(2026, 6, 15, 10, 0), "2026-06-15")]
    clock.now = at(2026, 6, 15, 10, 0, 20)
    assert dates_enrol_due() == 1
    assert list(automation.runs.values_list("occurrence_key", "version__number")) == [
        ("2026-06-15", 2)
    ]


def test_a_rebuild_works_in_chunks_and_drops_contacts_without_a_date(
    personas, clock, commits, monkeypatch
):
    monkeypatch.setattr(dates, "CHUNK", 2)
    people = [
        contact(
            personas,
            f"+1415555010{n}",
            time_zone="UTC",
            custom_fields={"birthday": f"1990-06-1{n}"},
        )
        for n in range(5)
    ]
    automation = birthdays(personas, commits)
    assert len(rows()) == 5

    Contact.objects.filter(pk=people[3].pk).update(custom_fields={})
    assert schedule_rebuild(automation=automation) == 4

    assert [row[0] for row in rows()] == [p.pk for n, p in enumerate(people) if n != 3]


def test_a_change_to_another_field_does_not_re_evaluate(personas, ada, clock, commits, monkeypatch):
    birthdays(personas, commits)
    calls: list[tuple[int, list[int]]] = []
    monkeypatch.setattr(
        "automations.tasks.schedule_contact_dates.delay", lambda *args: calls.append(args)
    )

    with commits():
        contact_update(contact=ada, source="ui", first_name="Grace")
    assert calls == []
    with commits():
        contact_update(contact=ada, source="ui", custom_fields={"birthday": "1990-06-16"})
    assert calls == [(personas.org.pk, [ada.pk])]


def test_a_paused_automation_enrols_nobody_even_with_rows_left(personas, ada, clock, commits):
    automation = birthdays(personas, commits)
    automation_pause(automation=automation)  # its task not run: the rows are still there
    assert len(rows()) == 1

    clock.now = at(2026, 6, 15, 9, 0, 20)
    assert dates_enrol_due() == 0
    assert not automation.runs.exists()


def test_a_contact_scheduled_during_an_activation_leaves_every_row_right(
    personas, clock, commits, monkeypatch
):
    monkeypatch.setattr(dates, "CHUNK", 2)
    people = [
        contact(
            personas, f"+1415555010{n}", time_zone="UTC", custom_fields={"birthday": "1990-06-15"}
        )
        for n in range(4)
    ]
    upcoming = dates._upcoming
    calls: list[int] = []

    def meanwhile(*args: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:  # a worker schedules the last contact between two chunks
            dates.schedule_contacts(organization_id=personas.org.pk, contact_ids=[people[3].pk])
        return upcoming(*args)

    inserted = dates._inserted
    plain: list[bool] = []

    def recorded(*args: Any) -> bool:
        plain.append(inserted(*args))
        return plain[-1]

    monkeypatch.setattr(dates, "_upcoming", meanwhile)
    monkeypatch.setattr(dates, "_inserted", recorded)
    birthdays(personas, commits)

    assert plain == [True, False]  # the second chunk met the row and was upserted instead
    assert rows() == [(p.pk, at(2026, 6, 15, 9, 0), "2026-06-15") for p in people]
