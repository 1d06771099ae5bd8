"""An event as people read it: a sentence, and its changes one line each (the page and the
CSV export say the same)."""

from __future__ import annotations

from typing import Any

from tenants.audit.models import Action, AuditEvent


def event_sentence(event: AuditEvent) -> str:
    """``Changed a member's role: viewer@example.com``."""
    what = Action(event.action).label if event.action in Action.values else event.action
    return f"{what}: {event.target_label}" if event.target_label else what


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "—"
    return str(value)


def change_lines(event: AuditEvent) -> list[str]:
    """``role: viewer → marketer``, one per changed field, in the order recorded."""
    lines = []
    for field, change in (event.changes or {}).items():
        name = field.replace("_", " ")
        if isinstance(change, dict) and set(change) <= {"before", "after"}:
            before, after = change.get("before"), change.get("after")
            lines.append(
                f"{name}: {_shown(after)}"
                if before is None
                else f"{name}: {_shown(before)} → {_shown(after)}"
            )
        else:
            lines.append(f"{name}: {_shown(change)}")
    return lines
