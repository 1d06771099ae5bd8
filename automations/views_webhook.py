"""The editor's card for an incoming webhook (its URL, a copy button, an example ``curl``)
and **Rotate secret**.

The secret is a credential: marketers and up, who may rotate it, see the URL; viewers see it
masked. A page that shows it is never cached (``render_editor`` marks it ``no-store``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.urls import reverse

from automations.models import Automation, State
from automations.services.automations import webhook_secret_rotate
from automations.services.webhooks import webhook_refusal, webhook_url
from automations.triggers.incoming_webhook import TRIGGER
from automations.views import ConfirmedLifecycleView

MASK = "••••••••"
EXAMPLE = {
    "phone": "+14155550123",
    "first_name": "Ada",
    "email": "ada@example.com",
    "tags": ["webinar"],
    "custom_fields": {"plan": "pro"},
    "event_id": "signup-1234",
}


@dataclass(frozen=True)
class WebhookCard:
    url: str  # masked when ``shown`` is false
    shown: bool
    curl: str
    rotate_url: str  # "" when the secret cannot be rotated here
    refusal: str  # why posts answer 409 now, or ""


def webhook_card(automation: Automation, *, can_write: bool) -> WebhookCard | None:
    """The card, for an automation whose draft or live version has the trigger."""
    draft_type = (automation.draft.get("trigger") or {}).get("type")
    if TRIGGER.type not in (draft_type, automation.trigger_type) or not automation.webhook_secret:
        return None
    url = webhook_url(automation)
    if not can_write:
        url = f"{url.rsplit('/', 1)[0]}/{MASK}"
    body = json.dumps(EXAMPLE)
    curl = f"curl -X POST '{url}' \\\n  -H 'Content-Type: application/json' \\\n  -d '{body}'"
    refusal = webhook_refusal(automation)
    rotatable = can_write and automation.state != State.ARCHIVED
    return WebhookCard(
        url=url,
        shown=can_write,
        curl=curl,
        rotate_url=reverse("automation_webhook_rotate", args=[automation.public_id])
        if rotatable
        else "",
        refusal=refusal.message if refusal is not None else "",
    )


class WebhookRotateView(ConfirmedLifecycleView):
    """Asks first: the old URL stops working at once, wherever it is used."""

    def words(self, automation: Automation) -> dict[str, str]:
        return {
            "title": f"Rotate the webhook secret of “{automation.name}”?",
            "message": "The current URL stops working at once: posts to it answer 404. "
            "Update the URL in every system that posts to it.",
            "button": "Rotate secret",
        }

    def act(self, automation: Automation) -> tuple[str, Automation]:
        webhook_secret_rotate(automation=automation, by=self.membership.user)
        # Not the URL itself: flash messages are stored in the session.
        return (
            "The webhook has a new URL (below): the old one no longer works. Update it in "
            "the systems that post to it.",
            automation,
        )
