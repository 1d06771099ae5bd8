"""Exits: events that end enrolments before their last step.

An opt-out ends every enrolment of the contact; a reply, a tag gained or the trigger's tag
lost end those whose version has that exit rule. Set-wise: one read of the contacts' active
enrolments with their versions' rules, one update per reason.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.utils import timezone

from automations.models import ACTIVE_RUN_STATES, AutomationRun, AutomationVersion, Reason, RunState
from automations.triggers import Event

EXIT_EVENTS = ("opted_out", "inbound_received", "tag_added", "tag_removed")


def _reason(event: Event, definition: dict[str, Any]) -> str:
    rules = definition["exit_rules"]
    if event.type == "opted_out":
        return Reason.OPTED_OUT
    if event.type == "inbound_received":
        return Reason.REPLIED if rules["on_reply"] else ""
    tag = str(event.data.get("tag_name", "")).lower()
    if event.type == "tag_added":
        return Reason.TAG_ADDED if tag in {t.lower() for t in rules["on_tag_added"]} else ""
    trigger = definition["trigger"]
    if (
        rules["on_trigger_tag_removed"]
        and trigger.get("type") == "tag_added"
        and trigger["tag"].lower() == tag
    ):
        return Reason.TRIGGER_TAG_REMOVED
    return ""


def exits_for_event(event: Event) -> int:
    """Ends the enrolments this event exits; returns how many."""
    if event.type not in EXIT_EVENTS or not event.contact_ids:
        return 0
    active = list(
        AutomationRun.objects.filter(
            organization_id=event.organization_id,
            contact_id__any=list(event.contact_ids),
            state__in=ACTIVE_RUN_STATES,
        ).values_list("pk", "version_id")
    )
    if not active:
        return 0
    definitions = dict(
        AutomationVersion.objects.filter(pk__in={v for _, v in active}).values_list(
            "pk", "definition"
        )
    )
    by_reason: dict[str, list[int]] = defaultdict(list)
    for run_id, version_id in active:
        reason = _reason(event, definitions[version_id])
        if reason:
            by_reason[reason].append(run_id)
    now = timezone.now()
    ended = 0
    for reason, ids in by_reason.items():
        ended += AutomationRun.objects.filter(pk__any=ids, state__in=ACTIVE_RUN_STATES).update(
            state=RunState.EXITED, reason=reason, due_at=None, ended_at=now, updated_at=now
        )
    return ended
