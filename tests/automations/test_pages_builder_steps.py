"""The editor's steps: the action picker, adding (at the end or after a step), saving each
kind of step, removing; bad input shows its error next to the field and changes nothing."""

from __future__ import annotations

import re

import pytest

from automations.definition import MAX_STEPS
from automations.services.automations import automation_publish
from tests.automations.page_helpers import (
    add_template,
    draft_automation,
    edit_path,
    follow,
    fresh,
    section,
    selected,
    send_step,
    snapshot,
    step_path,
    visible,
)

pytestmark = pytest.mark.django_db

WAIT = {"id": "s2", "type": "wait", "duration": {"days": 1}}


def steps_of(automation):
    return fresh(automation).draft["steps"]


def add(client, automation, step_type, after=""):
    return client.post(edit_path(automation, "steps/add/"), {"type": step_type, "after": after})


# The action picker and adding steps


def test_it_adds_each_kind_of_step_at_the_end(personas, connection):
    automation = draft_automation(personas.org)
    client = personas.client("marketer")

    sms = add(client, automation, "send_sms")
    add(client, automation, "wait")
    branch = add(client, automation, "branch")

    assert sms.status_code == branch.status_code == 302
    assert sms["Location"] == edit_path(automation) + "#step-s1"
    assert steps_of(automation) == [
        {"id": "s1", "type": "send_sms", "template": None, "respect_quiet_hours": True},
        {"id": "s2", "type": "wait", "duration": {"days": 1}},
        {"id": "s3", "type": "branch", "if": {"replied": True}, "then": "end", "else": "continue"},
    ]
    assert "Added step 3: Branch." in follow(client, branch)


def test_it_adds_a_step_after_a_chosen_step(personas):
    automation = draft_automation(personas.org, steps=[send_step(None), WAIT])
    client = personas.client("marketer")

    response = add(client, automation, "branch", after="s1")

    assert [s["id"] for s in steps_of(automation)] == ["s1", "s3", "s2"]
    assert "Added step 2: Branch." in follow(client, response)


def test_it_lists_twilio_sms_in_the_action_picker_when_connected(personas, connection):
    automation = draft_automation(personas.org)

    steps = section(personas.client("marketer").get(edit_path(automation)), "steps")

    assert re.search(r'<button type="submit" name="type" value="send_sms"[^>]*>Twilio SMS<', steps)
    assert "connect Twilio in the Connection Center" not in steps


def test_it_shows_twilio_sms_disabled_without_a_connection_and_refuses_it(personas):
    automation = draft_automation(personas.org)
    client = personas.client("marketer")

    steps = section(client.get(edit_path(automation)), "steps")
    before = snapshot()
    response = add(client, automation, "send_sms")

    assert '<button type="button" class="button small" disabled>Twilio SMS</button>' in steps
    assert 'value="send_sms"' not in steps
    assert '<a href="/connections/">connect Twilio in the Connection Center</a>' in steps
    assert snapshot() == before
    assert "Twilio SMS needs a working Twilio connection" in follow(client, response)
    assert add(client, automation, "wait").status_code == 302
    assert [s["type"] for s in steps_of(automation)] == ["wait"]


def test_it_stops_at_the_most_steps_an_automation_has(personas):
    full = [
        {"id": f"s{n}", "type": "wait", "duration": {"days": 1}} for n in range(1, MAX_STEPS + 1)
    ]
    automation = draft_automation(personas.org, steps=full)
    client = personas.client("marketer")

    page = client.get(edit_path(automation))
    before = snapshot()
    response = add(client, automation, "wait")

    assert f"This automation has {MAX_STEPS} steps, the most it can have." in visible(page)
    assert "Add a step after this" not in visible(page)
    assert f"An automation has at most {MAX_STEPS} steps." in follow(client, response)
    assert snapshot() == before


def test_it_never_gives_a_new_step_the_id_of_a_published_one(personas):
    template = add_template(personas.org)
    automation = draft_automation(personas.org, steps=[send_step(template), WAIT])
    automation_publish(automation=automation)
    client = personas.client("marketer")

    client.post(step_path(automation, "s2", "remove/"))
    add(client, automation, "wait")

    assert [s["id"] for s in steps_of(automation)] == ["s1", "s3"]


def test_it_refuses_an_unknown_kind_of_step(personas):
    automation = draft_automation(personas.org)
    before = snapshot()

    response = add(personas.client("marketer"), automation, "email")

    assert response.status_code == 302
    assert snapshot() == before


# Twilio SMS


def send_data(step_id="s1", **fields):
    data = {"mode": "single", "template": "", "respect_quiet_hours": "on"}
    data.update(fields)
    return {f"{step_id}-{key}": value for key, value in data.items()}


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


def wait_data(step_id="s2", **fields):
    data = {"mode": "duration", "amount": "1", "unit": "days", "time": "", "weekdays": []}
    data.update(fields)
    return {f"{step_id}-{key}": value for key, value in data.items()}


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


def branch_data(step_id="s2", **fields):
    data = {"condition": "replied", "then": "continue", "otherwise": "continue"}
    data.update(fields)
    return {f"{step_id}-{key}": value for key, value in data.items()}


def branching(personas):
    steps = [
        send_step(None),
        {"id": "s2", "type": "branch", "if": {"replied": True}, "then": "end", "else": "continue"},
        {"id": "s3", "type": "wait", "duration": {"days": 2}},
        send_step(None, "s4"),
    ]
    return draft_automation(personas.org, steps=steps)


def test_it_offers_a_branch_only_the_steps_after_it(personas):
    automation = branching(personas)

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
    automation = branching(personas)

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
    automation = branching(personas)
    before = snapshot()

    response = personas.client("marketer").post(step_path(automation, "s2"), branch_data(**fields))

    assert response.status_code == 400
    step = section(response, "step-s2")
    assert re.search(rf'id="id_s2-{field}_error">[^<]*{re.escape(error)}', step), step
    assert snapshot() == before


# Removing


def test_it_removes_a_step(personas):
    automation = draft_automation(personas.org, steps=[send_step(None), WAIT])
    client = personas.client("marketer")

    response = client.post(step_path(automation, "s1", "remove/"))

    assert [s["id"] for s in steps_of(automation)] == ["s2"]
    assert "Removed step 1." in follow(client, response)


def test_it_refuses_to_remove_a_step_a_branch_goes_to(personas):
    automation = branching(personas)
    client = personas.client("marketer")
    client.post(step_path(automation, "s2"), branch_data(then="s4"))
    before = snapshot()

    response = client.post(step_path(automation, "s4", "remove/"))

    assert snapshot() == before
    assert "Step 2 (a branch) goes to this step: change where it goes first." in follow(
        client, response
    )


def test_it_numbers_the_steps_and_says_each_in_words(personas):
    welcome = add_template(personas.org)
    automation = draft_automation(personas.org, steps=[send_step(welcome), WAIT])

    text = visible(personas.client("marketer").get(edit_path(automation)))

    assert "Step 1 · Twilio SMS Send Welcome" in text
    assert "Step 2 · Wait Wait 1 day" in text
    assert "Steps 2 of 20" in text
