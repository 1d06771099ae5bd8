"""Saving each kind of step in the editor: a Twilio SMS (one template or an A/B split), a wait,
a branch. Bad input shows its error next to the field and changes nothing."""

from __future__ import annotations

import re

import pytest

from tests.automations.page_helpers import (
    add_template,
    branch_data,
    branching,
    draft_automation,
    edit_path,
    section,
    selected,
    send_data,
    send_step,
    snapshot,
    step_path,
    steps_of,
    visible,
    wait_data,
)

pytestmark = pytest.mark.django_db

WAIT = {"id": "s2", "type": "wait", "duration": {"days": 1}}


# Twilio SMS


def test_it_offers_the_organizations_templates_with_segments_and_a_preview(personas):
    welcome = add_template(personas.org, "Welcome", "Hi {{ first_name }}, welcome!")
    add_template(personas.org, "Long", "x" * 161)
    add_template(personas.other_org, "Beta template", "Not yours")
    automation = draft_automation(personas.org, steps=[send_step(welcome)])

    step = section(personas.client("marketer").get(edit_path(automation)), "step-s1")

    assert "Welcome · 1 segment" in step
    assert "Long · 2 segments" in step
    assert "Beta template" not in step
    assert selected(step, "s1-template") == [str(welcome.public_id)]
    assert "Hi Alex, welcome!" in step
    assert "as Alex Morgan, a sample contact, receives it · 1 segment · GSM-7" in step
    assert "Create new SMS template" in step


def test_it_saves_a_send_step_with_its_template_and_quiet_hours(personas):
    welcome = add_template(personas.org)
    automation = draft_automation(personas.org, steps=[send_step(None)])

    response = personas.client("marketer").post(
        step_path(automation, "s1"),
        send_data(template=str(welcome.public_id), respect_quiet_hours=""),
    )

    assert response.status_code == 302
    assert response["Location"] == edit_path(automation) + "#step-s1"
    assert steps_of(automation) == [
        {
            "id": "s1",
            "type": "send_sms",
            "template": str(welcome.public_id),
            "respect_quiet_hours": False,
        }
    ]


def test_it_keeps_quiet_hours_on_by_default(personas):
    automation = draft_automation(personas.org, steps=[send_step(None)])

    step = section(personas.client("marketer").get(edit_path(automation)), "step-s1")

    assert re.search(r'name="s1-respect_quiet_hours"[^>]*checked', step)


def test_it_saves_an_ab_split_with_weights(personas):
    a, b, c = (add_template(personas.org, name) for name in ("A", "B", "C"))
    automation = draft_automation(personas.org, steps=[send_step(a)])
    data = send_data(
        mode="split",
        variant_0_template=str(a.public_id),
        variant_0_weight="70",
        variant_1_template="",
        variant_2_template=str(c.public_id),
        variant_2_weight="",
        variant_3_template=str(b.public_id),
        variant_3_weight="10",
    )

    response = personas.client("marketer").post(step_path(automation, "s1"), data)

    assert response.status_code == 302
    assert steps_of(automation)[0]["variants"] == [
        {"template": str(a.public_id), "weight": 70},
        {"template": str(c.public_id), "weight": 50},
        {"template": str(b.public_id), "weight": 10},
    ]
    page = personas.client("marketer").get(edit_path(automation))
    step = section(page, "step-s1")
    assert "Send one of A (70) / C (50) / B (10)" in visible(page)
    assert selected(step, "s1-variant_1_template") == [str(c.public_id)]
    assert re.search(r'value="split"[^>]*checked', step)


@pytest.mark.parametrize(
    ("fields", "field", "error"),
    [
        (
            {"mode": "split", "variant_0_template": "A"},
            "variant_1_template",
            "at least two templates",
        ),
        (
            {
                "mode": "split",
                "variant_0_template": "A",
                "variant_1_template": "A",
                "variant_1_weight": "0",
            },
            "variant_1_weight",
            "greater than or equal to 1",
        ),
        (
            {
                "mode": "split",
                "variant_0_template": "A",
                "variant_1_template": "A",
                "variant_1_weight": "101",
            },
            "variant_1_weight",
            "less than or equal to 100",
        ),
        ({"template": "BETA"}, "template", "Select a valid choice."),
        (
            {"template": "5f0c3a1e-8d2b-4c7a-9e61-0b4d2f8a7c35"},
            "template",
            "Select a valid choice.",
        ),
    ],
)
def test_it_refuses_a_bad_send_step(personas, fields, field, error):
    mine = add_template(personas.org, "A")
    theirs = add_template(personas.other_org, "Beta")
    automation = draft_automation(personas.org, steps=[send_step(mine)])
    ids = {"A": str(mine.public_id), "BETA": str(theirs.public_id)}
    before = snapshot()

    response = personas.client("marketer").post(
        step_path(automation, "s1"),
        send_data(**{k: ids.get(v, v) for k, v in fields.items()}),
    )

    assert response.status_code == 400
    step = section(response, "step-s1")
    assert re.search(rf'id="id_s1-{field}_error">[^<]*{re.escape(error)}', step), step
    assert snapshot() == before


