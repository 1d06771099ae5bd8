"""Enrolment: an event's contacts into the active automations its trigger matches.

Set-wise for up to 1,000 contacts (an event's chunk): one lock on the automation (so that two
events racing for the same contact under ``after_days`` cannot both enrol it), the contacts'
facts, the earlier enrolments that decide re-entry, and one conflict-ignoring insert. A
contact the rules refuse is stored as ``skipped`` with the reason. The occurrence key makes a
repeated event (a task run twice) enrol once: ``once`` for an enrolment under the ``once``
policy, so that the unique (automation, contact, occurrence key) refuses any second, the
event's key otherwise. The first step runs right after the enrolment commits.
"""

from __future__ import annotations

import datetime
import random
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from automations.models import Automation, AutomationRun, Reason, RunState, State
from automations.services.engine import runs_advance_ids
from automations.services.exits import exits_for_event
from automations.services.facts import ContactFacts, contact_facts, entry_refusal
from automations.triggers import Event, triggers_for_event
from tenants.bulk_insert import insert

# The columns each enrolment (or skip) row gives; the rest are the automation's, on the prototype.
ENROLMENT = (
    "public_id",
    "contact_id",
    "occurrence_key",
    "state",
    "step_id",
    "due_at",
    "reason",
    "detail",
    "variant_seed",
    "ended_at",
)


def _reentry_refused(
    automation: Automation,
    policy: dict[str, Any],
    contact_ids: Collection[int],
    now: datetime.datetime,
) -> set[int]:
    if policy["policy"] == "every_time":
        return set()
    earlier = AutomationRun.objects.filter(
        automation=automation, contact_id__any=list(contact_ids)
    ).exclude(state=RunState.SKIPPED)
    if policy["policy"] == "after_days":
        earlier = earlier.filter(created_at__gt=now - datetime.timedelta(days=policy["days"]))
    return set(earlier.values_list("contact_id", flat=True))


@dataclass
class Enrolled:
    """What ``runs_enrol`` did: the new enrolments' ids, how many it skipped (rules, re-entry,
    opt-out) and how many contacts it handled (those this event had not handled before)."""

    created: list[int] = field(default_factory=list)
    skipped: int = 0
    handled: int = 0
    # The contacts' facts the enrolment read, for the first steps run right after it.
    facts: ContactFacts | None = None


def runs_enrol(
    *,
    automation: Automation,
    contact_ids: Collection[int],
    key: str,
    source: str,
    advance: bool = True,
    occurrences: Mapping[int, str] | None = None,
) -> Enrolled:
    """Enrols these contacts (or records why not); the first step has run when ``advance``.

    ``occurrences`` (a ``date_field`` trigger's dates, by contact) gives each enrolment its own
    occurrence key instead of the re-entry policy's: once per date, whatever the policy."""
    now = timezone.now()
    with transaction.atomic():
        locked = (
            Automation.objects.select_for_update()
            .select_related("live_version", "organization")
            .filter(pk=automation.pk, state=State.ACTIVE, live_version__isnull=False)
            .first()
        )
        if locked is None:  # paused or archived meanwhile
            return Enrolled()
        version = locked.live_version
        if version is None:  # pragma: no cover - filtered above
            return Enrolled()
        definition = version.definition
        facts = contact_facts(locked.organization, contact_ids)
        # A contact this very event already enrolled or skipped (the task ran before).
        seen = set(
            AutomationRun.objects.filter(
                automation=locked, contact_id__any=list(facts.contacts), event_key=key
            ).values_list("contact_id", flat=True)
        )
        fresh = [pk for pk in dict.fromkeys(contact_ids) if pk not in seen]
        ids = [pk for pk in fresh if pk in facts.contacts]
        refused = (
            set()
            if occurrences is not None
            else _reentry_refused(locked, definition["reentry"], ids, now)
        )
        once = definition["reentry"]["policy"] == "once"
        first_step = definition["steps"][0]["id"]
        prototype = AutomationRun(
            organization_id=locked.organization_id,
            automation=locked,
            version=version,
            source=source,
            event_key=key,
        )
        rows: list[list[Any]] = []
        for contact_id in ids:
            reason, detail = "", ""
            if contact_id in facts.opted_out:
                reason = Reason.OPTED_OUT
            elif refusal := entry_refusal(definition["entry_rules"], facts, contact_id):
                reason, detail = Reason.ENTRY_RULES, refusal
            elif contact_id in refused:
                reason = Reason.REENTRY
            if reason:
                row = [f"skip:{key}", RunState.SKIPPED, "", None, reason, detail, 0, now]
            else:
                occurrence = (
                    occurrences[contact_id] if occurrences is not None else "once" if once else key
                )
                seed = random.getrandbits(31)
                row = [occurrence, RunState.RUNNING, first_step, now, "", "", seed, None]
            rows.append([uuid.uuid4(), contact_id, *row])
        # One statement; a row the unique occurrence refuses (enrolled already) is left out.
        inserted = insert(
            AutomationRun,
            prototype,
            ENROLMENT,
            rows,
            returning=("id", "state"),
            ignore_conflicts=True,
        )
        result = Enrolled(
            created=sorted(pk for pk, state in inserted if state == RunState.RUNNING),
            skipped=sum(1 for _, state in inserted if state == RunState.SKIPPED),
            handled=len(fresh),
            facts=facts,
        )
    if advance and result.created:
        runs_advance_ids(result.created, facts=facts)
    return result


def event_handle(event: Event) -> dict[str, int]:
    """An event from another room: ends the enrolments it exits, then enrols its contacts
    into every active automation whose trigger it matches. Returns enrolments by automation
    public id."""
    exits_for_event(event)
    enrolled: dict[str, int] = {}
    for trigger in triggers_for_event(event.type):
        automations = Automation.objects.filter(
            organization_id=event.organization_id,
            state=State.ACTIVE,
            trigger_type=trigger.type,
        ).select_related("live_version")
        for automation in automations:
            live = automation.live_version
            if live is None or not trigger.matches(live.definition["trigger"], event):
                continue
            if batch := event.data.get("batch"):  # a bulk change: followed by a launch
                from automations.services.launch_batches import batch_enrol

                result = batch_enrol(
                    automation=automation,
                    batch=batch,
                    audience={"event": event.type, "tag": event.data.get("tag_name", "")},
                    contact_ids=event.contact_ids,
                    key=event.key,
                    source=event.source,
                )
            else:
                result = runs_enrol(
                    automation=automation,
                    contact_ids=event.contact_ids,
                    key=event.key,
                    source=event.source,
                )
            enrolled[str(automation.public_id)] = len(result.created)
    return enrolled


def contact_enrol(
    *, automation: Automation, contact_id: int, key: str, source: str
) -> AutomationRun | None:
    """Enrols one contact now (Enrol now, the API): the enrolment, or the skip and its
    reason."""
    runs_enrol(automation=automation, contact_ids=[contact_id], key=key, source=source)
    return (
        AutomationRun.objects.filter(automation=automation, contact_id=contact_id, event_key=key)
        .order_by("-created_at", "-pk")
        .first()
    )
