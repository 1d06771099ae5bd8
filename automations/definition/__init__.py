"""An automation's definition: checked, normalised, and said in words.

``definition_clean`` takes what a page or the API sent and returns the stored form, or raises
one ``ApplicationError`` whose ``fields`` name every problem by its path (``trigger.tag``,
``steps[2].template``). A draft may be incomplete (``complete=False``: no steps yet, a send
step without its template); Publish needs it complete. The checks of the rules are in
``rules``, those of the steps in ``steps``; ``words`` says a definition in words.

Stored form::

    {"trigger": {"type": ...},
     "entry_rules": {"has_all_tags": [], "has_any_tags": [], "lacks_tags": [],
                     "custom_fields": {"plan": "pro"}},
     "exit_rules": {"on_reply": False, "on_tag_added": [], "on_trigger_tag_removed": False},
     "reentry": {"policy": "once"} | {"policy": "every_time"}
                | {"policy": "after_days", "days": 30},
     "steps": [
        {"id": "s1", "type": "send_sms", "template": "<id>", "respect_quiet_hours": True},
        {"id": "s2", "type": "send_sms", "variants": [{"template": "<id>", "weight": 50}, …],
         "respect_quiet_hours": True},
        {"id": "s3", "type": "wait", "duration": {"days": 2}},
        {"id": "s4", "type": "wait", "until": {"time": "09:00", "weekdays": ["mon", "tue"]}},
        {"id": "s5", "type": "branch", "if": {"replied": True}, "then": "end",
         "else": "continue"},
     ]}

Branch conditions: ``{"has_tag": name}``, ``{"lacks_tag": name}``, ``{"custom_field": {"key": k,
"equals": v}}``, ``{"replied": true|false}`` (since enrolment), ``{"last_status_in": [...]}``
(the enrolment's last message). ``then`` / ``else``: ``continue``, ``end`` or a later step's id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from automations.definition._checks import Definition, Errors
from automations.definition.rules import entry_rules_clean, exit_rules_clean, reentry_clean
from automations.definition.steps import (
    BRANCH_STATUSES,
    MAX_STEPS,
    MAX_VARIANTS,
    WEEKDAYS,
    steps_clean,
)
from automations.definition.words import condition_words, definition_words, step_words
from automations.triggers import trigger_clean
from tenants.errors import ApplicationError
from tenants.models import Organization

__all__ = [
    "BRANCH_STATUSES",
    "MAX_STEPS",
    "MAX_VARIANTS",
    "WEEKDAYS",
    "Definition",
    "condition_words",
    "definition_clean",
    "definition_words",
    "empty_definition",
    "step_words",
    "template_ids",
]


def empty_definition(trigger: Mapping[str, Any] | None = None) -> Definition:
    return {
        "trigger": dict(trigger or {}),
        "entry_rules": {
            "has_all_tags": [],
            "has_any_tags": [],
            "lacks_tags": [],
            "custom_fields": {},
        },
        "exit_rules": {"on_reply": False, "on_tag_added": [], "on_trigger_tag_removed": False},
        "reentry": {"policy": "once"},
        "steps": [],
    }


def definition_clean(
    organization: Organization, data: Mapping[str, Any], *, complete: bool = True
) -> Definition:
    errors = Errors()
    trigger = errors.check(lambda: trigger_clean(organization, data.get("trigger")), {})
    definition: Definition = {
        "trigger": trigger,
        "entry_rules": entry_rules_clean(data.get("entry_rules"), errors),
        "exit_rules": exit_rules_clean(data.get("exit_rules"), errors),
        "reentry": reentry_clean(data.get("reentry"), errors),
        "steps": steps_clean(data.get("steps"), organization, errors, complete),
    }
    if definition["exit_rules"]["on_trigger_tag_removed"] and trigger.get("type") != "tag_added":
        errors.add(
            "exit_rules.on_trigger_tag_removed", "Only a tag_added trigger has a tag to lose."
        )
    if errors.fields:
        raise ApplicationError("The automation is not valid.", fields=errors.fields)
    return definition


def template_ids(definition: Definition) -> list[str]:
    """The public ids of the templates the steps send, in order, once each."""
    found: list[str] = []
    for step in definition.get("steps", []):
        for template in [step.get("template")] + [v["template"] for v in step.get("variants", [])]:
            if template and template not in found:
                found.append(template)
    return found
