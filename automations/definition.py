"""An automation's definition: checked, normalised, and said in words.

``definition_clean`` takes what a page or the API sent and returns the stored form, or raises
one ``ApplicationError`` whose ``fields`` name every problem by its path (``trigger.tag``,
``steps[2].template``). A draft may be incomplete (``complete=False``: no steps yet, a send
step without its template); Publish needs it complete.

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

import re
import uuid
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from automations.triggers import trigger_clean, trigger_describe
from automations.triggers._fields import at, tag_setting
from contacts.services.contacts import custom_fields_clean
from messaging.models import Status
from templates_sms.models import SmsTemplate
from tenants.errors import ApplicationError
from tenants.models import Organization

Definition = dict[str, Any]

MAX_STEPS = 20
MAX_VARIANTS = 4
STEP_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
STEP_TYPES = ("send_sms", "wait", "branch")
DURATION_UNITS = {"minutes": 60 * 24 * 90, "hours": 24 * 90, "days": 365}  # the most of each
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
REENTRY = ("once", "every_time", "after_days")
CONDITIONS = ("has_tag", "lacks_tag", "custom_field", "replied", "last_status_in")
BRANCH_STATUSES = tuple(
    s.value for s in Status if s not in (Status.SUBMITTING, Status.RECEIVED, Status.SCHEDULED)
)
TARGETS = ("continue", "end")


class _Errors:
    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.fields.setdefault(path, []).append(message)

    def check(self, check: Callable[[], Any], default: Any = None) -> Any:
        try:
            return check()
        except ApplicationError as error:
            for path, messages in (error.fields or {"definition": [error.message]}).items():
                for message in messages:
                    self.add(path, message)
            return default


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


def _tags(value: object, path: str) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        raise ApplicationError.for_field(path, "Give a list of tag names.")
    names: list[str] = []
    for item in value:
        if isinstance(item, str) and not item.strip():
            continue
        name = tag_setting(item, path)
        if name.lower() not in {n.lower() for n in names}:
            names.append(name)
    return names


def _custom(value: object, path: str) -> dict[str, str]:
    return at(path, lambda: custom_fields_clean(value or {}))  # type: ignore[arg-type]


def _entry_rules(data: object, errors: _Errors) -> dict[str, Any]:
    given: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
    rules: dict[str, Any] = {}
    for key in ("has_all_tags", "has_any_tags", "lacks_tags"):
        path = f"entry_rules.{key}"
        rules[key] = errors.check(partial(_tags, given.get(key), path), [])
    custom = given.get("custom_fields")
    rules["custom_fields"] = errors.check(partial(_custom, custom, "entry_rules.custom_fields"), {})
    return rules


def _exit_rules(data: object, errors: _Errors) -> dict[str, Any]:
    data = data if isinstance(data, Mapping) else {}
    return {
        "on_reply": bool(data.get("on_reply")),
        "on_tag_added": errors.check(
            lambda: _tags(data.get("on_tag_added"), "exit_rules.on_tag_added"), []
        ),
        "on_trigger_tag_removed": bool(data.get("on_trigger_tag_removed")),
    }


def _reentry(data: object, errors: _Errors) -> dict[str, Any]:
    data = data if isinstance(data, Mapping) else {"policy": data or "once"}
    policy = data.get("policy") or "once"
    if policy not in REENTRY:
        errors.add("reentry.policy", "Re-entry is once, every_time or after_days.")
        return {"policy": "once"}
    if policy != "after_days":
        return {"policy": policy}
    days = data.get("days")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3650:
        errors.add("reentry.days", "Give the days before re-entry: a whole number, 1 to 3650.")
        days = 30
    return {"policy": policy, "days": days}


def _template_id(value: object, path: str, templates: Mapping[str, SmsTemplate]) -> str | None:
    if value in (None, ""):
        return None
    key = str(value)
    if key not in templates:
        raise ApplicationError.for_field(path, "No such template.")
    return key


def _send_step(
    step: Mapping[str, Any],
    path: str,
    templates: Mapping[str, SmsTemplate],
    errors: _Errors,
    complete: bool,
) -> dict[str, Any]:
    cleaned: dict[str, Any] = {
        "respect_quiet_hours": step.get("respect_quiet_hours", True) is not False
    }
    variants = step.get("variants")
    if variants:
        if not isinstance(variants, list) or not 2 <= len(variants) <= MAX_VARIANTS:
            errors.add(f"{path}.variants", f"An A/B split has 2 to {MAX_VARIANTS} templates.")
            return cleaned | {"variants": []}
        out = []
        for n, variant in enumerate(variants):
            here = f"{path}.variants[{n}]"
            variant = variant if isinstance(variant, Mapping) else {}
            template = errors.check(
                partial(_template_id, variant.get("template"), f"{here}.template", templates)
            )
            if template is None and f"{here}.template" not in errors.fields:
                errors.add(f"{here}.template", "Choose a template.")
            weight = variant.get("weight", 1)
            if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= 100:
                errors.add(f"{here}.weight", "A weight is a whole number from 1 to 100.")
                weight = 1
            out.append({"template": template, "weight": weight})
        return cleaned | {"variants": out}
    template = errors.check(
        lambda: _template_id(step.get("template"), f"{path}.template", templates)
    )
    if template is None and complete and f"{path}.template" not in errors.fields:
        errors.add(f"{path}.template", "Choose a template.")
    return cleaned | {"template": template}


def _wait_step(step: Mapping[str, Any], path: str, errors: _Errors) -> dict[str, Any]:
    until = step.get("until")
    if isinstance(until, Mapping):
        time = until.get("time")
        if not isinstance(time, str) or not TIME.match(time):
            errors.add(f"{path}.until.time", "Give a time of day as HH:MM (24-hour).")
            time = "09:00"
        weekdays = until.get("weekdays") or []
        if not isinstance(weekdays, list) or any(d not in WEEKDAYS for d in weekdays):
            errors.add(f"{path}.until.weekdays", f"Weekdays are some of {', '.join(WEEKDAYS)}.")
            weekdays = []
        return {"until": {"time": time, "weekdays": [d for d in WEEKDAYS if d in weekdays]}}
    duration = step.get("duration")
    if not isinstance(duration, Mapping) or len(duration) != 1:
        errors.add(f"{path}.duration", "Wait for minutes, hours or days, or until a time.")
        return {"duration": {"days": 1}}
    [(unit, amount)] = duration.items()
    if unit not in DURATION_UNITS:
        errors.add(f"{path}.duration", "Wait for minutes, hours or days.")
        return {"duration": {"days": 1}}
    most = DURATION_UNITS[unit]
    if isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= amount <= most:
        errors.add(f"{path}.duration.{unit}", f"Give a whole number of {unit}, 1 to {most:,}.")
        amount = 1
    return {"duration": {unit: amount}}


def _condition(value: object, path: str, errors: _Errors) -> dict[str, Any]:
    if not isinstance(value, Mapping) or len(value) != 1 or next(iter(value)) not in CONDITIONS:
        errors.add(path, f"A condition is one of {', '.join(CONDITIONS)}.")
        return {"replied": True}
    [(kind, arg)] = value.items()
    if kind in ("has_tag", "lacks_tag"):
        return {kind: errors.check(lambda: tag_setting(arg, f"{path}.{kind}"), "")}
    if kind == "custom_field":
        arg = arg if isinstance(arg, Mapping) else {}
        key, equals = arg.get("key"), arg.get("equals", "")
        pair = errors.check(lambda: _custom({key: equals}, f"{path}.custom_field"), {})
        return {
            kind: {"key": key, "equals": pair.get(key, "")} if pair else {"key": "", "equals": ""}
        }
    if kind == "replied":
        return {kind: arg is not False}
    if not isinstance(arg, list) or not arg or any(s not in BRANCH_STATUSES for s in arg):
        errors.add(f"{path}.last_status_in", f"Statuses are some of {', '.join(BRANCH_STATUSES)}.")
        return {kind: []}
    return {kind: [s for s in BRANCH_STATUSES if s in arg]}


def _branch_step(step: Mapping[str, Any], path: str, errors: _Errors) -> dict[str, Any]:
    cleaned: dict[str, Any] = {"if": _condition(step.get("if"), f"{path}.if", errors)}
    for arm in ("then", "else"):
        target = step.get(arm) or "continue"
        if not isinstance(target, str):
            errors.add(f"{path}.{arm}", "Go to continue, end, or a later step's id.")
            target = "continue"
        cleaned[arm] = target
    return cleaned


def _steps(
    data: object,
    organization: Organization,
    errors: _Errors,
    complete: bool,
) -> list[dict[str, Any]]:
    if data in (None, ""):
        data = []
    if not isinstance(data, list):
        errors.add("steps", "Give the steps as a list.")
        return []
    if complete and not data:
        errors.add("steps", "Add at least one step: a Twilio SMS to send.")
    if len(data) > MAX_STEPS:
        errors.add("steps", f"An automation has at most {MAX_STEPS} steps.")
        data = data[:MAX_STEPS]
    wanted = set()
    for step in data:
        if isinstance(step, Mapping):
            wanted.add(str(step.get("template") or ""))
            for variant in step.get("variants") or []:
                if isinstance(variant, Mapping):
                    wanted.add(str(variant.get("template") or ""))
    ids = [w for w in wanted if _is_uuid(w)]
    templates = {
        str(t.public_id): t
        for t in SmsTemplate.objects.filter(organization=organization, public_id__in=ids)
    }
    steps: list[dict[str, Any]] = []
    for n, step in enumerate(data):
        path = f"steps[{n}]"
        if not isinstance(step, Mapping):
            errors.add(path, "A step is an object with an id and a type.")
            continue
        step_id = str(step.get("id") or f"s{n + 1}")
        if not STEP_ID.match(step_id):
            errors.add(f"{path}.id", "A step id has letters, digits, - and _ only (32 at most).")
        elif any(s["id"] == step_id for s in steps):
            errors.add(f"{path}.id", f"Two steps have the id “{step_id}”.")
        kind = step.get("type")
        if kind not in STEP_TYPES:
            errors.add(f"{path}.type", f"A step's type is one of {', '.join(STEP_TYPES)}.")
            continue
        body = (
            _send_step(step, path, templates, errors, complete)
            if kind == "send_sms"
            else _wait_step(step, path, errors)
            if kind == "wait"
            else _branch_step(step, path, errors)
        )
        steps.append({"id": step_id, "type": kind, **body})
    # Forward only, so that every enrolment ends: a jump names a step after the branch.
    for n, step in enumerate(steps):
        if step["type"] != "branch":
            continue
        later = {s["id"] for s in steps[n + 1 :]}
        for arm in ("then", "else"):
            if step[arm] not in TARGETS and step[arm] not in later:
                errors.add(
                    f"steps[{n}].{arm}", "Go to continue, end, or the id of a step after this one."
                )
    return steps


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def definition_clean(
    organization: Organization, data: Mapping[str, Any], *, complete: bool = True
) -> Definition:
    errors = _Errors()
    trigger = errors.check(lambda: trigger_clean(organization, data.get("trigger")), {})
    definition: Definition = {
        "trigger": trigger,
        "entry_rules": _entry_rules(data.get("entry_rules"), errors),
        "exit_rules": _exit_rules(data.get("exit_rules"), errors),
        "reentry": _reentry(data.get("reentry"), errors),
        "steps": _steps(data.get("steps"), organization, errors, complete),
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


# --- In words -------------------------------------------------------------------------------


def _duration_words(duration: Mapping[str, int]) -> str:
    [(unit, amount)] = duration.items()
    return f"{amount} {unit[:-1] if amount == 1 else unit}"


def condition_words(condition: Mapping[str, Any]) -> str:
    [(kind, arg)] = condition.items()
    if kind == "has_tag":
        return f"has the tag {arg}"
    if kind == "lacks_tag":
        return f"lacks the tag {arg}"
    if kind == "custom_field":
        return f"{arg['key']} is “{arg['equals']}”"
    if kind == "replied":
        return "replied" if arg else "did not reply"
    return "the last message was " + " or ".join(arg)


def step_words(step: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """One step in words; ``names`` maps template ids to their names."""
    if step["type"] == "send_sms":
        if step.get("variants"):
            split = " / ".join(
                f"{names.get(v['template'] or '', 'a template')} ({v['weight']})"
                for v in step["variants"]
            )
            return f"send one of {split}"
        return f"send {names.get(step.get('template') or '', 'a template to choose')}"
    if step["type"] == "wait":
        if "until" in step:
            until = step["until"]
            days = ", ".join(d.capitalize() for d in until["weekdays"]) or "any day"
            return f"wait until {until['time']} ({days}) in the contact's time zone"
        return f"wait {_duration_words(step['duration'])}"

    def arm(target: str) -> str:
        return {"continue": "go on", "end": "end"}.get(target, f"go to step {target}")

    condition = condition_words(step["if"])
    return f"if the contact {condition}, {arm(step['then'])}; else {arm(step['else'])}"


def definition_words(definition: Definition, names: Mapping[str, str]) -> list[str]:
    """The flow as a list of phrases: the trigger first, then each step."""
    trigger = definition.get("trigger") or {}
    first = trigger_describe(trigger) if trigger.get("type") else "When (choose a trigger)"
    return [first] + [step_words(step, names) for step in definition.get("steps", [])]
