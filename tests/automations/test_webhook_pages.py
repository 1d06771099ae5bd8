"""The incoming webhook in the builder: its card on /automations/new/ (with the rate), its
URL on the automation's editor (a credential: marketers and up see it, with a copy button and
an example curl; viewers see it masked; outsiders get 404), and Rotate secret (asking first)."""

from __future__ import annotations

import pytest
from django.conf import settings

from automations.models import Automation
from tests.automations.page_helpers import (
    NEW,
    WRITERS,
    action_path,
    draft_automation,
    edit_path,
    follow,
    fresh,
    visible,
)
from tests.automations.webhook_helpers import WEBHOOK, webhook_path
from tests.factories import page_text

pytestmark = pytest.mark.django_db

ROTATE = "webhook/rotate"


def url_of(automation: Automation) -> str:
    return f"{settings.PUBLIC_BASE_URL}{webhook_path(automation)}"


# /automations/new/


def test_its_card_is_on_the_new_automation_page_with_the_rate_at_50(personas):
    html = page_text(personas.client("marketer").get(NEW))

    assert 'name="trigger_type" value="incoming_webhook"' in html
    assert "Incoming webhook" in html
    assert 'name="incoming_webhook_rate_per_second"' in html
    assert 'value="50"' in html


@pytest.mark.parametrize(("rate", "stored"), [("20", 20), ("", 50)])
def test_choosing_it_creates_a_draft_with_its_rate_and_a_secret(personas, rate, stored):
    client = personas.client("marketer")
    data = {
        "name": "Sign-ups",
        "trigger_type": "incoming_webhook",
        "incoming_webhook_rate_per_second": rate,
    }

    text = follow(client, client.post(NEW, data))

    automation = Automation.objects.get(name="Sign-ups")
    assert automation.draft["trigger"] == {"type": "incoming_webhook", "rate_per_second": stored}
    assert automation.webhook_secret
    assert "When its incoming webhook receives a contact" in text
    assert url_of(automation) in text


def test_a_bad_rate_is_shown_on_its_field_and_nothing_is_created(personas):
    data = {
        "name": "Sign-ups",
        "trigger_type": "incoming_webhook",
        "incoming_webhook_rate_per_second": "5000",
    }

    response = personas.client("marketer").post(NEW, data)

    assert response.status_code == 400
    assert "from 1 to 1000" in visible(response)
    assert not Automation.objects.exists()


# The editor's card


@pytest.mark.parametrize("persona", WRITERS)
def test_writers_see_the_url_a_copy_button_an_example_and_rotate(personas, persona):
    automation = draft_automation(personas.org, trigger=WEBHOOK)

    response = personas.client(persona).get(edit_path(automation))

    assert response.status_code == 200
    html = page_text(response)
    assert f'value="{url_of(automation)}"' in html
    assert 'data-copy="#webhook-url"' in html
    assert 'data-copy="#webhook-curl"' in html
    assert f"curl -X POST '{url_of(automation)}'" in html
    assert action_path(automation, ROTATE) in html
    # A draft takes no posts yet, and the page says so.
    assert "Posts answer 409 for now" in visible(response)
    assert "no-store" in response["Cache-Control"]


def test_a_viewer_sees_the_url_masked_and_no_rotate(personas):
    automation = draft_automation(personas.org, trigger=WEBHOOK)

    response = personas.client("viewer").get(edit_path(automation))

    assert response.status_code == 200
    html = page_text(response)
    assert automation.webhook_secret not in html
    assert f"{url_of(automation).rsplit('/', 1)[0]}/••••••••" in html
    assert "shown to marketers and admins only" in visible(response)
    assert action_path(automation, ROTATE) not in html


def test_an_outsider_gets_404_and_never_the_secret(personas):
    automation = draft_automation(personas.org, trigger=WEBHOOK)

    response = personas.client("outsider").get(edit_path(automation))

    assert response.status_code == 404
    assert automation.webhook_secret not in page_text(response)


def test_an_automation_with_another_trigger_has_no_webhook_card(personas):
    automation = draft_automation(personas.org)

    html = page_text(personas.client("marketer").get(edit_path(automation)))

    assert 'id="webhook-url"' not in html


# Rotate secret


@pytest.mark.parametrize("persona", WRITERS)
def test_writers_rotate_after_confirming_and_the_flash_never_shows_the_secret(personas, persona):
    automation = draft_automation(personas.org, trigger=WEBHOOK)
    old = automation.webhook_secret
    client = personas.client(persona)

    asked = client.get(action_path(automation, ROTATE))
    assert asked.status_code == 200
    assert "stops working at once" in visible(asked)
    assert fresh(automation).webhook_secret == old

    response = client.post(action_path(automation, ROTATE))

    new = fresh(automation).webhook_secret
    assert new
    assert new != old
    assert response["Location"] == edit_path(automation)
    page = client.get(response["Location"])
    assert "The webhook has a new URL" in visible(page)
    assert old not in page_text(page)
    assert url_of(fresh(automation)) in page_text(page)


def test_a_viewer_cannot_rotate(personas):
    automation = draft_automation(personas.org, trigger=WEBHOOK)
    client = personas.client("viewer")

    assert client.get(action_path(automation, ROTATE)).status_code == 403
    assert client.post(action_path(automation, ROTATE)).status_code == 403
    assert fresh(automation).webhook_secret == automation.webhook_secret


def test_an_outsider_gets_404_and_rotates_nothing(personas):
    automation = draft_automation(personas.org, trigger=WEBHOOK)
    client = personas.client("outsider")

    assert client.get(action_path(automation, ROTATE)).status_code == 404
    assert client.post(action_path(automation, ROTATE)).status_code == 404
    assert fresh(automation).webhook_secret == automation.webhook_secret


def test_rotating_an_automation_without_the_trigger_is_refused_with_the_reason(personas):
    automation = draft_automation(personas.org)
    client = personas.client("marketer")

    text = follow(client, client.post(action_path(automation, ROTATE)))

    assert "Only an automation with the incoming webhook trigger has a URL." in text
    assert fresh(automation).webhook_secret == ""
