""" "Why didn't this contact get it?": the contact page's automations fragment lists each
enrolment step by step (sent with its message's status, suppressed with the rule, waiting
until when, exited because …) and each skip with its reason, and offers Enrol now."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from automations.models import AutomationRun, RunState
from automations.services.automations import automation_archive, automation_pause
from automations.services.engine import runs_advance
from contacts.services.tags import contact_tags_add, contact_tags_remove
from messaging.models import Status
from tests.automations.helpers import active, contact, send, template
from tests.automations.insight_helpers import (
    ROLES,
    TAG,
    WRITERS,
    contact_runs_url,
    disconnect,
    enrol,
    message_of,
    run_of,
    set_status,
    text,
)
from tests.factories import page_text
from tests.messaging.helpers import Clock

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connection", "enqueued")]

MONDAY = datetime.datetime(2024, 3, 4, 15, 0, tzinfo=datetime.UTC)  # 10:00 in New York
ENROL = "/automations/enrol/"


def _welcome(personas, **definition):
    return active(
        personas,
        trigger=TAG,
        steps=[send(template(personas), respect_quiet_hours=False)],
        **definition,
    )


def test_a_sent_step_shows_its_messages_status_and_links_to_it(personas):
    automation = _welcome(personas)
    ada = contact(personas)
    enrol(automation, [ada])
    message = message_of(automation, ada)
    set_status(message, Status.DELIVERED)

    response = personas.client("viewer").get(contact_runs_url(ada))

    page = text(response)
    assert "Welcome new leads v1" in page
    assert "Completed" in page
    assert "s1: send Welcome — Sent: Delivered open the message" in page
    assert f'href="/messages/{message.public_id}/"' in response.content.decode()


def test_a_suppressed_step_names_the_rule(personas, connection):
    automation = _welcome(personas)
    disconnect(personas, connection)
    ada = contact(personas)
    enrol(automation, [ada])

    page = text(personas.client("viewer").get(contact_runs_url(ada)))

    assert "s1: send Welcome — Suppressed: No working Twilio connection" in page


def test_a_waiting_enrolment_says_until_when_in_the_contacts_zone(personas, monkeypatch):
    Clock(monkeypatch, MONDAY)
    automation = active(
        personas,
        trigger=TAG,
        steps=[
            send(template(personas), respect_quiet_hours=False),
            {"id": "s2", "type": "wait", "duration": {"days": 2}},
        ],
    )
    ada = contact(personas, time_zone="America/New_York")
    enrol(automation, [ada])
    assert run_of(automation, ada).state == RunState.WAITING

    page = text(personas.client("viewer").get(contact_runs_url(ada)))

    assert "Waiting at step s2 until Wed Mar 6, 10:00 EST" in page
    assert "s2: wait 2 days — Waiting until Wed Mar 6, 10:00 EST" in page


def test_an_archived_automation_says_why_the_enrolment_ended(personas):
    automation = active(
        personas,
        trigger=TAG,
        steps=[
            send(template(personas), respect_quiet_hours=False),
            {"id": "s2", "type": "wait", "duration": {"days": 2}},
        ],
    )
    ada = contact(personas)
    enrol(automation, [ada])
    automation_archive(automation=automation)

    page = text(personas.client("viewer").get(contact_runs_url(ada)))

    assert "Exited because: The automation was archived" in page


def test_an_entry_rule_that_stops_holding_exits_before_the_send(personas, monkeypatch):
    clock = Clock(monkeypatch, MONDAY)
    automation = active(
        personas,
        trigger=TAG,
        steps=[
            {"id": "s1", "type": "wait", "duration": {"hours": 1}},
            send(template(personas), "s2", respect_quiet_hours=False),
        ],
        entry_rules={"has_all_tags": ["vip"]},
    )
    ada = contact(personas)
    contact_tags_add(contact=ada, names=["vip"], source="ui")
    enrol(automation, [ada])
    contact_tags_remove(contact=ada, names=["vip"], source="ui")
    runs_advance(now=clock.advance(hours=2))

    page = text(personas.client("viewer").get(contact_runs_url(ada)))

    assert "Exited because: Does not match the entry rules: lacks the tag vip" in page
    assert "s2: send Welcome — Exited: lacks the tag vip" in page


def test_a_skip_says_which_rule_refused(personas):
    automation = _welcome(personas, entry_rules={"has_all_tags": ["vip"]})
    ada = contact(personas)
    enrol(automation, [ada])

    page = text(personas.client("viewer").get(contact_runs_url(ada)))

    assert "Skipped: Does not match the entry rules: lacks the tag vip" in page


def test_a_contact_no_automation_touched_is_told_so(personas):
    ada = contact(personas)
    page = text(personas.client("viewer").get(contact_runs_url(ada)))
    assert "No automation has enrolled or skipped this contact." in page


def test_the_contact_page_loads_the_fragment_by_url(personas):
    ada = contact(personas)
    response = personas.client("viewer").get(f"/contacts/{ada.public_id}/")
    assert f'data-fragment="/automations/contact/{ada.public_id}/"' in page_text(response)


def _fragment_queries(personas, ada, automations: int) -> int:
    for n in range(automations):
        automation = active(
            personas,
            trigger=TAG,
            name=f"Flow {ada.phone} {n}",
            steps=[
                send(template(personas, f"T {ada.phone} {n}"), respect_quiet_hours=False),
                {"id": "s2", "type": "wait", "duration": {"days": 2}},
            ],
        )
        enrol(automation, [ada])
    client = personas.client("viewer")
    client.get(contact_runs_url(ada))
    with CaptureQueriesContext(db) as captured:
        response = client.get(contact_runs_url(ada))
    assert text(response).count("Waiting at step s2") == automations
    return len(captured.captured_queries)


def test_the_fragment_costs_the_same_queries_for_1_or_8_enrolments(personas):
    one = _fragment_queries(personas, contact(personas, phone="+14155550101"), 1)
    eight = _fragment_queries(personas, contact(personas, phone="+14155550102"), 8)
    assert one == eight


# --- Enrol now --------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", WRITERS)
def test_writers_are_offered_enrol_now_in_active_automations(personas, persona):
    _welcome(personas)
    paused = active(
        personas, trigger=TAG, name="Paused one", steps=[send(template(personas, "Other"))]
    )
    automation_pause(automation=paused)
    ada = contact(personas)

    response = personas.client(persona).get(contact_runs_url(ada))

    body = page_text(response)
    assert "Enrol now" in body
    assert "Welcome new leads</option>" in body
    assert "Paused one" not in body


def test_the_viewer_is_not_offered_enrol_now(personas):
    _welcome(personas)
    ada = contact(personas)
    assert "Enrol now" not in text(personas.client("viewer").get(contact_runs_url(ada)))


def test_enrol_now_enrols_and_says_how_it_went(personas):
    automation = _welcome(personas)
    ada = contact(personas, first_name="Ada", last_name="Lovelace")
    client = personas.client("marketer")
    data = {
        "automation": str(automation.public_id),
        "contact": str(ada.public_id),
        "next": f"/contacts/{ada.public_id}/",
    }

    response = client.post(ENROL, data, follow=True)

    assert response.redirect_chain == [(f"/contacts/{ada.public_id}/", 302)]
    assert "Ada Lovelace was enrolled in “Welcome new leads”. Completed." in page_text(response)
    run = run_of(automation, ada)
    assert (run.state, run.source) == (RunState.COMPLETED, "ui")
    assert message_of(automation, ada).body.startswith("Welcome Ada!")


def test_enrol_now_again_reports_the_skip_and_its_reason(personas):
    automation = _welcome(personas)
    ada = contact(personas, first_name="Ada", last_name="Lovelace")
    client = personas.client("marketer")
    data = {"automation": str(automation.public_id), "contact": str(ada.public_id)}
    client.post(ENROL, data)

    response = client.post(ENROL, data, follow=True)

    assert (
        "Ada Lovelace was not enrolled in “Welcome new leads”: Already enrolled (re-entry policy)."
    ) in page_text(response)
    states = sorted(AutomationRun.objects.values_list("state", flat=True))
    assert states == [RunState.COMPLETED, RunState.SKIPPED]


def test_enrol_now_goes_back_only_to_a_page_of_this_site(personas):
    automation = _welcome(personas)
    ada = contact(personas)
    data = {
        "automation": str(automation.public_id),
        "contact": str(ada.public_id),
        "next": "https://evil.example.com/",
    }
    response = personas.client("marketer").post(ENROL, data)
    assert response["Location"] == f"/automations/{automation.public_id}/"


def test_the_viewer_may_not_enrol(personas):
    automation = _welcome(personas)
    ada = contact(personas)
    data = {"automation": str(automation.public_id), "contact": str(ada.public_id)}
    assert personas.client("viewer").post(ENROL, data).status_code == 403
    assert not AutomationRun.objects.exists()


def test_enrol_now_with_another_organizations_automation_or_contact_is_not_found(personas):
    automation = _welcome(personas)
    ada = contact(personas)
    theirs = contact(personas, phone="+14155550199")
    theirs.organization = personas.other_org
    theirs.save()
    client = personas.client("outsider")
    mine = {"automation": str(automation.public_id), "contact": str(ada.public_id)}
    assert client.post(ENROL, mine).status_code == 404
    marketer = personas.client("marketer")
    other = {"automation": str(automation.public_id), "contact": str(theirs.public_id)}
    assert marketer.post(ENROL, other).status_code == 404
    assert not AutomationRun.objects.exists()


# --- Access -----------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ROLES)
def test_every_member_reads_the_fragment(personas, persona):
    automation = _welcome(personas)
    ada = contact(personas)
    enrol(automation, [ada])
    assert "Welcome new leads" in text(personas.client(persona).get(contact_runs_url(ada)))


def test_another_organizations_contact_is_not_found(personas):
    ada = contact(personas)
    assert personas.client("outsider").get(contact_runs_url(ada)).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(personas, client):
    ada = contact(personas)
    response = client.get(contact_runs_url(ada))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")
