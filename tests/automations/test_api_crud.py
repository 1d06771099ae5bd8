"""``/api/v1/automations/`` and ``/<id>/``: create, read, list, update, archive; never delete."""

from __future__ import annotations

import pytest

from automations.models import Automation, AutomationVersion, RunState, State
from automations.services.automations import automation_create
from tests.automations.api_helpers import (
    AUTOMATIONS,
    FIELDS,
    NO_ENTRY_RULES,
    NO_EXIT_RULES,
    TAG,
    WRITERS,
    body,
    error,
    ids,
    send_step,
    snapshot,
    url,
)
from tests.automations.helpers import active, contact, template
from tests.templates_sms.helpers import api_add

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connection", "enqueued")]


def full_body(personas):
    welcome, nudge, other = (
        template(personas, "Welcome"),
        template(personas, "Nudge", "Still there?"),
        template(personas, "Other", "Or this"),
    )
    steps = [
        send_step(welcome),
        {"id": "s2", "type": "wait", "duration": {"days": 2}},
        {"id": "s3", "type": "branch", "if": {"replied": True}, "then": "end", "else": "continue"},
        {
            "id": "s4",
            "type": "send_sms",
            "variants": [
                {"template": str(nudge.public_id), "weight": 50},
                {"template": str(other.public_id), "weight": 50},
            ],
            "respect_quiet_hours": False,
        },
    ]
    sent = body(
        welcome,
        steps=steps,
        entry_rules={"lacks_tags": ["customer"]},
        exit_rules={"on_reply": True},
        reentry={"policy": "after_days", "days": 30},
    )
    return sent, (welcome, nudge, other)


@pytest.mark.parametrize("persona", WRITERS)
def test_it_creates_a_draft_and_answers_it_exactly(personas, persona):
    sent, (welcome, nudge, other) = full_body(personas)

    response = personas.api(persona).post(AUTOMATIONS, sent, format="json")

    assert response.status_code == 201, response.content
    answer = response.json()
    automation = Automation.objects.get()
    assert answer.pop("created_at").endswith("Z")
    assert answer.pop("updated_at").endswith("Z")
    assert answer == {
        "id": str(automation.public_id),
        "name": "Welcome new leads",
        "trigger": {"type": "tag_added", "tag": "new-lead"},
        "entry_rules": {**NO_ENTRY_RULES, "lacks_tags": ["customer"]},
        "exit_rules": {**NO_EXIT_RULES, "on_reply": True},
        "reentry": {"policy": "after_days", "days": 30},
        "steps": [
            {
                "id": "s1",
                "type": "send_sms",
                "template": str(welcome.public_id),
                "respect_quiet_hours": True,
            },
            {"id": "s2", "type": "wait", "duration": {"days": 2}},
            {
                "id": "s3",
                "type": "branch",
                "if": {"replied": True},
                "then": "end",
                "else": "continue",
            },
            {
                "id": "s4",
                "type": "send_sms",
                "variants": [
                    {"template": str(nudge.public_id), "weight": 50},
                    {"template": str(other.public_id), "weight": 50},
                ],
                "respect_quiet_hours": False,
            },
        ],
        "state": "draft",
        "version": None,
        "has_unpublished_changes": True,
    }
    assert automation.organization == personas.org
    assert automation.state == State.DRAFT
    assert automation.live_version is None
    assert automation.draft["steps"] == answer["steps"]
    assert automation.draft["reentry"] == {"policy": "after_days", "days": 30}


def test_it_reads_lists_and_patches_round_trip(personas):
    sent, _templates = full_body(personas)
    api = personas.api("marketer")
    created = api.post(AUTOMATIONS, sent, format="json").json()

    read = personas.api("viewer").get(url(created["id"]))
    listed = personas.api("viewer").get(AUTOMATIONS)

    assert read.status_code == 200, read.content
    assert read.json() == created
    assert listed.status_code == 200
    assert listed.json() == {"results": [created], "next": None, "previous": None}

    patched = api.patch(
        url(created["id"]),
        {"name": "  Welcome   leads ", "reentry": {"policy": "every_time"}},
        format="json",
    )

    assert patched.status_code == 200, patched.content
    answer = patched.json()
    assert answer["name"] == "Welcome leads"
    assert answer["reentry"] == {"policy": "every_time"}
    # Only the given fields change: the rest of the draft stays as it was.
    for field in ("trigger", "entry_rules", "exit_rules", "steps"):
        assert answer[field] == created[field], field
    assert set(answer) == FIELDS
    automation = Automation.objects.get()
    assert automation.name == "Welcome leads"
    assert automation.draft["reentry"] == {"policy": "every_time"}
    assert api.get(url(created["id"])).json() == answer


