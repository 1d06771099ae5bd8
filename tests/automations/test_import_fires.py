"""An import fires automations only when asked: at its end, once per contact, followed as one
launch per automation; without the option its changes enrol nobody (date schedules still
follow them)."""

from __future__ import annotations

import pytest

from automations.models import AutomationRun, DateSchedule, Launch, LaunchKind, LaunchState
from contacts.imports import run
from messaging.models import Message
from tests.automations.date_helpers import BIRTHDAY
from tests.automations.helpers import active, send, template
from tests.contacts.import_helpers import imported

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connection", "enqueued")]

ROWS = [["Phone", "Name", "Tags", "Birthday"]] + [
    [f"+1415555{n:04d}", f"P{n}", "new-lead", "1990-06-15"] for n in range(7)
]


@pytest.fixture
def automations(personas):
    welcome = template(personas)
    tagged = active(
        personas,
        name="Welcome new leads",
        trigger={"type": "tag_added", "tag": "new-lead"},
        steps=[send(welcome, respect_quiet_hours=False)],
    )
    created = active(
        personas,
        name="Hello",
        trigger={"type": "contact_created"},
        steps=[send(welcome, respect_quiet_hours=False)],
    )
    birthday = active(
        personas,
        name="Birthday",
        trigger=BIRTHDAY,
        steps=[send(welcome, respect_quiet_hours=False)],
    )
    return tagged, created, birthday


def test_without_the_option_an_import_enrols_nobody_but_schedules_the_dates(
    personas, automations, django_capture_on_commit_callbacks
):
    *_, birthday = automations
    with django_capture_on_commit_callbacks(execute=True):
        imported(personas.org, ROWS)

    assert AutomationRun.objects.count() == 0
    assert Message.objects.count() == 0
    assert DateSchedule.objects.filter(automation=birthday).count() == 7


def test_with_the_option_each_contact_enters_each_automation_once_through_a_launch(
    personas, automations, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr("contacts.signals.CHUNK_SIZE", 3)
    monkeypatch.setattr(run, "BATCH", 2)
    tagged, created, _ = automations
    with django_capture_on_commit_callbacks(execute=True):
        contact_import = imported(personas.org, ROWS, options={"fire_automations": True})

    assert contact_import.created == 7
    for automation in (tagged, created):
        runs = AutomationRun.objects.filter(automation=automation)
        assert runs.count() == 7
        assert runs.values("contact").distinct().count() == 7
        launch = Launch.objects.get(automation=automation)
        assert (launch.kind, launch.state, launch.total, launch.enrolled, launch.source) == (
            LaunchKind.BULK_EVENT,
            LaunchState.COMPLETED,
            7,
            7,
            "import",
        )
    assert Message.objects.count() == 14


def test_a_second_import_of_the_same_rows_fires_nothing_new(
    personas, automations, django_capture_on_commit_callbacks
):
    tagged, created, _ = automations
    with django_capture_on_commit_callbacks(execute=True):
        imported(personas.org, ROWS, options={"fire_automations": True})
        again = imported(personas.org, ROWS, options={"fire_automations": True})

    assert (again.created, again.unchanged) == (0, 7)
    assert AutomationRun.objects.filter(automation=tagged).count() == 7
    assert AutomationRun.objects.filter(automation=created).count() == 7
