"""``incoming_webhook``: another system posts a contact to the automation's own URL,
``PUBLIC_BASE_URL/webhooks/automations/<id>/<secret>``
(``{"type": "incoming_webhook", "rate_per_second": 50}``).

No signal sends its event: the webhook names one automation, so ``automations.webhooks``
enrols into that one directly instead of every automation of the trigger (``matches`` is
therefore never true). The secret is not a setting: versions are immutable and the API
returns definitions, so it lives on ``Automation.webhook_secret``, where it can be rotated
without publishing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from automations.triggers import Settings, Trigger, register
from tenants.errors import ApplicationError
from tenants.models import Organization

DEFAULT_RATE = 50
MAX_RATE = 1000


def clean(organization: Organization, data: Mapping[str, Any]) -> Settings:
    raw = data.get("rate_per_second")
    if raw is None or raw == "":
        return {"rate_per_second": DEFAULT_RATE}
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw.strip())
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_RATE:
        raise ApplicationError.for_field(
            "trigger.rate_per_second",
            f"The rate is a whole number of requests per second, from 1 to {MAX_RATE}.",
        )
    return {"rate_per_second": raw}


def rate_of(settings: Settings) -> int:
    """The requests a second the webhook accepts (a version saved without one: the default)."""
    return int(settings.get("rate_per_second") or DEFAULT_RATE)


def describe(settings: Settings) -> str:
    return "When its incoming webhook receives a contact"


TRIGGER = register(
    Trigger(
        type="incoming_webhook",
        event="incoming_webhook",  # never sent by a signal: the webhook's view enrols
        label="Incoming webhook",
        description="Another system posts a contact to this automation's own URL, as JSON.",
        clean=clean,
        describe=describe,
        matches=lambda settings, event: False,
        position=50,
    )
)
