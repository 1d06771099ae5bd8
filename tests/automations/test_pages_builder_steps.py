"""The editor's steps: the action picker, adding (at the end or after a step), removing, and
the steps numbered and said in words. A refused change changes nothing."""

from __future__ import annotations

import re

import pytest

from automations.definition import MAX_STEPS
from automations.services.automations import automation_publish
from tests.automations.page_helpers import (
    add_template,
    branch_data,
    branching,
    draft_automation,
    edit_path,
    follow,
    section,
    send_step,
    snapshot,
    step_path,
    steps_of,
    visible,
)

pytestmark = pytest.mark.django_db

WAIT = {"id": "s2", "type": "wait", "duration": {"days": 1}}


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


# Removing


def test_it_removes_a_step(personas):
    automation = draft_automation(personas.org, steps=[send_step(None), WAIT])
    client = personas.client("marketer")

    response = client.post(step_path(automation, "s1", "remove/"))

    assert [s["id"] for s in steps_of(automation)] == ["s2"]
    assert "Removed step 1." in follow(client, response)


@pytest.mark.parametrize("action", ["", "remove/"])
def test_opening_a_steps_save_or_remove_address_shows_the_editor_and_changes_nothing(
    personas, action
):
    automation = draft_automation(personas.org, steps=[send_step(None), WAIT])

    response = personas.client("marketer").get(step_path(automation, "s1", action))

    assert response.status_code == 200
    assert "Add a step" in visible(response)
    assert [s["id"] for s in steps_of(automation)] == ["s1", "s2"]


def test_it_refuses_to_remove_a_step_a_branch_goes_to(personas):
    automation = branching(personas.org)
    client = personas.client("marketer")
    client.post(step_path(automation, "s2"), branch_data(then="s4"))
    before = snapshot()

    response = client.post(step_path(automation, "s4", "remove/"))

    assert snapshot() == before
    assert "Step 2 (a branch) goes to this step: change where it goes first." in follow(
        client, response
    )


# The steps in words


def test_it_numbers_the_steps_and_says_each_in_words(personas):
    welcome = add_template(personas.org)
    automation = draft_automation(personas.org, steps=[send_step(welcome), WAIT])

    text = visible(personas.client("marketer").get(edit_path(automation)))

    assert "Step 1 · Twilio SMS Send Welcome" in text
    assert "Step 2 · Wait Wait 1 day" in text
    assert "Steps 2 of 20" in text
