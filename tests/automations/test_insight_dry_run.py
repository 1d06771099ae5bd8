"""The dry run: pick a contact by search or phone and see what each step would do now (the
entry rules' verdict, each send's rule verdict, the quiet-hours deferral in the contact's
zone, the rendered text and its segments), with Enrol now for marketers and above."""

from __future__ import annotations

import datetime

import pytest

from automations.models import AutomationRun, RunState
from automations.services.automations import automation_pause
from contacts.models import ConsentSource
from contacts.services.consent import consent_opt_out
from contacts.services.tags import contact_tags_add
from messaging.models import Message
from tests.automations.helpers import ab_split, active, contact, send, template
from tests.automations.insight_helpers import (
    ROLES,
    TAG,
    WRITERS,
    dry_run_url,
    enrol_url,
    run_of,
    text,
)
from tests.factories import page_text
from tests.messaging.helpers import Clock

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connection", "enqueued")]

# 22:00 on Sunday in New York: quiet hours (the window is 08:00-21:00) until 08:00 Monday.
SUNDAY_NIGHT = datetime.datetime(2024, 3, 4, 3, 0, tzinfo=datetime.UTC)
MONDAY = datetime.datetime(2024, 3, 4, 15, 0, tzinfo=datetime.UTC)  # 10:00 in New York


def _automation(personas, steps=None, **definition):
    return active(
        personas,
        trigger=TAG,
        steps=steps or [send(template(personas), respect_quiet_hours=False)],
        **definition,
    )


def test_a_phone_number_finds_the_contact_and_shows_each_step(personas):
    automation = _automation(personas)
    contact(personas, phone="+14155550101", first_name="Ada", last_name="Lovelace")

    response = personas.client("viewer").get(dry_run_url(automation), {"q": "(415) 555-0101"})

    page = text(response)
    assert "For Ada Lovelace +14155550101" in page
    assert "Would enrol The entry rules let the contact in." in page
    assert "send Welcome Would send now Welcome Ada! Reply STOP to opt out" in page
    assert "GSM-7 · 34 characters · 1 segment" in page
    assert not Message.objects.exists()
    assert not AutomationRun.objects.exists()


def test_a_search_matching_several_contacts_asks_which(personas):
    automation = _automation(personas)
    ada = contact(personas, phone="+14155550101", first_name="Ada", last_name="Lovelace")
    alan = contact(personas, phone="+14155550102", first_name="Ada", last_name="Turing")
    contact(personas, phone="+14155550103", first_name="Grace", last_name="Hopper")

    response = personas.client("viewer").get(dry_run_url(automation), {"q": "ada"})

    body = page_text(response)
    assert "Choose a contact" in body
    assert f'href="?contact={ada.public_id}"' in body
    assert f'href="?contact={alan.public_id}"' in body
    assert "Hopper" not in body
    assert "Would enrol" not in body


def test_a_search_matching_nobody_says_so(personas):
    automation = _automation(personas)
    page = text(personas.client("viewer").get(dry_run_url(automation), {"q": "nobody"}))
    assert "No contact matches “nobody”." in page


def test_the_entry_rules_verdict_is_shown(personas):
    automation = _automation(personas, entry_rules={"has_all_tags": ["vip"]})
    ada = contact(personas)

    page = text(personas.client("viewer").get(dry_run_url(automation), {"contact": ada.public_id}))

    assert "Would be skipped Does not match the entry rules: lacks the tag vip." in page
    assert "Would exit: lacks the tag vip" in page


def test_an_opted_out_contact_would_be_skipped_and_each_send_suppressed(personas):
    automation = _automation(personas)
    ada = contact(personas)
    consent_opt_out(organization=personas.org, phone=ada.phone, source=ConsentSource.USER)

    page = text(personas.client("viewer").get(dry_run_url(automation), {"contact": ada.public_id}))

    assert "Would be skipped Opted out." in page
    assert "Would be suppressed The number opted out" in page


def test_quiet_hours_defer_the_send_to_the_contacts_morning(personas, monkeypatch):
    Clock(monkeypatch, SUNDAY_NIGHT)
    automation = _automation(personas, steps=[send(template(personas))])
    ada = contact(personas, time_zone="America/New_York")

    page = text(personas.client("viewer").get(dry_run_url(automation), {"contact": ada.public_id}))

    assert "Times in the contact's time zone, America/New_York." in page
    assert "Deferred by quiet hours Would go at Mon Mar 4, 2024 08:00 EST" in page


