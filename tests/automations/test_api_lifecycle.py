"""An automation's life through the API: publish, activate (also at create), pause, resume."""

from __future__ import annotations

import pytest

from automations.models import Automation, AutomationVersion, State
from automations.services.automations import automation_create
from tests.automations.api_helpers import (
    AUTOMATIONS,
    TAG,
    body,
    error,
    send_step,
    snapshot,
    url,
)
from tests.automations.helpers import active, template

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("enqueued")]

NO_CONNECTION = (
    "Connect a working Twilio account in the Connection Center first: without it, "
    "no Twilio SMS step can send."
)


@pytest.mark.usefixtures("connection")
def test_creating_it_active_publishes_and_activates_in_one_call(personas):
    welcome = template(personas)

    response = personas.api("marketer").post(
        AUTOMATIONS, body(welcome, state="active"), format="json"
    )

    assert response.status_code == 201, response.content
    answer = response.json()
    assert (answer["state"], answer["version"], answer["has_unpublished_changes"]) == (
        "active",
        1,
        False,
    )
    automation = Automation.objects.get()
    assert automation.state == State.ACTIVE
    assert automation.trigger_type == "tag_added"
    version = automation.live_version
    assert version is not None
    assert version.number == 1
    assert version.definition == automation.draft
    assert version.definition["steps"] == answer["steps"]
    assert list(version.templates.all()) == [welcome]


def test_creating_it_active_without_twilio_is_409_and_creates_nothing(personas):
    response = personas.api("marketer").post(
        AUTOMATIONS, body(template(personas), state="active"), format="json"
    )

    assert response.status_code == 409, response.content
    assert error(response)["code"] == "cannot_activate"
    assert error(response)["message"] == NO_CONNECTION
    assert not Automation.objects.exists()
    assert not AutomationVersion.objects.exists()


def test_activating_without_twilio_is_409_with_the_reason(personas):
    automation = automation_create(
        organization=personas.org,
        name="Welcome",
        definition={"trigger": TAG, "steps": [send_step(template(personas))]},
        complete=True,
    )
    api = personas.api("marketer")
    before = snapshot()

    by_action = api.post(url(automation, "activate/"))
    by_patch = api.patch(url(automation), {"name": "Renamed", "state": "active"}, format="json")

    for response in (by_action, by_patch):
        assert response.status_code == 409, response.content
        assert error(response)["code"] == "cannot_activate"
        assert error(response)["message"] == NO_CONNECTION
    # The refused PATCH keeps its rename out too.
    assert snapshot() == before


@pytest.mark.usefixtures("connection")
def test_publish_bumps_the_version_only_when_the_draft_changed(personas):
    welcome, other = template(personas), template(personas, "Other", "Other text")
    api = personas.api("marketer")
    created = api.post(AUTOMATIONS, body(welcome), format="json").json()

    first = api.post(url(created["id"], "publish/"))
    same = api.post(url(created["id"], "publish/"))
    api.patch(url(created["id"]), {"steps": [send_step(other)]}, format="json")
    changed = api.get(url(created["id"])).json()
    second = api.post(url(created["id"], "publish/"))

    assert first.status_code == 200, first.content
    assert (first.json()["version"], first.json()["has_unpublished_changes"]) == (1, False)
    assert first.json()["state"] == "draft"  # publishing does not activate
    assert same.json()["version"] == 1
    assert (changed["version"], changed["has_unpublished_changes"]) == (1, True)
    assert (second.json()["version"], second.json()["has_unpublished_changes"]) == (2, False)
    automation = Automation.objects.get()
    assert list(automation.versions.values_list("number", flat=True)) == [2, 1]
    assert automation.live_version is not None
    assert automation.live_version.definition["steps"][0]["template"] == str(other.public_id)


@pytest.mark.usefixtures("connection")
def test_activate_pause_and_resume_by_action_and_by_patch(personas):
    api = personas.api("marketer")
    created = api.post(AUTOMATIONS, body(template(personas)), format="json").json()

    activated = api.post(url(created["id"], "activate/"))
    paused = api.post(url(created["id"], "pause/"))
    resumed = api.patch(url(created["id"]), {"state": "active"}, format="json")
    paused_again = api.patch(url(created["id"]), {"state": "paused"}, format="json")

    assert activated.status_code == 200, activated.content
    assert (activated.json()["state"], activated.json()["version"]) == ("active", 1)
    assert paused.status_code == 200, paused.content
    assert paused.json()["state"] == "paused"
    assert resumed.json()["state"] == "active"
    assert paused_again.json()["state"] == "paused"
    assert Automation.objects.get().state == State.PAUSED
    assert AutomationVersion.objects.count() == 1


@pytest.mark.usefixtures("connection")
def test_pausing_a_draft_is_409(personas):
    automation = automation_create(organization=personas.org, name="Draft", definition=None)
    api = personas.api("marketer")

    for response in (
        api.post(url(automation, "pause/")),
        api.patch(url(automation), {"state": "paused"}, format="json"),
    ):
        assert response.status_code == 409, response.content
        assert error(response)["message"] == "Only an active automation can be paused."
    assert Automation.objects.get().state == State.DRAFT


@pytest.mark.usefixtures("connection")
def test_an_automation_does_not_go_back_to_draft(personas):
    automation = active(personas, trigger=TAG, steps=[send_step(template(personas))])

    response = personas.api("marketer").patch(url(automation), {"state": "draft"}, format="json")

    assert response.status_code == 409, response.content
    assert "state" in error(response)["fields"]
    assert Automation.objects.get().state == State.ACTIVE


@pytest.mark.usefixtures("connection")
def test_publishing_an_incomplete_draft_names_the_fields(personas):
    automation = automation_create(
        organization=personas.org,
        name="Half done",
        definition={"trigger": TAG, "steps": [{"id": "s1", "type": "send_sms"}]},
        complete=False,
    )
    before = snapshot()

    response = personas.api("marketer").post(url(automation, "publish/"))

    assert response.status_code == 400, response.content
    assert error(response)["fields"] == {"steps[0].template": ["Choose a template."]}
    assert snapshot() == before


@pytest.mark.usefixtures("connection")
def test_an_archived_automation_cannot_be_published_or_activated(personas):
    automation = active(personas, trigger=TAG, steps=[send_step(template(personas))])
    api = personas.api("marketer")
    api.patch(url(automation), {"state": "archived"}, format="json")
    before = snapshot()

    publish = api.post(url(automation, "publish/"))
    activate = api.post(url(automation, "activate/"))

    assert publish.status_code == 409
    assert activate.status_code == 409
    assert "archived" in error(activate)["message"]
    assert snapshot() == before
