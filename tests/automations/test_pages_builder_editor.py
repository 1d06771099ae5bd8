"""The editor's parts besides the steps: name, trigger, entry and exit rules, re-entry. Each
saves the draft on its own; bad input shows the error next to its field, keeps what was
typed, and changes nothing."""

from __future__ import annotations

import re

import pytest

from automations.definition import empty_definition
from automations.models import State
from tests.automations.page_helpers import (
    WRITERS,
    draft_automation,
    edit_path,
    follow,
    fresh,
    section,
    snapshot,
    visible,
)
from tests.factories import page_text

pytestmark = pytest.mark.django_db

TAG = {"type": "tag_added", "tag": "new-lead"}


def test_it_shows_the_drafts_parts_in_the_editor(personas):
    automation = draft_automation(
        personas.org,
        entry_rules={"has_all_tags": ["a", "b"], "custom_fields": {"plan": "pro"}},
        exit_rules={"on_reply": True, "on_tag_added": ["customer"]},
        reentry={"policy": "after_days", "days": 30},
    )

    response = personas.client("marketer").get(edit_path(automation))

    assert response.status_code == 200
    html = page_text(response)
    assert 'value="Welcome new leads"' in section(response, "name")
    assert "When the tag new-lead is added" in visible(response)
    assert re.search(r'value="tag_added"[^>]*checked', section(response, "trigger"))
    entry = section(response, "entry-rules")
    assert 'value="a, b"' in entry
    assert "plan = pro</textarea>" in entry
    exits = section(response, "exit-rules")
    assert re.search(r'name="on_reply"[^>]*checked', exits)
    assert 'value="customer"' in exits
    assert "loses the trigger's tag" in exits
    reentry = section(response, "reentry")
    assert re.search(r'value="after_days"[^>]*checked', reentry)
    assert 'value="30"' in reentry
    assert "Draft Not published yet" in visible(response)
    assert "vendor/htmx-2.0.11" in html


@pytest.mark.parametrize("persona", WRITERS)
def test_it_renames_the_automation(personas, persona):
    automation = draft_automation(personas.org)
    client = personas.client(persona)

    response = client.post(edit_path(automation, "name/"), {"name": " Lead  nurture "})

    assert response.status_code == 302
    assert response["Location"] == edit_path(automation) + "#name"
    saved = fresh(automation)
    assert saved.name == "Lead nurture"
    assert saved.updated_by == personas.user(persona)
    assert "Draft saved." in follow(client, response)


def test_it_refuses_a_name_in_use_and_keeps_the_typed_name(personas):
    automation = draft_automation(personas.org)
    draft_automation(personas.org, name="Taken")
    before = snapshot()

    response = personas.client("marketer").post(edit_path(automation, "name/"), {"name": "Taken"})

    assert response.status_code == 400
    assert re.search(
        r'id="id_name_error">An automation named “Taken” already exists', page_text(response)
    )
    assert 'value="Taken"' in section(response, "name")
    assert "<h1>Welcome new leads</h1>" in page_text(response)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("part", "data", "stored"),
    [
        pytest.param(
            "trigger",
            {
                "trigger_type": "inbound_keyword",
                "inbound_keyword_keywords": "join",
                "inbound_keyword_match": "exact",
                "tag_added_tag": "ignored",
            },
            {"type": "inbound_keyword", "keywords": ["JOIN"], "match": "exact"},
            id="trigger",
        ),
        pytest.param(
            "entry-rules",
            {
                "has_all_tags": "lead, Lead, newsletter",
                "has_any_tags": "",
                "lacks_tags": "customer",
                "custom_fields": "plan = pro\n\n country=US ",
            },
            {
                "has_all_tags": ["lead", "newsletter"],
                "has_any_tags": [],
                "lacks_tags": ["customer"],
                "custom_fields": {"plan": "pro", "country": "US"},
            },
            id="entry-rules",
        ),
        pytest.param(
            "exit-rules",
            {
                "on_reply": "on",
                "on_tag_added": "customer, unsubscribed",
                "on_trigger_tag_removed": "on",
            },
            {
                "on_reply": True,
                "on_tag_added": ["customer", "unsubscribed"],
                "on_trigger_tag_removed": True,
            },
            id="exit-rules",
        ),
        pytest.param(
            "reentry", {"policy": "every_time"}, {"policy": "every_time"}, id="reentry-every-time"
        ),
        pytest.param(
            "reentry",
            {"policy": "after_days", "days": "14"},
            {"policy": "after_days", "days": 14},
            id="reentry-after-days",
        ),
        pytest.param(
            "reentry",
            {"policy": "once", "days": "14"},
            {"policy": "once"},
            id="reentry-once-drops-days",
        ),
    ],
)
def test_it_saves_each_part_of_the_draft(personas, part, data, stored):
    automation = draft_automation(personas.org)

    response = personas.client("marketer").post(edit_path(automation, f"{part}/"), data)

    assert response.status_code == 302
    assert response["Location"] == edit_path(automation) + f"#{part}"
    assert fresh(automation).draft[part.replace("-", "_")] == stored