def test_it_says_when_a_chosen_template_was_deleted(personas):
    gone = add_template(personas.org, "Gone")
    automation = draft_automation(personas.org, steps=[send_step(gone)])
    gone.delete()
    client = personas.client("marketer")

    page = client.get(edit_path(automation))
    before = snapshot()
    rules = client.post(edit_path(automation, "entry-rules/"), {"lacks_tags": "vip"})

    assert "A template chosen here was deleted: choose another." in section(page, "step-s1")
    assert rules.status_code == 400
    assert "Step 1: No such template." in section(rules, "entry-rules")
    assert snapshot() == before


# Wait


@pytest.mark.parametrize(
    ("fields", "stored"),
    [
        ({"amount": "3", "unit": "hours"}, {"duration": {"hours": 3}}),
        ({"amount": "45", "unit": "minutes"}, {"duration": {"minutes": 45}}),
        (
            {"mode": "until", "time": "09:30", "weekdays": ["fri", "mon"]},
            {"until": {"time": "09:30", "weekdays": ["mon", "fri"]}},
        ),
        ({"mode": "until", "time": "18:00"}, {"until": {"time": "18:00", "weekdays": []}}),
    ],
)
def test_it_saves_a_wait(personas, fields, stored):
    automation = draft_automation(personas.org, steps=[send_step(None), WAIT])

    response = personas.client("marketer").post(step_path(automation, "s2"), wait_data(**fields))

    assert response.status_code == 302
    assert steps_of(automation)[1] == {"id": "s2", "type": "wait", **stored}


@pytest.mark.parametrize(
    ("fields", "field", "error"),
    [
        ({"amount": "400", "unit": "days"}, "amount", "Give a whole number of days, 1 to 365."),
        ({"amount": "", "unit": "hours"}, "amount", "Give a whole number of hours, 1 to 2,160."),
        ({"amount": "0"}, "amount", "greater than or equal to 1"),
        ({"amount": "two"}, "amount", "Enter a whole number."),
        ({"mode": "until", "time": "25:00"}, "time", "Give a time of day as HH:MM (24-hour)."),
        ({"mode": "until", "time": ""}, "time", "Give a time of day as HH:MM (24-hour)."),
        ({"mode": "until", "time": "09:00", "weekdays": ["someday"]}, "weekdays", "valid choice"),
    ],
)
def test_it_refuses_a_bad_wait_and_keeps_the_input(personas, fields, field, error):
    automation = draft_automation(personas.org, steps=[send_step(None), WAIT])
    before = snapshot()

    response = personas.client("marketer").post(step_path(automation, "s2"), wait_data(**fields))

    assert response.status_code == 400
    step = section(response, "step-s2")
    assert re.search(rf'id="id_s2-{field}_error">[^<]*{re.escape(error)}', step), step
    if fields.get("amount"):
        assert f'value="{fields["amount"]}"' in step
    assert snapshot() == before


# Branch


def test_it_offers_a_branch_only_the_steps_after_it(personas):
    automation = branching(personas.org)

    step = section(personas.client("marketer").get(edit_path(automation)), "step-s2")

    assert "Go to step 3: wait 2 days" in step
    assert "Go to step 4: send a template to choose" in step
    assert "Go to step 1" not in step
    assert selected(step, "s2-then") == ["end"]


@pytest.mark.parametrize(
    ("fields", "stored"),
    [
        ({"condition": "not_replied"}, {"if": {"replied": False}}),
        (
            {"condition": "has_tag", "tag": "vip", "then": "end"},
            {"if": {"has_tag": "vip"}, "then": "end"},
        ),
        (
            {"condition": "lacks_tag", "tag": "vip", "otherwise": "s4"},
            {"if": {"lacks_tag": "vip"}, "else": "s4"},
        ),
        (
            {"condition": "custom_field", "field_key": "plan", "field_value": "pro", "then": "s3"},
            {"if": {"custom_field": {"key": "plan", "equals": "pro"}}, "then": "s3"},
        ),
        (
            {"condition": "last_status_in", "statuses": ["undelivered", "failed"]},
            {"if": {"last_status_in": ["undelivered", "failed"]}},
        ),
    ],
)
def test_it_saves_a_branch(personas, fields, stored):
    automation = branching(personas.org)

    response = personas.client("marketer").post(step_path(automation, "s2"), branch_data(**fields))

    assert response.status_code == 302
    assert steps_of(automation)[1] == {
        "id": "s2",
        "type": "branch",
        "then": "continue",
        "else": "continue",
        **stored,
    }


@pytest.mark.parametrize(
    ("fields", "field", "error"),
    [
        ({"condition": "has_tag", "tag": ""}, "tag", "Choose a tag."),
        ({"condition": "lacks_tag", "tag": "no/slash"}, "tag", "tag names have letters"),
        (
            {"condition": "custom_field", "field_key": "Plan"},
            "field_key",
            "a custom field name starts",
        ),
        ({"condition": "last_status_in"}, "statuses", "Statuses are some of"),
        ({"then": "s1"}, "then", "Select a valid choice."),
        ({"otherwise": "s2"}, "otherwise", "Select a valid choice."),
    ],
)
def test_it_refuses_a_bad_branch(personas, fields, field, error):
    automation = branching(personas.org)
    before = snapshot()

    response = personas.client("marketer").post(step_path(automation, "s2"), branch_data(**fields))

    assert response.status_code == 400
    step = section(response, "step-s2")
    assert re.search(rf'id="id_s2-{field}_error">[^<]*{re.escape(error)}', step), step
    assert snapshot() == before
