"""A definition in words: each step and branch condition as a phrase, and the whole flow."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from automations.definition._checks import Definition
from automations.triggers import trigger_describe


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
