"""The steps: each send, wait and branch checked, the ids unique and every jump forward."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from functools import partial
from typing import Any

from automations.definition._checks import Errors, custom_fields_at
from automations.triggers._fields import tag_setting
from messaging.models import Status
from templates_sms.models import SmsTemplate
from tenants.errors import ApplicationError
from tenants.models import Organization

MAX_STEPS = 20
MAX_VARIANTS = 4
STEP_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
STEP_TYPES = ("send_sms", "wait", "branch")
DURATION_UNITS = {"minutes": 60 * 24 * 90, "hours": 24 * 90, "days": 365}  # the most of each
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
CONDITIONS = ("has_tag", "lacks_tag", "custom_field", "replied", "last_status_in")
BRANCH_STATUSES = tuple(
    s.value for s in Status if s not in (Status.SUBMITTING, Status.RECEIVED, Status.SCHEDULED)
)
TARGETS = ("continue", "end")


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
    errors: Errors,
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


def _wait_step(step: Mapping[str, Any], path: str, errors: Errors) -> dict[str, Any]:
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


def _condition(value: object, path: str, errors: Errors) -> dict[str, Any]:
    if not isinstance(value, Mapping) or len(value) != 1 or next(iter(value)) not in CONDITIONS:
        errors.add(path, f"A condition is one of {', '.join(CONDITIONS)}.")
        return {"replied": True}
    [(kind, arg)] = value.items()
    if kind in ("has_tag", "lacks_tag"):
        return {kind: errors.check(lambda: tag_setting(arg, f"{path}.{kind}"), "")}
    if kind == "custom_field":
        arg = arg if isinstance(arg, Mapping) else {}
        key, equals = arg.get("key"), arg.get("equals", "")
        pair = errors.check(lambda: custom_fields_at({key: equals}, f"{path}.custom_field"), {})
        return {
            kind: {"key": key, "equals": pair.get(key, "")} if pair else {"key": "", "equals": ""}
        }
    if kind == "replied":
        return {kind: arg is not False}
    if not isinstance(arg, list) or not arg or any(s not in BRANCH_STATUSES for s in arg):
        errors.add(f"{path}.last_status_in", f"Statuses are some of {', '.join(BRANCH_STATUSES)}.")
        return {kind: []}
    return {kind: [s for s in BRANCH_STATUSES if s in arg]}


def _branch_step(step: Mapping[str, Any], path: str, errors: Errors) -> dict[str, Any]:
    cleaned: dict[str, Any] = {"if": _condition(step.get("if"), f"{path}.if", errors)}
    for arm in ("then", "else"):
        target = step.get(arm) or "continue"
        if not isinstance(target, str):
            errors.add(f"{path}.{arm}", "Go to continue, end, or a later step's id.")
            target = "continue"
        cleaned[arm] = target
    return cleaned


def steps_clean(
    data: object,
    organization: Organization,
    errors: Errors,
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