def test_a_patch_edits_the_draft_not_the_live_version(personas):
    welcome, other = template(personas), template(personas, "Other", "Other text")
    automation = active(personas, trigger=TAG, steps=[send_step(welcome)])
    live = automation.live_version
    assert live is not None

    response = personas.api("marketer").patch(
        url(automation), {"steps": [send_step(other)]}, format="json"
    )

    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["steps"][0]["template"] == str(other.public_id)
    assert (answer["state"], answer["version"], answer["has_unpublished_changes"]) == (
        "active",
        1,
        True,
    )
    live.refresh_from_db()
    assert live.definition["steps"][0]["template"] == str(welcome.public_id)
    assert AutomationVersion.objects.count() == 1


def test_it_lists_with_a_state_filter_and_cursor_pages(personas):
    welcome = template(personas)
    live = active(personas, trigger=TAG, steps=[send_step(welcome)], name="Live one")
    drafts = [
        automation_create(organization=personas.org, name=f"Draft {n}", definition=None)
        for n in range(3)
    ]
    automation_create(organization=personas.other_org, name="Theirs")
    api = personas.api("viewer")

    only_active = api.get(AUTOMATIONS, {"state": "active"})
    only_drafts = api.get(AUTOMATIONS, {"state": "draft"})
    first = api.get(AUTOMATIONS, {"limit": 2})
    second = api.get(first.json()["next"])

    assert ids(only_active) == [str(live.public_id)]
    assert set(ids(only_drafts)) == {str(d.public_id) for d in drafts}
    assert len(ids(first)) == 2
    assert first.json()["previous"] is None
    assert len(ids(second)) == 2
    assert second.json()["next"] is None
    assert set(ids(first)) | set(ids(second)) == {str(live.public_id)} | {
        str(d.public_id) for d in drafts
    }


def test_it_refuses_an_unknown_state_filter(personas):
    response = personas.api("viewer").get(AUTOMATIONS, {"state": "running"})

    assert response.status_code == 400
    assert error(response)["code"] == "validation_error"
    assert "state" in error(response)["fields"]


# --- Validation ------------------------------------------------------------------------------


def test_validation_errors_name_each_field_path_and_nothing_is_created(personas):
    welcome = template(personas)
    sent = {
        "name": "Broken",
        "trigger": {"type": "tag_added"},
        "steps": [
            send_step(welcome),
            {"id": "s2", "type": "wait", "duration": {"weeks": 1}},
            {"id": "s3", "type": "send_sms"},
            {"id": "s4", "type": "branch", "if": {"replied": True}, "then": "s1"},
            {"id": "s5", "type": "teleport"},
        ],
        "reentry": {"policy": "sometimes"},
    }

    response = personas.api("marketer").post(AUTOMATIONS, sent, format="json")

    assert response.status_code == 400, response.content
    found = error(response)
    assert found["code"] == "validation_error"
    assert found["message"] == "The automation is not valid."
    assert set(found["fields"]) == {
        "trigger.tag",
        "steps[1].duration",
        "steps[2].template",
        "steps[3].then",
        "steps[4].type",
        "reentry.policy",
    }
    assert found["fields"]["steps[2].template"] == ["Choose a template."]
    assert not Automation.objects.exists()


def test_a_draft_is_checked_as_complete(personas):
    response = personas.api("marketer").post(AUTOMATIONS, {"name": "Empty"}, format="json")

    assert response.status_code == 400, response.content
    assert set(error(response)["fields"]) == {"trigger", "steps"}
    assert not Automation.objects.exists()


def test_another_organizations_template_is_no_such_template(personas):
    theirs = api_add(personas.other_org, "Beta only", "Secret B text")

    response = personas.api("marketer").post(AUTOMATIONS, body(theirs), format="json")

    assert response.status_code == 400, response.content
    assert error(response)["fields"] == {"steps[0].template": ["No such template."]}
    assert "Secret B text" not in response.content.decode()
    assert not Automation.objects.exists()


