"""``POST /api/v1/automations/<id>/dry-run/``: what each step would do; nothing is written."""

from __future__ import annotations

import pytest

from automations.models import AutomationRun, RunStep
from automations.services.automations import automation_create
from contacts.models import ConsentSource
from contacts.services.consent import consent_opt_out
from messaging.models import Message
from tests.automations.api_helpers import TAG, error, send_step, snapshot, url
from tests.automations.helpers import ab_split, active, contact, template
from tests.messaging.api_helpers import add_contact

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connection", "enqueued")]


def dry_run(api, automation, person):
    return api.post(url(automation, "dry-run/"), {"contact": str(person.public_id)}, "json")


def test_it_says_what_each_step_would_do_and_writes_nothing(personas):
    welcome = template(personas)
    nudge = template(personas, "Nudge", "Still there, {{ first_name }}?")
    other = template(personas, "Other", "Olá {{ first_name }}")
    automation = active(
        personas,
        trigger=TAG,
        steps=[
            send_step(welcome, respect_quiet_hours=False),
            {"id": "s2", "type": "wait", "duration": {"days": 2}},
            {"id": "s3", "type": "branch", "if": {"replied": True}, "then": "end"},
            ab_split((nudge, 70), (other, 30), step_id="s4", respect_quiet_hours=False),
        ],
    )
    ada = contact(personas)
    before = snapshot()

    response = dry_run(personas.api("viewer"), automation, ada)

    assert response.status_code == 200, response.content
    answer = response.json()
    assert (answer["would_enrol"], answer["refusal"], answer["refusal_detail"]) == (True, None, "")
    first, wait, branch, split = answer["steps"]
    assert first == {
        "step": "s1",
        "type": "send_sms",
        "words": "send Welcome",
        "outcome": "sent",
        "detail": "",
        "texts": [
            {
                "template": str(welcome.public_id),
                "weight": None,
                "text": "Welcome Ada!\nReply STOP to opt out",
                "segments": 1,
                "encoding": "GSM-7",
                "suppressed_reason": None,
                "send_after": None,
            }
        ],
    }
    assert (wait["step"], wait["type"], wait["words"], wait["outcome"]) == (
        "s2",
        "wait",
        "wait 2 days",
        "waited",
    )
    assert wait["detail"].startswith("until ")
    assert wait["texts"] == []
    assert (branch["outcome"], branch["detail"]) == ("branched", "else: continue")
    assert branch["words"] == "if the contact replied, end; else go on"
    assert split["words"] == "send one of Nudge (70) / Other (30)"
    assert [(t["template"], t["weight"], t["encoding"]) for t in split["texts"]] == [
        (str(nudge.public_id), 70, "GSM-7"),
        (str(other.public_id), 30, "UCS-2"),
    ]
    assert split["texts"][0]["text"].startswith("Still there, Ada?")
    assert snapshot() == before
    assert not Message.objects.exists()


def test_it_says_why_a_contact_would_be_refused(personas):
    automation = active(
        personas,
        trigger=TAG,
        steps=[send_step(template(personas))],
        entry_rules={"has_all_tags": ["vip"]},
    )
    ada = contact(personas)

    answer = dry_run(personas.api("viewer"), automation, ada).json()

    assert (answer["would_enrol"], answer["refusal"], answer["refusal_detail"]) == (
        False,
        "entry_rules",
        "lacks the tag vip",
    )
    assert answer["steps"][0]["outcome"] == "exited"
    assert not AutomationRun.objects.exists()


def test_an_opted_out_contact_would_not_enrol(personas):
    automation = active(personas, trigger=TAG, steps=[send_step(template(personas))])
    ada = contact(personas)
    consent_opt_out(organization=personas.org, phone=ada.phone, source=ConsentSource.USER)

    answer = dry_run(personas.api("viewer"), automation, ada).json()

    assert (answer["would_enrol"], answer["refusal"]) == (False, "opted_out")


def test_a_draft_is_dry_run_from_its_draft(personas):
    welcome = template(personas)
    automation = automation_create(
        organization=personas.org,
        name="Draft",
        definition={"trigger": TAG, "steps": [send_step(welcome)]},
        complete=True,
    )

    response = dry_run(personas.api("marketer"), automation, contact(personas))

    assert response.status_code == 200, response.content
    assert [t["template"] for t in response.json()["steps"][0]["texts"]] == [str(welcome.public_id)]
    assert not RunStep.objects.exists()


def test_a_contact_of_another_organization_is_404(personas):
    automation = active(personas, trigger=TAG, steps=[send_step(template(personas))])

    response = dry_run(personas.api("viewer"), automation, add_contact(personas.other_org))

    assert response.status_code == 404, response.content
    assert error(response)["code"] == "not_found"


def test_a_missing_contact_is_400(personas):
    automation = active(personas, trigger=TAG, steps=[send_step(template(personas))])

    response = personas.api("viewer").post(url(automation, "dry-run/"), {}, "json")

    assert response.status_code == 400
    assert set(error(response)["fields"]) == {"contact"}
