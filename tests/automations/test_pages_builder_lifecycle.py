"""The lifecycle buttons: publish, discard the draft, activate (refused with its reason),
pause and resume, archive (asking first, saying how many enrolments will end), duplicate.
Each one flashes what happened and redirects."""

from __future__ import annotations

import pytest

from automations.models import Automation, AutomationRun, AutomationVersion, Reason, RunState, State
from automations.services.automations import automation_publish
from tests.automations.helpers import active, contact, send, template
from tests.automations.page_helpers import (
    WRITERS,
    action_path,
    add_template,
    draft_automation,
    edit_path,
    follow,
    fresh,
    live_version,
    section,
    send_step,
    snapshot,
    step_path,
    visible,
)

pytestmark = pytest.mark.django_db

TAG = {"type": "tag_added", "tag": "new-lead"}


def complete(personas, **kwargs):
    return draft_automation(personas.org, steps=[send_step(add_template(personas.org))], **kwargs)


# Publish and discard


@pytest.mark.parametrize("persona", WRITERS)
def test_it_publishes_the_draft_as_a_new_version(personas, persona):
    automation = complete(personas)
    client = personas.client(persona)

    response = client.post(action_path(automation, "publish"))

    version = AutomationVersion.objects.get(automation=automation)
    assert version.number == 1
    assert version.definition == automation.draft
    assert version.published_by == personas.user(persona)
    assert fresh(automation).live_version == version
    assert fresh(automation).state == State.DRAFT
    assert response["Location"] == edit_path(automation)
    page = follow(client, response)
    assert "Published version 1." in page
    assert "Live: version 1" in page
    assert "Published: the draft is version 1." in page
    assert "Unpublished changes" not in page


def test_it_shows_unpublished_changes_and_publishes_them_as_the_next_version(personas):
    automation = complete(personas)
    automation_publish(automation=automation)
    client = personas.client("marketer")

    client.post(edit_path(automation, "reentry/"), {"policy": "every_time"})
    page = visible(client.get(edit_path(automation)))
    response = client.post(action_path(automation, "publish"))

    assert "Unpublished changes" in page
    assert "Discard draft" in page
    assert list(
        AutomationVersion.objects.filter(automation=automation).values_list("number", flat=True)
    ) == [2, 1]
    assert live_version(automation).definition["reentry"] == {"policy": "every_time"}
    assert "Published version 2." in follow(client, response)


def test_it_says_there_is_nothing_to_publish(personas):
    automation = complete(personas)
    automation_publish(automation=automation)
    client = personas.client("marketer")

    response = client.post(action_path(automation, "publish"))

    assert AutomationVersion.objects.filter(automation=automation).count() == 1
    assert "Nothing to publish: the draft is version 1." in follow(client, response)


@pytest.mark.parametrize(
    ("steps", "error"),
    [
        ([send_step(None)], "Step 1: Choose a template."),
        ([], "Steps: Add at least one step: a Twilio SMS to send."),
    ],
)
def test_it_refuses_to_publish_an_incomplete_draft(personas, steps, error):
    automation = draft_automation(personas.org, steps=steps)
    client = personas.client("marketer")
    before = snapshot()

    response = client.post(action_path(automation, "publish"))

    assert snapshot() == before
    assert error in follow(client, response)


def test_it_asks_before_discarding_the_draft_then_goes_back_to_the_live_version(personas):
    automation = complete(personas)
    live = automation_publish(automation=automation)
    client = personas.client("marketer")
    client.post(edit_path(automation, "exit-rules/"), {"on_reply": "on"})
    assert fresh(automation).draft != live.definition

    confirm = client.get(action_path(automation, "discard-draft"))
    response = client.post(action_path(automation, "discard-draft"))

    assert confirm.status_code == 200
    text = visible(confirm)
    assert "Discard the draft of “Welcome new leads”?" in text
    assert "The draft goes back to version 1, the live one" in text
    assert f'href="{edit_path(automation)}"' in confirm.content.decode()
    assert fresh(automation).draft == live.definition
    assert "Draft discarded: it is version 1 again." in follow(client, response)


def test_it_refuses_to_discard_a_draft_never_published(personas):
    automation = complete(personas)
    client = personas.client("marketer")
    before = snapshot()

    response = client.post(action_path(automation, "discard-draft"))

    assert snapshot() == before
    assert "Nothing is published yet" in follow(client, response)


# Activate, pause, resume


def test_it_refuses_to_activate_without_a_twilio_connection_and_says_why(personas):
    automation = complete(personas)
    client = personas.client("marketer")
    before = snapshot()

    page = client.get(edit_path(automation))
    response = client.post(action_path(automation, "activate"))

    reason = "Connect a working Twilio account in the Connection Center first"
    assert reason in section(page, "builder")
    assert snapshot() == before
    assert fresh(automation).state == State.DRAFT
    assert reason in follow(client, response)


@pytest.mark.parametrize("persona", WRITERS)
def test_it_activates_publishing_a_draft_never_published(personas, persona, connection):
    automation = complete(personas)
    client = personas.client(persona)

    response = client.post(action_path(automation, "activate"))

    saved = fresh(automation)
    assert saved.state == State.ACTIVE
    assert live_version(saved).number == 1
    assert saved.trigger_type == "tag_added"
    page = follow(client, response)
    assert "“Welcome new leads” is active (version 1 published): contacts now enter it." in page
    assert "Pause" in page
    assert "Activate" not in page


