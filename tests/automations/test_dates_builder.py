"""The Date card in the builder: its labelled fields on the new-automation page and in the
editor, a draft made from it, and its errors next to their fields."""

from __future__ import annotations

import re

import pytest

from automations.definition import empty_definition
from automations.models import Automation
from tests.automations.page_helpers import (
    NEW,
    draft_automation,
    edit_path,
    follow,
    fresh,
    section,
    snapshot,
)
from tests.factories import page_text

pytestmark = pytest.mark.django_db

BIRTHDAY = {
    "type": "date_field",
    "field": "custom.birthday",
    "offset_days": 0,
    "time": "09:00",
    "recurrence": "yearly",
}
LABELS = {
    "date_field_field": "Date",
    "date_field_offset_days": "Days after the date",
    "date_field_time": "Time of day",
}


def card(html: str) -> str:
    start = html.index('data-trigger="date_field"')
    return html[start : html.index('<div class="trigger-card"', start)]


def test_it_shows_the_date_card_with_a_label_for_every_field(personas):
    html = page_text(personas.client("marketer").get(NEW))

    date_card = card(html)
    assert "<strong>Date</strong>" in date_card
    for name, label in LABELS.items():
        assert f'<label for="id_{name}">{label}' in date_card
        assert f'name="{name}"' in date_card
    assert "<legend>Repeat</legend>" in date_card
    assert re.search(r'name="date_field_recurrence" value="once"', date_card)
    assert re.search(r'name="date_field_recurrence" value="yearly"', date_card)
    assert not re.search(r'name="date_field_recurrence"[^>]*checked', date_card)
    assert 'type="time"' in date_card
    assert 'value="09:00"' in date_card


def test_it_creates_a_draft_from_the_date_card(personas):
    client = personas.client("marketer")

    response = client.post(
        NEW,
        {
            "name": "Welcome anniversary",
            "trigger_type": "date_field",
            "date_field_field": " created_at ",
            "date_field_offset_days": "3",
            "date_field_time": "10:00",
            "date_field_recurrence": "once",
            "tag_added_tag": "ignored",
        },
    )

    automation = Automation.objects.get()
    assert automation.draft == empty_definition(
        {
            "type": "date_field",
            "field": "created_at",
            "offset_days": 3,
            "time": "10:00",
            "recurrence": "once",
        }
    )
    assert "3 days after the contact was created, at 10:00" in follow(client, response)


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"date_field_field": "birthday"}, "date_field_field", "Choose the date: created_at"),
        (
            {"date_field_offset_days": "400"},
            "date_field_offset_days",
            "Give the days after the date as a whole number",
        ),
        ({"date_field_time": "9"}, "date_field_time", "Give a time of day as HH:MM"),
        ({"date_field_recurrence": ""}, "date_field_recurrence", "Choose the recurrence"),
    ],
)
def test_it_shows_a_bad_setting_next_to_its_field_and_creates_nothing(personas, data, field, error):
    good = {
        "date_field_field": "custom.birthday",
        "date_field_offset_days": "0",
        "date_field_time": "09:00",
        "date_field_recurrence": "yearly",
    }

    response = personas.client("marketer").post(
        NEW, {"name": "Birthdays", "trigger_type": "date_field", **good, **data}
    )

    assert response.status_code == 400
    assert re.search(rf'id="id_{field}_error">{re.escape(error)}', page_text(response))
    assert Automation.objects.count() == 0


def test_the_editor_shows_the_date_settings_and_saves_a_change(personas):
    automation = draft_automation(personas.org, trigger={**BIRTHDAY, "time": "08:15"})
    client = personas.client("marketer")

    trigger = section(client.get(edit_path(automation)), "trigger")
    assert re.search(r'value="date_field"[^>]*checked', trigger)
    assert 'value="custom.birthday"' in trigger
    assert 'value="08:15"' in trigger
    assert re.search(r'name="date_field_recurrence" value="yearly"[^>]*checked', trigger)

    response = client.post(
        edit_path(automation, "trigger/"),
        {
            "trigger_type": "date_field",
            "date_field_field": "custom.renewal_date",
            "date_field_offset_days": "-7",
            "date_field_time": "18:00",
            "date_field_recurrence": "once",
        },
    )
    assert response.status_code == 302
    assert fresh(automation).draft["trigger"] == {
        "type": "date_field",
        "field": "custom.renewal_date",
        "offset_days": -7,
        "time": "18:00",
        "recurrence": "once",
    }


def test_the_editor_refuses_a_bad_date_and_changes_nothing(personas):
    automation = draft_automation(personas.org, trigger=BIRTHDAY)
    before = snapshot()

    response = personas.client("marketer").post(
        edit_path(automation, "trigger/"),
        {"trigger_type": "date_field", "date_field_field": "custom.", "date_field_time": "09:00"},
    )

    assert response.status_code == 400
    assert "Choose the date: created_at" in section(response, "trigger")
    assert 'value="custom."' in section(response, "trigger")
    assert snapshot() == before
