"""A new automation: a name and a trigger card with its settings make a draft, then the
editor; bad settings are refused with the trigger's own words and nothing is created."""

from __future__ import annotations

import re

import pytest

from automations.definition import empty_definition
from automations.models import Automation, State
from automations.triggers import all_triggers
from contacts.models import Tag
from tests.automations.page_helpers import (
    NEW,
    WRITERS,
    draft_automation,
    edit_path,
    follow,
    visible,
)
from tests.factories import page_text

pytestmark = pytest.mark.django_db

CARDS = [
    (
        {"trigger_type": "contact_created", "contact_created_sources": ["api", "import"]},
        {"type": "contact_created", "sources": ["api", "import"]},
        "When a contact is created by the rest api or a csv import",
    ),
    (
        {"trigger_type": "contact_created"},
        {"type": "contact_created", "sources": []},
        "When a contact is created",
    ),
    (
        {"trigger_type": "tag_added", "tag_added_tag": " new-lead ", "tag_removed_tag": "other"},
        {"type": "tag_added", "tag": "new-lead"},
        "When the tag new-lead is added",
    ),
    (
        {"trigger_type": "tag_removed", "tag_removed_tag": "customer"},
        {"type": "tag_removed", "tag": "customer"},
        "When the tag customer is removed",
    ),
    (
        {
            "trigger_type": "inbound_keyword",
            "inbound_keyword_keywords": "join, Prices ",
            "inbound_keyword_match": "first_word",
        },
        {"type": "inbound_keyword", "keywords": ["JOIN", "PRICES"], "match": "first_word"},
        "When a contact texts starting with JOIN or PRICES",
    ),
]


def test_it_shows_a_card_for_every_trigger(personas):
    response = personas.client("marketer").get(NEW)

    assert response.status_code == 200
    text = visible(response)
    labels = [t.label for t in all_triggers()]
    assert {"Contact created", "Tag added", "Tag removed", "Inbound keyword", "Run now"} <= set(
        labels
    )
    for label in labels:
        assert label in text
    html = page_text(response)
    assert len(re.findall(r'<input type="radio" name="trigger_type"', html)) == len(labels)
    assert "Create draft" in text


def test_it_suggests_the_organizations_tags_but_not_the_opt_out_tag(personas):
    Tag.objects.create(organization=personas.org, name="vip")
    Tag.objects.create(organization=personas.other_org, name="beta-only")

    html = page_text(personas.client("marketer").get(NEW))

    assert '<option value="vip">' in html
    assert "beta-only" not in html
    assert "Twilio-Message-stop" not in html
    assert 'list="organization-tags"' in html


def test_it_preselects_a_card_from_the_address(personas):
    html = page_text(personas.client("marketer").get(NEW + "?trigger=inbound_keyword"))

    assert re.search(r'value="inbound_keyword"[^>]*checked', html)


@pytest.mark.parametrize(("data", "stored", "words"), CARDS)
@pytest.mark.parametrize("persona", WRITERS)
def test_it_creates_a_draft_from_each_trigger_card(personas, persona, data, stored, words):
    client = personas.client(persona)

    response = client.post(NEW, {"name": "  Spring  welcome ", **data})

    automation = Automation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == edit_path(automation)
    assert automation.organization == personas.org
    assert automation.name == "Spring welcome"
    assert automation.state == State.DRAFT
    assert automation.live_version is None
    assert automation.created_by == personas.user(persona)
    assert automation.draft == {**empty_definition(stored)}
    editor = follow(client, response)
    assert "Created “Spring welcome”. Now add its steps." in editor
    assert words in editor


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"trigger_type": "tag_added", "tag_added_tag": ""}, "Choose a tag."),
        ({"trigger_type": "tag_removed", "tag_removed_tag": "bad/tag"}, "tag names have letters"),
        (
            {"trigger_type": "tag_added", "tag_added_tag": "twilio-message-STOP"},
            "is kept for opt-outs",
        ),
        (
            {"trigger_type": "inbound_keyword", "inbound_keyword_keywords": ""},
            "at least one keyword",
        ),
        (
            {"trigger_type": "inbound_keyword", "inbound_keyword_keywords": "JOIN, stop"},
            "“STOP” is a consent word (STOP, START, HELP and their synonyms opt people out, back "
            "in, or answer for help): choose another keyword.",
        ),
        (
            {"trigger_type": "inbound_keyword", "inbound_keyword_keywords": "Help me"},
            "“HELP ME” is a consent word",
        ),
        ({"trigger_type": "contact_created", "contact_created_sources": ["test"]}, "valid choice"),
        ({}, "Choose a trigger."),
        ({"trigger_type": "no_such_trigger"}, "Choose a trigger."),
    ],
)
def test_it_refuses_bad_trigger_settings_and_keeps_the_input(personas, data, error):
    response = personas.client("marketer").post(NEW, {"name": "Keep me", **data})

    assert response.status_code == 400
    assert error in visible(response)
    assert Automation.objects.count() == 0
    assert 'value="Keep me"' in page_text(response)


def test_it_shows_the_keyword_error_next_to_the_keywords_field(personas):
    response = personas.client("marketer").post(
        NEW,
        {"name": "Keywords", "trigger_type": "inbound_keyword", "inbound_keyword_keywords": "STOP"},
    )

    html = page_text(response)
    assert re.search(r'id="id_inbound_keyword_keywords_error">“STOP” is a consent word', html), html
    assert 'value="STOP"' in html


def test_it_refuses_a_name_in_use_and_a_missing_name(personas):
    draft_automation(personas.org, name="Welcome")
    client = personas.client("marketer")
    card = {"trigger_type": "contact_created"}

    taken = client.post(NEW, {"name": "Welcome", **card})
    missing = client.post(NEW, {"name": "  ", **card})

    assert taken.status_code == missing.status_code == 400
    assert "An automation named “Welcome” already exists." in visible(taken)
    assert re.search(r'id="id_name_error">This field is required', page_text(missing))
    assert Automation.objects.count() == 1


def test_it_allows_a_name_another_organization_uses(personas):
    draft_automation(personas.other_org, name="Welcome")

    response = personas.client("marketer").post(
        NEW, {"name": "Welcome", "trigger_type": "contact_created"}
    )

    assert response.status_code == 302
    assert Automation.objects.filter(organization=personas.org, name="Welcome").count() == 1