def test_it_refuses_to_activate_an_incomplete_draft(personas, connection):
    automation = draft_automation(personas.org, steps=[send_step(None)])
    client = personas.client("marketer")
    before = snapshot()

    response = client.post(action_path(automation, "activate"))

    assert snapshot() == before
    assert "Step 1: Choose a template." in follow(client, response)


def test_it_pauses_and_resumes(personas, connection):
    automation = active(personas, trigger=TAG, steps=[send(template(personas))])
    client = personas.client("marketer")

    paused = client.post(action_path(automation, "pause"))
    assert fresh(automation).state == State.PAUSED
    paused_page = follow(client, paused)
    resumed = client.post(action_path(automation, "activate"))

    assert "is paused: no one enters and nothing is sent until you resume it." in paused_page
    assert "Resume" in paused_page
    assert fresh(automation).state == State.ACTIVE
    assert AutomationVersion.objects.filter(automation=automation).count() == 1
    assert "“Welcome new leads” is active again." in follow(client, resumed)


def test_it_refuses_to_pause_an_automation_that_is_not_active(personas):
    automation = complete(personas)
    client = personas.client("marketer")

    response = client.post(action_path(automation, "pause"))

    assert fresh(automation).state == State.DRAFT
    assert "Only an active automation can be paused." in follow(client, response)


def test_it_goes_back_to_a_page_of_this_site_that_asked(personas, connection):
    automation = active(personas, trigger=TAG, steps=[send(template(personas))])
    client = personas.client("marketer")

    inside = client.post(action_path(automation, "pause"), {"next": "/automations/"})
    outside = client.post(action_path(automation, "activate"), {"next": "https://evil.example/"})

    assert inside["Location"] == "/automations/"
    assert outside["Location"] == edit_path(automation)


# Archive and duplicate


def test_it_asks_before_archiving_saying_how_many_enrolments_will_end(personas, connection):
    automation = active(personas, trigger=TAG, steps=[send(template(personas))])
    people = [contact(personas, phone=f"+1415555{n:04d}") for n in range(3)]
    states = [RunState.WAITING, RunState.RUNNING, RunState.COMPLETED]
    for n, (person, state) in enumerate(zip(people, states, strict=True)):
        AutomationRun.objects.create(
            organization=personas.org,
            automation=automation,
            version=live_version(automation),
            contact=person,
            occurrence_key=f"k{n}",
            state=state,
        )
    client = personas.client("marketer")

    confirm = client.get(action_path(automation, "archive"))
    response = client.post(action_path(automation, "archive"))

    assert confirm.status_code == 200
    assert "Archive “Welcome new leads”?" in visible(confirm)
    assert "2 enrolments under way will end." in visible(confirm)
    assert fresh(automation).state == State.ARCHIVED
    assert sorted(AutomationRun.objects.values_list("state", "reason")) == [
        (RunState.COMPLETED, ""),
        (RunState.EXITED, Reason.ARCHIVED),
        (RunState.EXITED, Reason.ARCHIVED),
    ]
    page = follow(client, response)
    assert "“Welcome new leads” is archived. 2 enrolments under way ended." in page
    assert "This automation is archived" in page


def test_it_says_when_archiving_ends_no_enrolment(personas):
    automation = complete(personas)

    confirm = personas.client("marketer").get(action_path(automation, "archive"))

    assert "No enrolment is under way." in visible(confirm)
    assert fresh(automation).state == State.DRAFT


def test_it_refuses_to_activate_an_archived_automation(personas, connection):
    automation = complete(personas)
    client = personas.client("marketer")
    client.post(action_path(automation, "archive"))

    response = client.post(action_path(automation, "activate"))

    assert fresh(automation).state == State.ARCHIVED
    assert "An archived automation cannot be activated: duplicate it instead." in follow(
        client, response
    )


@pytest.mark.parametrize("persona", WRITERS)
def test_it_duplicates_into_a_new_draft_and_opens_it(personas, persona, connection):
    automation = active(personas, trigger=TAG, steps=[send(template(personas))])
    client = personas.client(persona)

    response = client.post(action_path(automation, "duplicate"))

    copy = Automation.objects.exclude(pk=automation.pk).get()
    assert copy.name == "Welcome new leads (copy)"
    assert copy.state == State.DRAFT
    assert copy.live_version is None
    assert copy.draft == automation.draft
    assert copy.created_by == personas.user(persona)
    assert response["Location"] == edit_path(copy)
    assert "Created “Welcome new leads (copy)”, a draft." in follow(client, response)
    assert fresh(automation).state == State.ACTIVE


def test_it_leaves_editing_a_step_of_an_active_automation_to_the_draft(personas, connection):
    automation = active(personas, trigger=TAG, steps=[send(template(personas))])
    live = live_version(automation).definition
    client = personas.client("marketer")

    client.post(step_path(automation, "s1"), {"s1-mode": "single", "s1-template": ""})

    assert live_version(automation).definition == live
    assert fresh(automation).draft["steps"][0]["template"] is None
    assert "Unpublished changes" in visible(client.get(edit_path(automation)))
