"""Changing a draft's steps as the editor's buttons ask: add one, replace one, remove one.
The results are checked by ``definition_clean`` when the service saves them."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any

from automations.definition import MAX_STEPS, Definition
from tenants.errors import ApplicationError


def new_step(step_type: str, step_id: str) -> dict[str, Any]:
    if step_type == "send_sms":
        return {"id": step_id, "type": step_type, "template": None, "respect_quiet_hours": True}
    if step_type == "wait":
        return {"id": step_id, "type": step_type, "duration": {"days": 1}}
    return {
        "id": step_id,
        "type": step_type,
        "if": {"replied": True},
        "then": "end",
        "else": "continue",
    }


def next_step_id(steps: Sequence[Mapping[str, Any]], taken: Sequence[str] = ()) -> str:
    """``s<n>`` after the highest such id of the draft and of ``taken`` (the live version's),
    so that a removed step's id does not come back as a different step in the next version:
    the reports of both versions keep telling their steps apart."""
    ids = [str(s["id"]) for s in steps] + list(taken)
    numbers = [int(m.group(1)) for i in ids if (m := re.match(r"^s(\d+)$", i))]
    return f"s{max(numbers, default=0) + 1}"


def step_index(draft: Definition, step_id: str) -> int | None:
    return next((n for n, s in enumerate(draft["steps"]) if s["id"] == step_id), None)


def draft_with(draft: Definition, **parts: Any) -> Definition:
    changed = copy.deepcopy(draft)
    changed.update(parts)
    return changed


def draft_with_step(draft: Definition, index: int, step: dict[str, Any]) -> Definition:
    steps = copy.deepcopy(draft["steps"])
    steps[index] = step
    return draft_with(draft, steps=steps)


def draft_with_new_step(
    draft: Definition, step_type: str, after: str, taken: Sequence[str] = ()
) -> tuple[Definition, str]:
    """The draft with a new step of that type after the step ``after`` (at the end for "").
    Raises ``ApplicationError`` when the draft is full or that step is not there."""
    steps = copy.deepcopy(draft["steps"])
    if len(steps) >= MAX_STEPS:
        raise ApplicationError(f"An automation has at most {MAX_STEPS} steps.")
    position = len(steps)
    if after:
        found = step_index(draft, after)
        if found is None:
            raise ApplicationError("That step is no longer in the draft.")
        position = found + 1
    step_id = next_step_id(steps, taken)
    steps.insert(position, new_step(step_type, step_id))
    return draft_with(draft, steps=steps), step_id


def draft_without_step(draft: Definition, step_id: str) -> Definition:
    """The draft without that step. A branch that jumps to it must be changed first: it is
    refused rather than pointed elsewhere behind the person's back."""
    for n, step in enumerate(draft["steps"]):
        if step["type"] == "branch" and step_id in (step.get("then"), step.get("else")):
            raise ApplicationError(
                f"Step {n + 1} (a branch) goes to this step: change where it goes first."
            )
    steps = [copy.deepcopy(s) for s in draft["steps"] if s["id"] != step_id]
    return draft_with(draft, steps=steps)