def test_waits_and_branches_say_what_they_would_do(personas, monkeypatch):
    Clock(monkeypatch, MONDAY)
    welcome = template(personas)
    steps = [
        send(welcome, respect_quiet_hours=False),
        {"id": "s2", "type": "wait", "duration": {"days": 2}},
        {"id": "s3", "type": "branch", "if": {"replied": True}, "then": "end", "else": "continue"},
        send(template(personas, "Follow-up", "Still there?"), "s4", respect_quiet_hours=False),
    ]
    automation = _automation(personas, steps=steps)
    ada = contact(personas, time_zone="America/New_York")

    page = text(personas.client("viewer").get(dry_run_url(automation), {"contact": ada.public_id}))

    assert "wait 2 days Would wait until Wed Mar 6, 2024 10:00 EST" in page
    assert (
        "if the contact replied, end; else go on The condition does not hold now, would go on"
    ) in page
    assert "send Follow-up Would send now Still there?" in page


def test_an_a_b_step_shows_every_variant(personas):
    first = template(personas, "Offer A", "Offer A")
    second = template(personas, "Offer B", "Offer B")
    automation = _automation(
        personas, steps=[ab_split((first, 1), (second, 2), respect_quiet_hours=False)]
    )
    ada = contact(personas)

    page = text(personas.client("viewer").get(dry_run_url(automation), {"contact": ada.public_id}))

    assert "Variant A : Offer A (weight 1) Would send now Offer A" in page
    assert "Variant B : Offer B (weight 2) Would send now Offer B" in page


# --- Enrol now --------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", WRITERS)
def test_writers_may_enrol_from_the_dry_run(personas, persona):
    automation = _automation(personas)
    ada = contact(personas, first_name="Ada", last_name="Lovelace")
    client = personas.client(persona)
    page = dry_run_url(automation) + f"?contact={ada.public_id}"
    assert "Enrol now" in text(client.get(page))

    response = client.post(
        enrol_url(automation), {"contact": ada.public_id, "next": page}, follow=True
    )

    assert response.redirect_chain == [(page, 302)]
    assert "Ada Lovelace was enrolled in “Welcome new leads”. Completed." in page_text(response)
    assert run_of(automation, ada).state == RunState.COMPLETED


def test_enrol_now_reports_the_skip_reason(personas):
    automation = _automation(personas, entry_rules={"lacks_tags": ["customer"]})
    ada = contact(personas, first_name="Ada", last_name="Lovelace")
    contact_tags_add(contact=ada, names=["customer"], source="ui")

    response = personas.client("marketer").post(
        enrol_url(automation), {"contact": ada.public_id}, follow=True
    )

    assert (
        "Ada Lovelace was not enrolled in “Welcome new leads”: "
        "Does not match the entry rules: has the tag customer."
    ) in page_text(response)
    run = run_of(automation, ada)
    assert (run.state, run.reason, run.source) == (RunState.SKIPPED, "entry_rules", "ui")


def test_a_paused_automation_offers_no_enrol_now_and_refuses_it(personas):
    automation = _automation(personas)
    automation_pause(automation=automation)
    ada = contact(personas)
    client = personas.client("marketer")

    assert "Enrol now" not in text(client.get(dry_run_url(automation), {"contact": ada.public_id}))
    response = client.post(enrol_url(automation), {"contact": ada.public_id}, follow=True)

    assert "is paused: only an active automation enrols contacts." in page_text(response)
    assert not AutomationRun.objects.exists()


def test_the_viewer_sees_the_dry_run_without_enrol_now_and_may_not_post(personas):
    automation = _automation(personas)
    ada = contact(personas)
    client = personas.client("viewer")

    page = text(client.get(dry_run_url(automation), {"contact": ada.public_id}))

    assert "Would enrol" in page
    assert "Enrol now" not in page
    assert client.post(enrol_url(automation), {"contact": ada.public_id}).status_code == 403
    assert not AutomationRun.objects.exists()


def test_enrol_now_is_a_post(personas):
    automation = _automation(personas)
    assert personas.client("marketer").get(enrol_url(automation)).status_code == 405


# --- Access -----------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ROLES)
def test_every_member_may_dry_run(personas, persona):
    automation = _automation(personas)
    assert "Dry run" in text(personas.client(persona).get(dry_run_url(automation)))


def test_another_organizations_automation_or_contact_is_not_found(personas):
    automation = _automation(personas)
    ada = contact(personas)
    outsider = personas.client("outsider")
    assert outsider.get(dry_run_url(automation)).status_code == 404
    assert outsider.post(enrol_url(automation), {"contact": ada.public_id}).status_code == 404
    theirs = contact(personas, phone="+14155550199")
    theirs.organization = personas.other_org
    theirs.save()
    viewer = personas.client("viewer")
    assert viewer.get(dry_run_url(automation), {"contact": theirs.public_id}).status_code == 404
    assert viewer.get(dry_run_url(automation), {"contact": "nope"}).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(personas, client):
    automation = _automation(personas)
    response = client.get(dry_run_url(automation))
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={dry_run_url(automation)}"