def test_a_patch_with_another_organizations_template_changes_nothing(personas):
    automation = active(personas, trigger=TAG, steps=[send_step(template(personas))])
    theirs = api_add(personas.other_org, "Beta only", "Secret B text")
    before = snapshot()

    response = personas.api("marketer").patch(
        url(automation),
        {"steps": [{"id": "a", "type": "wait", "duration": {"days": 1}}, send_step(theirs, "b")]},
        format="json",
    )

    assert response.status_code == 400, response.content
    assert error(response)["fields"] == {"steps[1].template": ["No such template."]}
    assert snapshot() == before


def test_a_name_clash_is_409(personas):
    welcome = template(personas)
    api = personas.api("marketer")
    first = api.post(AUTOMATIONS, body(welcome, name="Welcome"), format="json")
    other = api.post(AUTOMATIONS, body(welcome, name="Other"), format="json")
    before = snapshot()

    again = api.post(AUTOMATIONS, body(welcome, name="Welcome"), format="json")
    renamed = api.patch(url(other.json()["id"]), {"name": "Welcome"}, format="json")

    assert first.status_code == other.status_code == 201
    for response in (again, renamed):
        assert response.status_code == 409, response.content
        assert error(response)["code"] == "duplicate_name"
        assert error(response)["fields"] == {
            "name": ["An automation named “Welcome” already exists."]
        }
    assert snapshot() == before


def test_the_same_name_in_another_organization_is_fine(personas):
    automation_create(organization=personas.other_org, name="Welcome")

    response = personas.api("marketer").post(
        AUTOMATIONS, body(template(personas), name="Welcome"), format="json"
    )

    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    ("sent", "field"),
    [({"name": ""}, "name"), ({"name": "x" * 121}, "name"), ({"state": "running"}, "state")],
)
def test_it_refuses_a_bad_name_or_state(personas, sent, field):
    response = personas.api("marketer").post(
        AUTOMATIONS, {**body(template(personas)), **sent}, format="json"
    )

    assert response.status_code == 400, response.content
    assert field in error(response)["fields"]
    assert not Automation.objects.exists()


@pytest.mark.parametrize("state", ["paused", "archived"])
def test_a_new_automation_is_draft_or_active(personas, state):
    response = personas.api("marketer").post(
        AUTOMATIONS, body(template(personas), state=state), format="json"
    )

    assert response.status_code == 400, response.content
    assert error(response)["fields"] == {"state": ["A new automation is draft or active."]}
    assert not Automation.objects.exists()


# --- No DELETE: archive --------------------------------------------------------------------------


@pytest.mark.parametrize("persona", WRITERS)
def test_delete_is_405_and_says_to_archive(personas, persona):
    automation = active(personas, trigger=TAG, steps=[send_step(template(personas))])
    before = snapshot()

    response = personas.api(persona).delete(url(automation))

    assert response.status_code == 405, response.content
    assert error(response)["code"] == "method_not_allowed"
    assert "archive" in error(response)["message"]
    assert "DELETE" not in response["Allow"]
    assert "PATCH" in response["Allow"]
    assert snapshot() == before


def test_put_is_405(personas):
    automation = active(personas, trigger=TAG, steps=[send_step(template(personas))])

    response = personas.api("marketer").put(url(automation), body(template(personas, "B")), "json")

    assert response.status_code == 405
    assert error(response)["code"] == "method_not_allowed"


def test_archiving_by_patch_ends_running_enrolments_and_blocks_edits(personas):
    welcome = template(personas)
    automation = active(
        personas,
        trigger=TAG,
        steps=[send_step(welcome), {"id": "s2", "type": "wait", "duration": {"days": 2}}],
    )
    ada = contact(personas)
    api = personas.api("marketer")
    enrolled = api.post(url(automation, "enrol/"), {"contact": str(ada.public_id)}, "json")
    assert enrolled.json()["state"] == "waiting"

    archived = api.patch(url(automation), {"state": "archived"}, format="json")
    edit = api.patch(url(automation), {"name": "Changed"}, format="json")
    again = api.patch(url(automation), {"state": "archived"}, format="json")

    assert archived.status_code == 200, archived.content
    assert archived.json()["state"] == "archived"
    automation.refresh_from_db()
    assert automation.state == State.ARCHIVED
    run = automation.runs.get()
    assert (run.state, run.reason) == (RunState.EXITED, "archived")
    assert edit.status_code == 409
    assert "archived" in error(edit)["message"]
    assert again.status_code == 200  # the state it is in already: no change
    assert Automation.objects.get().name == "Welcome new leads"
