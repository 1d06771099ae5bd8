"""Shared by the incoming webhook tests: an active webhook automation, its URL, and a post
as a sending system makes it (JSON, with what runs after the commit run too)."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client, TestCase

from automations.models import Automation, AutomationRun
from contacts.models import Contact
from tenants.models import IdempotencyKey
from tests.automations.helpers import active, send, template

WEBHOOK = {"type": "incoming_webhook"}


def webhook_automation(personas: Any, *, name: str = "Webinar sign-ups", **definition: Any):
    trigger = {**WEBHOOK, **definition.pop("trigger", {})}
    steps = [send(template(personas, name=f"{name}: welcome"), respect_quiet_hours=False)]
    return active(personas, trigger=trigger, steps=steps, name=name, **definition)


def webhook_path(automation: Automation, secret: str | None = None) -> str:
    return f"/webhooks/automations/{automation.public_id}/{secret or automation.webhook_secret}"


def post(path: str, body: Any, **headers: Any) -> Any:
    """``body`` as JSON (a str or bytes is sent as it is), from a client with no session."""
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    with TestCase.captureOnCommitCallbacks(execute=True):
        return Client(HTTP_X_FORWARDED_PROTO="https").post(
            path, data, content_type="application/json", **headers
        )


def stored() -> tuple[int, int, int]:
    """Contacts, enrolments (and skips) and idempotency rows of every organization."""
    return (Contact.objects.count(), AutomationRun.objects.count(), IdempotencyKey.objects.count())
