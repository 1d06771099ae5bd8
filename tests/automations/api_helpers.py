"""Constants and builders shared by the ``/api/v1/automations/`` tests."""

from __future__ import annotations

from typing import Any

from automations.models import Automation, AutomationRun, AutomationVersion, RunStep
from templates_sms.models import SmsTemplate

AUTOMATIONS = "/api/v1/automations/"
WRITERS = ["owner", "admin", "marketer"]
TAG = {"type": "tag_added", "tag": "new-lead"}
# The answers' fields as the API promises them, written out here rather than read from the
# serializers: a field renamed or dropped there must fail these tests.
FIELDS = {
    "id",
    "name",
    "trigger",
    "entry_rules",
    "exit_rules",
    "reentry",
    "steps",
    "state",
    "version",
    "has_unpublished_changes",
    "created_at",
    "updated_at",
}
RUN_FIELDS = {
    "id",
    "contact",
    "version",
    "state",
    "step",
    "due_at",
    "reason",
    "detail",
    "created_at",
    "ended_at",
    "steps",
}
LEDGER_FIELDS = {"step", "outcome", "message", "message_status", "variant", "detail", "at"}
NO_ENTRY_RULES: dict[str, Any] = {
    "has_all_tags": [],
    "has_any_tags": [],
    "lacks_tags": [],
    "custom_fields": {},
}
NO_EXIT_RULES: dict[str, Any] = {
    "on_reply": False,
    "on_tag_added": [],
    "on_trigger_tag_removed": False,
}


def url(automation: Automation | str, tail: str = "") -> str:
    key = automation.public_id if isinstance(automation, Automation) else automation
    return f"{AUTOMATIONS}{key}/{tail}"


def send_step(template: SmsTemplate, step_id: str = "s1", **extra: Any) -> dict[str, Any]:
    return {"id": step_id, "type": "send_sms", "template": str(template.public_id), **extra}


def body(template: SmsTemplate, name: str = "Welcome new leads", **fields: Any) -> dict[str, Any]:
    """A complete automation as a client would send it: a tag trigger, one send."""
    return {"name": name, "trigger": TAG, "steps": [send_step(template)], **fields}


def error(response: Any) -> dict[str, Any]:
    found: dict[str, Any] = response.json()["error"]
    return found


def ids(response: Any) -> list[str]:
    return [row["id"] for row in response.json()["results"]]


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every automation row, version, enrolment and ledger row: to prove nothing changed."""
    return {
        "automations": list(
            Automation.objects.order_by("pk").values_list(
                "pk", "name", "state", "draft", "live_version_id", "updated_at"
            )
        ),
        "versions": list(AutomationVersion.objects.order_by("pk").values_list("pk", "number")),
        "runs": list(
            AutomationRun.objects.order_by("pk").values_list("pk", "state", "step_id", "reason")
        ),
        "ledger": list(RunStep.objects.order_by("pk").values_list("pk", "step_id", "outcome")),
    }
