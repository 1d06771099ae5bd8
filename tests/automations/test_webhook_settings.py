"""The incoming_webhook trigger's settings (a rate, 1 to 1000 a second, 50 by default) and
its secret: drawn when an automation first has the trigger, its own for a copy, rotated by a
marketer, never in a definition or an API answer."""

from __future__ import annotations

import pytest

from automations.definition import definition_clean, definition_words
from automations.models import Automation
from automations.services.automations import (
    automation_archive,
    automation_duplicate,
    automation_update,
    webhook_secret_rotate,
)
from automations.triggers import trigger_clean
from tenants.errors import ApplicationError, ConflictError
from tests.automations.helpers import send, template
from tests.automations.page_helpers import draft_automation
from tests.automations.webhook_helpers import WEBHOOK, post, webhook_automation, webhook_path

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ({}, 50),
        ({"rate_per_second": None}, 50),
        ({"rate_per_second": ""}, 50),
        ({"rate_per_second": 1}, 1),
        ({"rate_per_second": 1000}, 1000),
        ({"rate_per_second": "20"}, 20),
    ],
)
def test_its_rate_is_50_a_second_unless_given(personas, given, stored):
    assert trigger_clean(personas.org, {**WEBHOOK, **given}) == {
        "type": "incoming_webhook",
        "rate_per_second": stored,
    }


@pytest.mark.parametrize("rate", [0, -1, 1001, 2.5, True, "fast", [50]])
def test_a_rate_outside_1_to_1000_is_refused_on_its_path(personas, rate):
    with pytest.raises(ApplicationError) as refused:
        definition_clean(
            personas.org, {"trigger": {**WEBHOOK, "rate_per_second": rate}}, complete=False
        )

    assert list(refused.value.fields) == ["trigger.rate_per_second"]
    assert "from 1 to 1000" in refused.value.fields["trigger.rate_per_second"][0]


def test_it_says_its_trigger_in_words(personas):
    automation = draft_automation(personas.org, trigger=WEBHOOK)

    assert (
        definition_words(automation.draft, {})[0] == "When its incoming webhook receives a contact"
    )


def test_a_secret_is_drawn_when_an_automation_is_created_with_the_trigger(personas):
    webhook = draft_automation(personas.org, trigger=WEBHOOK)
    tagged = draft_automation(personas.org, name="Tagged")

    assert len(webhook.webhook_secret) >= 43
    assert tagged.webhook_secret == ""
    assert webhook.webhook_secret not in str(webhook.draft)


def test_a_secret_is_drawn_when_the_draft_first_gets_the_trigger_and_then_kept(personas):
    automation = draft_automation(personas.org)
    draft = automation.draft

    automation_update(automation=automation, definition={**draft, "trigger": WEBHOOK})
    automation.refresh_from_db()
    secret = automation.webhook_secret
    automation_update(automation=automation, definition=draft)
    automation_update(automation=automation, definition={**draft, "trigger": WEBHOOK})
    automation.refresh_from_db()

    assert secret
    assert automation.webhook_secret == secret


def test_a_copy_has_a_secret_of_its_own(personas):
    original = draft_automation(personas.org, trigger=WEBHOOK)

    copy = automation_duplicate(automation=original)

    assert copy.webhook_secret
    assert copy.webhook_secret != original.webhook_secret


@pytest.mark.usefixtures("connection", "enqueued")
def test_rotating_the_secret_retires_the_old_url_at_once(personas):
    automation = webhook_automation(personas)
    old = webhook_path(automation)

    webhook_secret_rotate(automation=automation, by=personas.marketer)
    automation.refresh_from_db()

    assert post(old, {"phone": "+14155550101"}).status_code == 404
    assert webhook_path(automation) != old
    assert post(webhook_path(automation), {"phone": "+14155550101"}).status_code == 200


def test_rotating_is_refused_when_archived_or_without_the_trigger(personas):
    tagged = draft_automation(personas.org, name="Tagged")
    archived = draft_automation(personas.org, trigger=WEBHOOK)
    automation_archive(automation=archived)
    secret = archived.webhook_secret

    for automation in (tagged, archived):
        with pytest.raises(ConflictError):
            webhook_secret_rotate(automation=automation)

    archived.refresh_from_db()
    tagged.refresh_from_db()
    assert (archived.webhook_secret, tagged.webhook_secret) == (secret, "")


def test_the_api_never_answers_the_secret(personas):
    api = personas.api("marketer")
    trigger = {"type": "incoming_webhook", "rate_per_second": 10}
    steps = [send(template(personas))]
    response = api.post(
        "/api/v1/automations/", {"name": "Hook", "trigger": trigger, "steps": steps}, "json"
    )

    assert response.status_code == 201, response.content
    automation = Automation.objects.get(name="Hook")
    assert response.json()["trigger"] == {"type": "incoming_webhook", "rate_per_second": 10}
    assert automation.webhook_secret
    assert automation.webhook_secret not in response.content.decode()
    listed = api.get(f"/api/v1/automations/{automation.public_id}/")
    assert automation.webhook_secret not in listed.content.decode()
