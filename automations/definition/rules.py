"""The rules around the steps: who may enter, what ends an enrolment, and re-entry."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from automations.definition._checks import Errors, custom_fields_at, tag_list_clean

REENTRY = ("once", "every_time", "after_days")


def entry_rules_clean(data: object, errors: Errors, at: str = "entry_rules") -> dict[str, Any]:
    """Tags (all of, any of, none of) and custom fields that must equal; also a launch's
    audience, whose errors are named under ``at``."""
    given: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
    rules: dict[str, Any] = {}
    for key in ("has_all_tags", "has_any_tags", "lacks_tags"):
        path = f"{at}.{key}"
        rules[key] = errors.check(partial(tag_list_clean, given.get(key), path), [])
    custom = given.get("custom_fields")
    rules["custom_fields"] = errors.check(
        partial(custom_fields_at, custom, f"{at}.custom_fields"), {}
    )
    return rules


def exit_rules_clean(data: object, errors: Errors) -> dict[str, Any]:
    data = data if isinstance(data, Mapping) else {}
    return {
        "on_reply": bool(data.get("on_reply")),
        "on_tag_added": errors.check(
            lambda: tag_list_clean(data.get("on_tag_added"), "exit_rules.on_tag_added"), []
        ),
        "on_trigger_tag_removed": bool(data.get("on_trigger_tag_removed")),
    }


def reentry_clean(data: object, errors: Errors) -> dict[str, Any]:
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