def test_it_refuses_a_consent_keyword_as_trigger_and_changes_nothing(personas):
    automation = draft_automation(personas.org)
    before = snapshot()

    response = personas.client("marketer").post(
        edit_path(automation, "trigger/"),
        {"trigger_type": "inbound_keyword", "inbound_keyword_keywords": "UNSUBSCRIBE"},
    )

    assert response.status_code == 400
    trigger = section(response, "trigger")
    assert "“UNSUBSCRIBE” is a consent word" in trigger
    assert 'value="UNSUBSCRIBE"' in trigger
    assert re.search(r'value="inbound_keyword"[^>]*checked', trigger)
    assert snapshot() == before


def test_it_says_why_a_trigger_change_clashes_with_an_exit_rule(personas):
    automation = draft_automation(personas.org, exit_rules={"on_trigger_tag_removed": True})
    before = snapshot()

    response = personas.client("marketer").post(
        edit_path(automation, "trigger/"), {"trigger_type": "contact_created"}
    )

    assert response.status_code == 400
    assert "Exit rules: Only a tag_added trigger has a tag to lose." in visible(response)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"custom_fields": "plan pro"}, "custom_fields", "“plan pro”: write field = value."),
        ({"custom_fields": "Plan = pro"}, "custom_fields", "a custom field name starts"),
        ({"lacks_tags": "ok, not/ok"}, "lacks_tags", "tag names have letters"),
        ({"has_any_tags": "Twilio-Message-stop"}, "has_any_tags", "is kept for opt-outs"),
    ],
)
def test_it_refuses_bad_entry_rules_next_to_their_field(personas, data, field, error):
    automation = draft_automation(personas.org, entry_rules={"has_all_tags": ["keep"]})
    before = snapshot()
    posted = {"has_all_tags": "changed", **data}

    response = personas.client("marketer").post(edit_path(automation, "entry-rules/"), posted)

    assert response.status_code == 400
    entry = section(response, "entry-rules")
    assert re.search(rf'id="id_{field}_error">[^<]*{re.escape(error)}', entry), entry
    assert 'value="changed"' in entry
    assert snapshot() == before


def test_it_turns_exit_rules_off_when_their_boxes_are_cleared(personas):
    automation = draft_automation(
        personas.org, exit_rules={"on_reply": True, "on_trigger_tag_removed": True}
    )

    personas.client("marketer").post(edit_path(automation, "exit-rules/"), {"on_tag_added": ""})

    assert fresh(automation).draft["exit_rules"] == empty_definition()["exit_rules"]


def test_it_offers_losing_the_trigger_tag_only_for_a_tag_added_trigger(personas):
    tagged = draft_automation(personas.org, name="Tagged")
    keyword = draft_automation(
        personas.org,
        name="Keyword",
        trigger={"type": "inbound_keyword", "keywords": ["JOIN"], "match": "exact"},
    )
    client = personas.client("marketer")

    assert "loses the trigger's tag" in section(client.get(edit_path(tagged)), "exit-rules")
    assert "loses the trigger's tag" not in section(client.get(edit_path(keyword)), "exit-rules")
    refused = client.post(edit_path(keyword, "exit-rules/"), {"on_trigger_tag_removed": "on"})
    assert refused.status_code == 400
    assert "Only a tag_added trigger has a tag to lose." in visible(refused)
    assert fresh(keyword).draft["exit_rules"]["on_trigger_tag_removed"] is False


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"policy": "after_days", "days": ""}, "Give the days before re-entry"),
        ({"policy": "after_days", "days": "0"}, "greater than or equal to 1"),
        ({"policy": "after_days", "days": "soon"}, "Enter a whole number."),
        ({"policy": "sometimes"}, "Select a valid choice."),
    ],
)
def test_it_refuses_a_bad_reentry_policy(personas, data, error):
    automation = draft_automation(personas.org)
    before = snapshot()

    response = personas.client("marketer").post(edit_path(automation, "reentry/"), data)

    assert response.status_code == 400
    assert error in section(response, "reentry")
    assert snapshot() == before


def test_it_shows_an_archived_automation_read_only_and_refuses_changes(personas):
    automation = draft_automation(personas.org)
    automation.state = State.ARCHIVED
    automation.save()
    client = personas.client("marketer")
    before = snapshot()

    page = client.get(edit_path(automation))
    response = client.post(edit_path(automation, "name/"), {"name": "Revived"})

    assert "This automation is archived: it cannot be changed." in visible(page)
    assert "Save trigger" not in visible(page)
    assert "Duplicate" in visible(page)
    assert "Publish" not in visible(page)
    assert response.status_code == 302
    assert "An archived automation cannot be edited: duplicate it instead." in follow(
        client, response
    )
    assert snapshot() == before


def test_it_swaps_the_editor_in_place_for_htmx_with_errors_shown(personas):
    automation = draft_automation(personas.org)
    client = personas.client("marketer")
    before = snapshot()

    response = client.post(
        edit_path(automation, "reentry/"),
        {"policy": "after_days", "days": ""},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 400
    builder = section(response, "builder")
    assert "Give the days before re-entry" in builder
    assert 'hx-select="#builder"' in builder
    assert snapshot() == before


def test_it_shows_the_saved_message_inside_the_editor_for_htmx(personas):
    automation = draft_automation(personas.org)
    client = personas.client("marketer")

    response = client.post(edit_path(automation, "reentry/"), {"policy": "every_time"})
    page = client.get(response["Location"], HTTP_HX_REQUEST="true")

    assert "Draft saved." in section(page, "builder")
