"""Who may reach the builder's pages and buttons: writers, viewers (read only), outsiders
(404 for this organization's automations), anonymous visitors (the login page)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from automations.models import Automation
from tests.automations.page_helpers import (
    LIST,
    NEW,
    action_path,
    draft_automation,
    edit_path,
    section,
    send_step,
    snapshot,
    step_path,
    visible,
)

pytestmark = pytest.mark.django_db

SECRET = "Secret flow name"


def routes(automation: Automation) -> dict[str, tuple[str, str, Any]]:
    return {
        "new-get": ("get", NEW, None),
        "new-post": ("post", NEW, {"name": "Sneaky", "trigger_type": "contact_created"}),
        "name": ("post", edit_path(automation, "name/"), {"name": "Renamed"}),
        "trigger": (
            "post",
            edit_path(automation, "trigger/"),
            {"trigger_type": "tag_removed", "tag_removed_tag": "gone"},
        ),
        "entry-rules": ("post", edit_path(automation, "entry-rules/"), {"lacks_tags": "vip"}),
        "exit-rules": ("post", edit_path(automation, "exit-rules/"), {"on_reply": "on"}),
        "reentry": ("post", edit_path(automation, "reentry/"), {"policy": "every_time"}),
        "step-add": ("post", edit_path(automation, "steps/add/"), {"type": "wait", "after": ""}),
        "step-save": (
            "post",
            step_path(automation, "s1"),
            {"s1-mode": "single", "s1-template": "", "s1-respect_quiet_hours": ""},
        ),
        "step-remove": ("post", step_path(automation, "s1", "remove/"), {}),
        "publish": ("post", action_path(automation, "publish"), {}),
        "discard-get": ("get", action_path(automation, "discard-draft"), None),
        "discard-post": ("post", action_path(automation, "discard-draft"), {}),
        "activate": ("post", action_path(automation, "activate"), {}),
        "pause": ("post", action_path(automation, "pause"), {}),
        "archive-get": ("get", action_path(automation, "archive"), None),
        "archive-post": ("post", action_path(automation, "archive"), {}),
        "duplicate": ("post", action_path(automation, "duplicate"), {}),
    }


PLACEHOLDER = Automation(public_id=uuid.UUID("7a1c3e5f-2b4d-4c6e-8f01-23456789abcd"))
WRITES = list(routes(PLACEHOLDER))
OBJECT_ROUTES = [r for r in WRITES if not r.startswith("new-")] + ["edit-get"]


def all_routes(automation: Automation) -> dict[str, tuple[str, str, Any]]:
    return {
        **routes(automation),
        "list": ("get", LIST, None),
        "edit-get": ("get", edit_path(automation), None),
    }


def ours(personas: Any) -> Automation:
    return draft_automation(personas.org, name=SECRET, steps=[send_step(None)])


@pytest.mark.parametrize("route", WRITES)
def test_it_refuses_a_viewer_every_write_and_write_page(personas, route):
    automation = ours(personas)
    method, path, data = routes(automation)[route]
    before = snapshot()

    response = getattr(personas.client("viewer"), method)(path, data)

    assert response.status_code == 403
    assert snapshot() == before
    assert Automation.objects.count() == 1


def test_it_shows_a_viewer_the_flow_without_forms_or_buttons(personas):
    automation = ours(personas)

    response = personas.client("viewer").get(edit_path(automation))

    assert response.status_code == 200
    text = visible(response)
    assert SECRET in text
    assert "When the tag new-lead is added" in text
    assert "Send a template to choose" in text
    assert "changing it needs the marketer role" in text
    assert 'method="post"' not in section(response, "builder")
    for word in ("Publish", "Activate", "Archive", "Duplicate", "Save step", "Twilio SMS"):
        assert word not in text


@pytest.mark.parametrize("persona", ["owner", "admin", "marketer"])
def test_it_shows_writers_the_forms_and_buttons(personas, persona):
    automation = ours(personas)

    response = personas.client(persona).get(edit_path(automation))

    assert response.status_code == 200
    text = visible(response)
    for word in ("Publish", "Activate", "Archive", "Duplicate", "Save step", "Save trigger"):
        assert word in text


@pytest.mark.parametrize("route", [*WRITES, "list", "edit-get"])
def test_it_sends_anonymous_visitors_to_the_login_page(client, personas, route):
    automation = ours(personas)
    method, path, data = all_routes(automation)[route]
    before = snapshot()

    response = getattr(client, method)(path, data)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"
    assert snapshot() == before


@pytest.mark.parametrize("route", OBJECT_ROUTES)
@pytest.mark.parametrize("persona", ["owner", "marketer"])
def test_it_answers_404_for_another_organizations_automation(personas, route, persona):
    theirs = draft_automation(personas.other_org, name=SECRET, steps=[send_step(None)])
    method, path, data = all_routes(theirs)[route]
    before = snapshot()

    response = getattr(personas.client(persona), method)(path, data)

    assert response.status_code == 404
    assert SECRET not in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("route", OBJECT_ROUTES)
def test_it_answers_404_to_an_outsider_for_this_organizations_automation(personas, route):
    automation = ours(personas)
    method, path, data = all_routes(automation)[route]
    before = snapshot()

    response = getattr(personas.client("outsider"), method)(path, data)

    assert response.status_code == 404
    assert SECRET not in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("route", OBJECT_ROUTES)
@pytest.mark.parametrize("bad_id", ["not-a-uuid", "12345", "5f0c3a1e-8d2b-4c7a-9e61-0b4d2f8a7c35"])
def test_it_answers_404_for_malformed_or_unknown_ids(personas, route, bad_id):
    automation = ours(personas)
    method, real_path, data = all_routes(automation)[route]
    path = real_path.replace(str(automation.public_id), bad_id)
    assert path != real_path
    before = snapshot()

    response = getattr(personas.client("owner"), method)(path, data)

    assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("route", ["step-save", "step-remove"])
def test_it_answers_404_for_a_step_the_draft_does_not_have(personas, route):
    automation = ours(personas)
    method, path, data = routes(automation)[route]
    before = snapshot()

    response = getattr(personas.client("marketer"), method)(path.replace("/s1/", "/s9/"), data)

    assert response.status_code == 404
    assert snapshot() == before
