"""``POST /api/v1/automations/<id>/enrol/``: one contact now, once per Idempotency-Key."""

from __future__ import annotations

import pytest
from django.test import TestCase

from automations.models import AutomationRun, RunState, RunStep
from automations.services.automations import automation_create, automation_pause
from messaging.models import Message
from tenants.models import IdempotencyKey
from tests.automations.api_helpers import (
    RUN_FIELDS,
    TAG,
    error,
    send_step,
    snapshot,
    url,
)
from tests.automations.helpers import active, contact, template
from tests.messaging.api_helpers import add_contact

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connection", "enqueued")]

WAIT = {"id": "s2", "type": "wait", "duration": {"days": 2}}


def flow(personas, **definition):
    steps = [send_step(template(personas), respect_quiet_hours=False), WAIT]
    return active(personas, trigger=TAG, steps=steps, **definition)


def enrol(api, automation, person, **headers):
    """The call, with what it leaves for after its commit run (the send task's enqueue)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return api.post(
            url(automation, "enrol/"), {"contact": str(person.public_id)}, "json", **headers
        )


def test_it_enrols_runs_the_first_step_and_answers_201_with_the_run(personas, enqueued):
    automation = flow(personas)
    ada = contact(personas)

    response = enrol(personas.api("marketer"), automation, ada)

    assert response.status_code == 201, response.content
    run = AutomationRun.objects.get()
    message = Message.objects.get()
    answer = response.json()
    assert set(answer) == RUN_FIELDS
    assert answer["id"] == str(run.public_id)
    assert (answer["contact"], answer["version"], answer["state"], answer["step"]) == (
        str(ada.public_id),
        1,
        "waiting",
        "s2",
    )
    assert [(s["step"], s["outcome"], s["message"]) for s in answer["steps"]] == [
        ("s1", "sent", str(message.public_id)),
        ("s2", "waited", None),
    ]
    assert (run.contact, run.state, run.source) == (ada, RunState.WAITING, "api")
    assert run.occurrence_key == "once"
    assert message.body.startswith("Welcome Ada!")
    assert (message.source, message.source_ref) == ("automation", str(automation.public_id))
    assert enqueued == [message.pk]


def test_a_refused_contact_is_200_skipped_with_the_reason(personas, enqueued):
    automation = flow(personas, entry_rules={"has_all_tags": ["vip"]})
    ada = contact(personas)

    response = enrol(personas.api("marketer"), automation, ada)

    assert response.status_code == 200, response.content
    answer = response.json()
    assert (answer["state"], answer["reason"], answer["detail"]) == (
        "skipped",
        "entry_rules",
        "lacks the tag vip",
    )
    assert answer["steps"] == []
    assert AutomationRun.objects.get().state == RunState.SKIPPED
    assert not Message.objects.exists()
    assert enqueued == []


def test_a_second_call_under_once_is_skipped_for_reentry(personas):
    automation = flow(personas)
    ada = contact(personas)
    api = personas.api("marketer")

    first = enrol(api, automation, ada)
    second = enrol(api, automation, ada)

    assert first.status_code == 201
    assert second.status_code == 200, second.content
    assert (second.json()["state"], second.json()["reason"]) == ("skipped", "reentry")
    assert second.json()["id"] != first.json()["id"]
    assert Message.objects.count() == 1


def test_every_call_without_a_key_is_an_occurrence_of_its_own(personas):
    automation = flow(personas, reentry={"policy": "every_time"})
    ada = contact(personas)
    api = personas.api("marketer")

    first = enrol(api, automation, ada)
    second = enrol(api, automation, ada)

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    assert AutomationRun.objects.filter(state=RunState.WAITING).count() == 2
    assert Message.objects.count() == 2


@pytest.mark.parametrize("policy", ["once", "every_time"])
def test_a_retry_with_the_same_idempotency_key_enrols_once(personas, enqueued, policy):
    automation = flow(personas, reentry={"policy": policy})
    ada = contact(personas)
    api = personas.api("marketer")

    first = enrol(api, automation, ada, HTTP_IDEMPOTENCY_KEY="signup-42")
    again = enrol(api, automation, ada, HTTP_IDEMPOTENCY_KEY="signup-42")

    assert first.status_code == 201, first.content
    assert again.status_code == 201, again.content
    assert again.json() == first.json()
    assert AutomationRun.objects.count() == 1  # no skip recorded for the retry either
    assert RunStep.objects.count() == 2
    assert Message.objects.count() == 1
    assert len(enqueued) == 1
    assert IdempotencyKey.objects.get().key == "signup-42"


def test_a_new_idempotency_key_is_a_new_occurrence(personas):
    automation = flow(personas, reentry={"policy": "every_time"})
    ada = contact(personas)
    api = personas.api("marketer")

    first = enrol(api, automation, ada, HTTP_IDEMPOTENCY_KEY="a")
    second = enrol(api, automation, ada, HTTP_IDEMPOTENCY_KEY="b")

    assert first.status_code == second.status_code == 201
    assert AutomationRun.objects.count() == 2
    assert set(AutomationRun.objects.values_list("occurrence_key", flat=True)) == {"api:a", "api:b"}


def test_a_long_idempotency_key_still_fits(personas):
    automation = flow(personas, reentry={"policy": "every_time"})
    api = personas.api("marketer")
    key = "k" * 150

    first = enrol(api, automation, contact(personas), HTTP_IDEMPOTENCY_KEY=key)
    again = enrol(api, automation, contact(personas, "+14155550109"), HTTP_IDEMPOTENCY_KEY=key)

    assert first.status_code == 201, first.content
    assert again.status_code == 409  # the same key for another contact
    assert len(AutomationRun.objects.get().occurrence_key) <= 80


def test_the_same_key_for_another_contact_is_409(personas):
    automation = flow(personas)
    api = personas.api("marketer")
    ada, bob = contact(personas), contact(personas, "+14155550102", first_name="Bob")
    enrol(api, automation, ada, HTTP_IDEMPOTENCY_KEY="k-1")
    before = snapshot()

    response = enrol(api, automation, bob, HTTP_IDEMPOTENCY_KEY="k-1")

    assert response.status_code == 409, response.content
    assert error(response)["code"] == "idempotency_key_reused"
    assert snapshot() == before


def test_a_draft_or_paused_automation_does_not_enrol(personas):
    draft = automation_create(
        organization=personas.org,
        name="Draft",
        definition={"trigger": TAG, "steps": [send_step(template(personas, "D"))]},
        complete=True,
    )
    paused = automation_pause(automation=flow(personas))
    ada = contact(personas)
    api = personas.api("marketer")

    for automation in (draft, paused):
        response = enrol(api, automation, ada, HTTP_IDEMPOTENCY_KEY=f"k-{automation.pk}")

        assert response.status_code == 409, response.content
        assert error(response)["code"] == "not_active"
    assert not AutomationRun.objects.exists()
    assert not Message.objects.exists()
    assert not IdempotencyKey.objects.exists()  # a refused call keeps no answer


def test_a_contact_of_another_organization_is_404(personas):
    automation = flow(personas)
    theirs = add_contact(personas.other_org)

    response = enrol(personas.api("marketer"), automation, theirs)

    assert response.status_code == 404, response.content
    assert not AutomationRun.objects.exists()


@pytest.mark.parametrize("sent", [{}, {"contact": "not-a-uuid"}])
def test_a_missing_or_malformed_contact_is_400(personas, sent):
    automation = flow(personas)

    response = personas.api("marketer").post(url(automation, "enrol/"), sent, "json")

    assert response.status_code == 400, response.content
    assert set(error(response)["fields"]) == {"contact"}
    assert not AutomationRun.objects.exists()
