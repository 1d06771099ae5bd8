"""Building blocks of the automation tests."""

from __future__ import annotations

from typing import Any

from automations.models import Automation, AutomationRun, RunStep
from automations.services.automations import automation_activate, automation_create
from contacts.models import Contact
from contacts.services.contacts import contact_create
from templates_sms.models import SmsTemplate
from templates_sms.services import template_create


class Enqueued(list):
    def __call__(self, message_ids: list[int], *, total: int | None = None) -> None:
        self.extend(message_ids)


def template(
    personas: Any, name: str = "Welcome", body: str = "Welcome {{ first_name }}!"
) -> SmsTemplate:
    return template_create(organization=personas.org, name=name, body=body).template


def contact(personas: Any, phone: str = "+14155550101", **data: Any) -> Contact:
    data.setdefault("first_name", "Ada")
    return contact_create(organization=personas.org, source="ui", phone=phone, **data)


def send(template: SmsTemplate, step_id: str = "s1", **extra: Any) -> dict[str, Any]:
    return {"id": step_id, "type": "send_sms", "template": str(template.public_id), **extra}


def ab_split(
    *weighted: tuple[SmsTemplate, int], step_id: str = "s1", **extra: Any
) -> dict[str, Any]:
    """An A/B send step: a variant for each (template, weight)."""
    variants = [{"template": str(t.public_id), "weight": weight} for t, weight in weighted]
    return {"id": step_id, "type": "send_sms", "variants": variants, **extra}


def active(
    personas: Any,
    *,
    trigger: dict[str, Any],
    steps: list[dict[str, Any]],
    name: str = "Welcome new leads",
    **definition: Any,
) -> Automation:
    automation = automation_create(
        organization=personas.org,
        name=name,
        definition={"trigger": trigger, "steps": steps, **definition},
        complete=True,
        by=personas.marketer,
    )
    return automation_activate(automation=automation, by=personas.marketer)


def ledger(run: AutomationRun) -> list[tuple[str, str]]:
    return list(RunStep.objects.filter(run=run).order_by("pk").values_list("step_id", "outcome"))
