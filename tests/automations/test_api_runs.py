"""``GET /api/v1/automations/<id>/runs/``: enrolments and skips, with their step ledger."""

from __future__ import annotations

import pytest

from automations.models import AutomationRun, RunState
from messaging.models import Message
from tests.automations.api_helpers import (
    LEDGER_FIELDS,
    RUN_FIELDS,
    TAG,
    error,
    ids,
    send_step,
    url,
)
from tests.automations.helpers import active, contact, template
from tests.messaging.api_helpers import add_contact

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connection", "enqueued")]

WAIT = {"id": "s2", "type": "wait", "duration": {"days": 2}}


@pytest.fixture
def flow(personas):
    """An active flow (send, then wait two days) that refuses customers, with Ada enrolled
    (waiting at s2), Bob enrolled, and Carl (a customer) skipped, all through the API."""
    automation = active(
        personas,
        trigger=TAG,
        steps=[send_step(template(personas), respect_quiet_hours=False), WAIT],
        entry_rules={"lacks_tags": ["customer"]},
    )
    ada = contact(personas, "+14155550101", first_name="Ada")
    bob = contact(personas, "+14155550102", first_name="Bob")
    carl = contact(personas, "+14155550103", first_name="Carl", tags=["customer"])
    api = personas.api("marketer")
    for person in (ada, bob, carl):
        response = api.post(url(automation, "enrol/"), {"contact": str(person.public_id)}, "json")
        assert response.status_code in (200, 201), response.content
    return automation, ada, bob, carl


def test_it_lists_runs_newest_first_with_their_ledger(personas, flow):
    automation, ada, bob, carl = flow
    ada_run = AutomationRun.objects.get(contact=ada)
    message = Message.objects.get(contact=ada)

    response = personas.api("viewer").get(url(automation, "runs/"))

    assert response.status_code == 200, response.content
    page = response.json()
    assert (page["next"], page["previous"]) == (None, None)
    rows = page["results"]
    assert [row["contact"] for row in rows] == [
        str(carl.public_id),
        str(bob.public_id),
        str(ada.public_id),
    ]
    assert all(set(row) == RUN_FIELDS for row in rows)
    skipped, _bob, waiting = rows
    assert skipped == {
        "id": str(AutomationRun.objects.get(contact=carl).public_id),
        "contact": str(carl.public_id),
        "version": 1,
        "state": "skipped",
        "step": None,
        "due_at": None,
        "reason": "entry_rules",
        "detail": "has the tag customer",
        "created_at": skipped["created_at"],
        "ended_at": skipped["ended_at"],
        "steps": [],
    }
    assert skipped["ended_at"] is not None
    assert waiting["id"] == str(ada_run.public_id)
    assert (waiting["state"], waiting["step"], waiting["reason"]) == ("waiting", "s2", None)
    assert waiting["due_at"].endswith("Z")
    assert waiting["ended_at"] is None
    assert all(set(row) == LEDGER_FIELDS for row in waiting["steps"])
    sent, waited = waiting["steps"]
    assert sent == {
        "step": "s1",
        "outcome": "sent",
        "message": str(message.public_id),
        "message_status": message.status,
        "variant": None,
        "detail": "",
        "at": sent["at"],
    }
    assert message.status == "pending"
    assert (waited["step"], waited["outcome"], waited["message"]) == ("s2", "waited", None)
    assert waited["message_status"] is None


def test_it_filters_by_contact_and_state(personas, flow):
    automation, ada, bob, carl = flow
    api = personas.api("viewer")

    by_contact = api.get(url(automation, "runs/"), {"contact": str(ada.public_id)})
    skipped = api.get(url(automation, "runs/"), {"state": "skipped"})
    waiting = api.get(url(automation, "runs/"), {"state": "waiting"})
    both = api.get(url(automation, "runs/"), {"state": "waiting", "contact": str(bob.public_id)})
    none = api.get(url(automation, "runs/"), {"state": "completed"})

    assert ids(by_contact) == [str(AutomationRun.objects.get(contact=ada).public_id)]
    assert [r["contact"] for r in skipped.json()["results"]] == [str(carl.public_id)]
    assert [r["contact"] for r in waiting.json()["results"]] == [
        str(bob.public_id),
        str(ada.public_id),
    ]
    assert [r["contact"] for r in both.json()["results"]] == [str(bob.public_id)]
    assert none.json()["results"] == []


def test_it_cursor_pages_runs(personas, flow):
    automation, *_people = flow
    api = personas.api("viewer")

    first = api.get(url(automation, "runs/"), {"limit": 2})
    second = api.get(first.json()["next"])

    assert len(ids(first)) == 2
    assert len(ids(second)) == 1
    assert second.json()["next"] is None
    assert set(ids(first) + ids(second)) == {
        str(key) for key in AutomationRun.objects.values_list("public_id", flat=True)
    }


def test_it_lists_only_this_automations_runs(personas, flow):
    automation, ada, *_people = flow
    other = active(
        personas, trigger=TAG, steps=[send_step(template(personas, "Other"))], name="Other"
    )
    personas.api("marketer").post(url(other, "enrol/"), {"contact": str(ada.public_id)}, "json")

    mine = personas.api("viewer").get(url(automation, "runs/"))
    theirs = personas.api("viewer").get(url(other, "runs/"))

    assert len(ids(mine)) == 3
    assert ids(theirs) == [str(AutomationRun.objects.get(automation=other).public_id)]


def test_a_contact_of_another_organization_is_404(personas, flow):
    automation, *_people = flow
    theirs = add_contact(personas.other_org)

    for contact_id in (str(theirs.public_id), "not-a-uuid"):
        response = personas.api("viewer").get(url(automation, "runs/"), {"contact": contact_id})

        assert response.status_code == 404, response.content
        assert error(response)["code"] == "not_found"


def test_an_unknown_state_filter_is_400(personas, flow):
    automation, *_people = flow

    response = personas.api("viewer").get(url(automation, "runs/"), {"state": "sleeping"})

    assert response.status_code == 400
    assert set(error(response)["fields"]) == {"state"}
    assert RunState.WAITING in error(response)["fields"]["state"][0]
