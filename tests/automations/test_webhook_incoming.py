"""``POST /webhooks/automations/<id>/<secret>``: the contact is upserted and enrolled, once
per event; bad input is a 4xx in the API's error shape and stores nothing."""

from __future__ import annotations

from typing import Any

import pytest

from automations.models import AutomationRun, RunState
from automations.services.automations import (
    automation_archive,
    automation_create,
    automation_pause,
)
from contacts.models import ConsentSource, Contact
from contacts.services.consent import consent_opt_out
from messaging.models import Message
from tenants.models import IdempotencyKey
from tests.automations.helpers import contact
from tests.automations.webhook_helpers import (
    WEBHOOK,
    post,
    stored,
    webhook_automation,
    webhook_path,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connection", "enqueued")]

ADA = {
    "phone": "(415) 555-0101",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "Ada@Example.com",
    "time_zone": "America/Los_Angeles",
    "custom_fields": {"plan": "pro"},
    "tags": ["webinar", "VIP"],
    "event_id": "signup-1",
}


def test_it_upserts_the_contact_enrols_it_and_sends_the_first_step(personas, enqueued):
    automation = webhook_automation(personas)

    response = post(webhook_path(automation), ADA)

    assert response.status_code == 200, response.content
    ada = Contact.objects.get(organization=personas.org)
    assert response.json() == {"contact": str(ada.public_id), "enrolled": True, "reason": None}
    assert (ada.phone, ada.first_name, ada.last_name, ada.email, ada.time_zone) == (
        "+14155550101",
        "Ada",
        "Lovelace",
        "ada@example.com",
        "America/Los_Angeles",
    )
    assert ada.custom_fields == {"plan": "pro"}
    assert sorted(ada.tags.values_list("name", flat=True)) == ["VIP", "webinar"]
    run = AutomationRun.objects.get()
    assert (run.automation, run.contact, run.source) == (automation, ada, "webhook")
    assert run.event_key == "webhook:signup-1"
    message = Message.objects.get()
    assert (message.contact, message.source, message.source_ref) == (
        ada,
        "automation",
        str(automation.public_id),
    )
    assert enqueued == [message.pk]


def test_it_updates_a_known_contact_keeping_what_the_post_leaves_out(personas):
    automation = webhook_automation(personas)
    ada = contact(personas, last_name="Byron", email="ada@old.example", custom_fields={"a": "1"})

    response = post(
        webhook_path(automation),
        {
            "phone": "+1 415-555-0101",
            "first_name": "Augusta",
            "last_name": None,
            "email": "",
            "custom_fields": {"plan": "pro"},
        },
    )

    assert response.status_code == 200, response.content
    assert response.json()["contact"] == str(ada.public_id)
    ada.refresh_from_db()
    # null and "" leave a value as it is; custom fields are set one by one, not replaced.
    assert (ada.first_name, ada.last_name, ada.email) == ("Augusta", "Byron", "ada@old.example")
    assert ada.custom_fields == {"a": "1", "plan": "pro"}
    assert Contact.objects.count() == 1


def test_a_repeated_event_id_enrols_once_and_gets_the_first_answer_again(personas, enqueued):
    automation = webhook_automation(personas)
    first = post(webhook_path(automation), ADA)

    again = post(webhook_path(automation), {**ADA, "phone": "+14155550101"})

    assert again.status_code == 200
    assert again.json() == first.json()
    assert again.json()["enrolled"] is True
    assert again["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert AutomationRun.objects.count() == 1
    assert Message.objects.count() == 1
    assert len(enqueued) == 1


def test_an_idempotency_key_header_works_as_an_event_id(personas):
    automation = webhook_automation(personas)
    body = {"phone": ADA["phone"]}

    first = post(webhook_path(automation), body, HTTP_IDEMPOTENCY_KEY="zap-7")
    again = post(webhook_path(automation), body, HTTP_IDEMPOTENCY_KEY="zap-7")

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert AutomationRun.objects.get().event_key == "webhook:zap-7"
    assert IdempotencyKey.objects.count() == 1


def test_posts_without_an_event_id_are_events_of_their_own(personas):
    automation = webhook_automation(personas, reentry={"policy": "every_time"})

    answers = [post(webhook_path(automation), {"phone": ADA["phone"]}) for _ in range(2)]

    assert [a.json()["enrolled"] for a in answers] == [True, True]
    assert AutomationRun.objects.count() == 2
    assert not IdempotencyKey.objects.exists()


def test_an_event_id_seen_after_its_answer_expired_still_enrols_once(personas):
    automation = webhook_automation(personas, reentry={"policy": "every_time"})
    first = post(webhook_path(automation), ADA)
    IdempotencyKey.objects.all().delete()  # as the purge does after 24 hours

    again = post(webhook_path(automation), ADA)

    assert again.status_code == 200
    assert again.json() == first.json()
    assert AutomationRun.objects.count() == 1


def test_an_event_id_reused_for_another_contact_is_409_and_stores_nothing(personas):
    automation = webhook_automation(personas)
    post(webhook_path(automation), ADA)
    before = stored()

    response = post(webhook_path(automation), {**ADA, "phone": "+14155550102"})

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "event_id_reused"
    assert "event_id" in error["fields"]
    assert stored() == before


def test_the_same_event_id_enrols_in_each_automation_it_is_posted_to(personas):
    one = webhook_automation(personas, name="One")
    two = webhook_automation(personas, name="Two")

    answers = [post(webhook_path(a), ADA).json()["enrolled"] for a in (one, two)]

    assert answers == [True, True]
    assert sorted(AutomationRun.objects.values_list("automation__name", flat=True)) == [
        "One",
        "Two",
    ]


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        ("opted_out", "Opted out"),
        ("entry_rules", "Does not match the entry rules: lacks the tag customer"),
        ("reentry", "Already enrolled (re-entry policy)"),
    ],
)
def test_a_contact_the_rules_refuse_is_200_not_enrolled_with_the_reason(personas, setup, reason):
    rules: dict[str, Any] = (
        {"entry_rules": {"has_all_tags": ["customer"]}} if setup == "entry_rules" else {}
    )
    automation = webhook_automation(personas, **rules)
    if setup == "opted_out":
        consent_opt_out(organization=personas.org, phone="+14155550101", source=ConsentSource.USER)
    if setup == "reentry":
        post(webhook_path(automation), {"phone": ADA["phone"], "event_id": "earlier"})

    response = post(webhook_path(automation), ADA)

    assert response.status_code == 200, response.content
    answer = response.json()
    assert (answer["enrolled"], answer["reason"]) == (False, reason)
    run = AutomationRun.objects.filter(event_key="webhook:signup-1").get()
    assert run.state == RunState.SKIPPED


def test_tags_it_brings_count_for_the_entry_rules(personas):
    automation = webhook_automation(personas, entry_rules={"has_all_tags": ["vip"]})

    response = post(webhook_path(automation), ADA)

    assert response.json()["enrolled"] is True


# Refusals: wrong URL, state, method


def test_a_wrong_secret_a_wrong_id_or_a_malformed_id_is_404_and_stores_nothing(personas):
    automation = webhook_automation(personas)
    other = webhook_automation(personas, name="Other")
    paths = [
        webhook_path(automation, "not-the-secret"),
        webhook_path(automation, automation.webhook_secret[:-1]),
        webhook_path(automation, other.webhook_secret),
        f"/webhooks/automations/8a6c1f2e-0000-4000-8000-000000000000/{automation.webhook_secret}",
        f"/webhooks/automations/not-a-uuid/{automation.webhook_secret}",
    ]

    answers = [post(path, ADA) for path in paths]

    assert [a.status_code for a in answers] == [404] * len(paths)
    for answer in answers:
        assert answer.json()["error"]["code"] == "not_found"
        assert automation.webhook_secret not in answer.content.decode()
    assert stored() == (0, 0, 0)


def test_another_organizations_automation_is_404_with_this_ones_secret(personas):
    ours = webhook_automation(personas)
    theirs = automation_create(
        organization=personas.other_org, name="Theirs", definition={"trigger": WEBHOOK}
    )
    assert theirs.webhook_secret

    response = post(f"/webhooks/automations/{theirs.public_id}/{ours.webhook_secret}", ADA)

    assert response.status_code == 404
    assert stored() == (0, 0, 0)


def test_an_organization_being_deleted_is_404(personas):
    automation = webhook_automation(personas)
    type(personas.org).objects.filter(pk=personas.org.pk).update(
        deletion_requested_at="2026-01-01T00:00Z"
    )

    assert post(webhook_path(automation), ADA).status_code == 404
    assert not Contact.objects.exists()


@pytest.mark.parametrize("state", ["paused", "archived"])
def test_a_paused_or_archived_automation_is_409_and_stores_nothing(personas, state):
    automation = webhook_automation(personas)
    if state == "paused":
        automation_pause(automation=automation)
    else:
        automation_archive(automation=automation)

    response = post(webhook_path(automation), ADA)

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "not_active"
    assert f"is {state}" in error["message"]
    assert stored() == (0, 0, 0)


def test_a_draft_is_409_and_stores_nothing(personas):
    from tests.automations.page_helpers import draft_automation

    automation = draft_automation(personas.org, trigger={"type": "incoming_webhook"})

    response = post(webhook_path(automation), ADA)

    assert response.status_code == 409
    assert "is a draft" in response.json()["error"]["message"]
    assert stored() == (0, 0, 0)


def test_a_pause_just_before_the_enrolment_stores_nothing(personas, monkeypatch):
    """The state read first said active; the locked re-read inside the transaction decides."""
    from automations.services import webhooks

    automation = webhook_automation(personas)
    refusal = webhooks.webhook_refusal
    calls = []

    def paused_meanwhile(locked):
        calls.append(locked.state)
        if len(calls) == 2:  # the second look, under the lock
            automation_pause(automation=locked)
            locked.refresh_from_db()
        return refusal(locked)

    monkeypatch.setattr(webhooks, "webhook_refusal", paused_meanwhile)
    monkeypatch.setattr("automations.webhooks.webhook_refusal", paused_meanwhile)

    response = post(webhook_path(automation), ADA)

    assert response.status_code == 409
    assert stored() == (0, 0, 0)


def test_a_live_version_with_another_trigger_is_409(personas):
    from automations.services.automations import automation_publish, automation_update

    automation = webhook_automation(personas)
    draft = {**automation.draft, "trigger": {"type": "tag_added", "tag": "x"}}
    automation_update(automation=automation, definition=draft, complete=True)
    automation_publish(automation=automation)

    response = post(webhook_path(automation), ADA)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_a_webhook"
    assert stored() == (0, 0, 0)


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_anything_but_post_is_405(personas, method):
    from django.test import Client

    automation = webhook_automation(personas)

    response = getattr(Client(HTTP_X_FORWARDED_PROTO="https"), method)(webhook_path(automation))

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json()["error"]["code"] == "method_not_allowed"
