"""The engine: advances due enrolments, a batch at a time, one transaction per batch.

A batch is claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` on enrolments that are due (a
worker racing for the same rows gets none of them; once this one commits they are no longer
due). Each enrolment then walks its version's steps from where it stands: a branch or the end
is decided in memory; a wait writes its ledger row and parks the enrolment until the wait's
end; a send step is gathered with the other enrolments standing at a send, and all of them go
to ``message_send_many`` together, grouped by template, each with its own dedupe key
``run:<enrolment id>:step:<step id>``. The ledger rows, the messages and the enrolments'
new positions are written in the same transaction, so a step happens once or not at all: a
crash before the commit leaves the enrolment due, to be retried, and nothing sent.

Queries per batch do not grow with its size: the lock, the versions and automations, the
contacts' facts (3 or 4 queries), the ledger so far, the last messages' statuses, the
templates, then a fixed few per distinct send (automation, step, template) and the writes (one
INSERT for the ledger, one UPDATE per distinct outcome). Long lists of ids go as one array
parameter (``__any``).
"""

from __future__ import annotations

import datetime
import logging
import random
import time
from collections import defaultdict
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from automations.definition import template_ids
from automations.models import (
    ACTIVE_RUN_STATES,
    Automation,
    AutomationRun,
    AutomationVersion,
    Outcome,
    Reason,
    RunState,
    RunStep,
    State,
)
from automations.services.facts import (
    ContactFacts,
    condition_holds,
    contact_facts,
    entry_refusal,
)
from automations.services.outbound import runs_completed_record
from automations.services.waits import wait_until
from messaging.models import Message, Status
from messaging.services.sending import message_send_many
from templates_sms.models import SmsTemplate
from tenants.bulk_insert import insert
from tenants.errors import ApplicationError
from tenants.models import Organization
from tenants.sources import Source

logger = logging.getLogger(__name__)

BATCH = 500
LEDGER = ("run_id", "step_id", "outcome", "detail", "message_id", "variant")
MAX_ROUNDS = 21  # steps are forward only and at most 20: each round moves every walker on


def dedupe_key(run: AutomationRun, step_id: str) -> str:
    return f"run:{run.public_id}:step:{step_id}"


def variant_draw(run: AutomationRun, step: dict[str, Any]) -> int:
    """The variant of an A/B step this enrolment gets: drawn by weight from the enrolment's
    own seed, so the same enrolment always gets the same one."""
    weights = [v["weight"] for v in step["variants"]]
    rng = random.Random(f"{run.variant_seed}:{step['id']}")  # noqa: S311 - a split, not a secret
    return rng.choices(range(len(weights)), weights=weights)[0]


@dataclass
class _Walker:
    run: AutomationRun
    steps: list[dict[str, Any]]
    done: set[str]
    last_status: str = ""
    pos: int = 0
    changed: bool = False

    def __post_init__(self) -> None:
        ids = [s["id"] for s in self.steps]
        self.pos = ids.index(self.run.step_id) if self.run.step_id in ids else len(ids)


@dataclass
class _Send:
    walker: _Walker
    step: dict[str, Any]
    template_id: str
    variant: int | None


@dataclass
class _Batch:
    organization: Organization
    facts: ContactFacts
    templates: dict[str, SmsTemplate]
    now: datetime.datetime
    send_total: int | None = None
    # The step ledger's new rows: run, step, outcome, detail, message, variant.
    ledger: list[tuple[int, str, str, str, int | None, int | None]] = field(default_factory=list)

    def record(
        self,
        walker: _Walker,
        step_id: str,
        outcome: str,
        *,
        detail: str = "",
        message_id: int | None = None,
        variant: int | None = None,
    ) -> None:
        self.ledger.append((walker.run.pk, step_id, outcome, detail[:200], message_id, variant))
        walker.done.add(step_id)
        walker.changed = True

    def finish(self, walker: _Walker, state: str, reason: str = "", detail: str = "") -> None:
        run = walker.run
        run.state, run.reason, run.detail = state, reason, detail[:200]
        run.due_at, run.ended_at = None, self.now
        walker.changed = True


def _walk(batch: _Batch, walker: _Walker) -> _Send | None:
    """Moves the enrolment on until it stands at a send (returned), waits, or ends."""
    run = walker.run
    definition = run.version.definition
    while True:
        if run.contact_id in batch.facts.opted_out:
            batch.finish(walker, RunState.EXITED, Reason.OPTED_OUT)
            return None
        if walker.pos >= len(walker.steps):
            batch.finish(walker, RunState.COMPLETED)
            return None
        step = walker.steps[walker.pos]
        run.step_id = step["id"]
        if step["id"] in walker.done:  # this step happened: a wait now over, or a retry
            walker.pos += 1
            continue
        if step["type"] == "wait":
            until = wait_until(step, batch.now, batch.facts.contacts[run.contact_id].time_zone)
            batch.record(walker, step["id"], Outcome.WAITED, detail=until.isoformat())
            run.state, run.due_at = RunState.WAITING, until
            return None
        if step["type"] == "branch":
            holds = condition_holds(
                step["if"],
                batch.facts,
                run.contact_id,
                since=run.created_at,
                last_status=walker.last_status,
            )
            taken = "then" if holds else "else"
            target = step[taken]
            batch.record(walker, step["id"], Outcome.BRANCHED, detail=f"{taken}: {target}")
            if target == "end":
                batch.finish(walker, RunState.COMPLETED, Reason.ENDED, f"at step {step['id']}")
                return None
            ids = [s["id"] for s in walker.steps]
            walker.pos = walker.pos + 1 if target == "continue" else ids.index(target)
            continue
        refusal = entry_refusal(definition["entry_rules"], batch.facts, run.contact_id)
        if refusal:
            batch.record(walker, step["id"], Outcome.EXITED, detail=refusal)
            batch.finish(walker, RunState.EXITED, Reason.ENTRY_RULES, refusal)
            return None
        if step.get("variants"):
            variant = variant_draw(run, step)
            return _Send(walker, step, step["variants"][variant]["template"], variant)
        return _Send(walker, step, step["template"], None)


def _groups(sends: list[_Send]) -> Iterator[list[_Send]]:
    """Sends that can go in one ``message_send_many``: the same automation, step, template,
    and each contact once (two enrolments of one contact under ``every_time`` go apart)."""
    by_key: dict[tuple[int, str, str], list[tuple[list[_Send], set[int]]]] = defaultdict(list)
    for send in sends:
        contact_id = send.walker.run.contact_id
        lanes = by_key[send.walker.run.automation_id, send.step["id"], send.template_id]
        lane = next((ln for ln in lanes if contact_id not in ln[1]), None)
        if lane is None:
            lane = ([], set())
            lanes.append(lane)
        lane[0].append(send)
        lane[1].add(contact_id)
    for lanes in by_key.values():
        for group, _ in lanes:
            yield group


def _send(batch: _Batch, group: list[_Send]) -> None:
    first = group[0]
    template = batch.templates.get(first.template_id)
    runs = [s.walker.run for s in group]
    try:
        if template is None:
            raise ApplicationError("The template was deleted.")
        with transaction.atomic():
            result = message_send_many(
                organization=batch.organization,
                contacts=[batch.facts.contacts[run.contact_id] for run in runs],
                template=template,
                respect_quiet_hours=first.step.get("respect_quiet_hours", True),
                source=Source.AUTOMATION,
                source_ref=str(first.walker.run.automation.public_id),
                dedupe_keys={run.contact_id: dedupe_key(run, first.step["id"]) for run in runs},
                send_total=batch.send_total,
            )
    except ApplicationError as error:  # e.g. a media URL that no longer passes the checks
        for send in group:
            batch.record(send.walker, send.step["id"], Outcome.EXITED, detail=error.summary())
            batch.finish(send.walker, RunState.EXITED, Reason.SEND_FAILED, error.summary())
        return
    for send, message_id, reason in zip(group, result.message_ids, result.reasons, strict=True):
        batch.record(
            send.walker,
            send.step["id"],
            Outcome.SUPPRESSED if reason else Outcome.SENT,
            detail=reason,
            message_id=message_id,
            variant=send.variant,
        )
        send.walker.last_status = Status.SUPPRESSED if reason else Status.PENDING
        send.walker.pos += 1


def _advance(
    organization: Organization,
    runs: list[AutomationRun],
    now: datetime.datetime,
    send_total: int | None = None,
    facts: ContactFacts | None = None,
) -> None:
    if facts is None or not {run.contact_id for run in runs} <= facts.contacts.keys():
        facts = contact_facts(
            organization,
            {run.contact_id for run in runs},
            replies_since=min(run.created_at for run in runs),
        )
    done: dict[int, set[str]] = defaultdict(set)
    last: dict[int, tuple[datetime.datetime, int]] = {}
    for run_id, step_id, message_id, at in RunStep.objects.filter(
        run_id__any=[r.pk for r in runs]
    ).values_list("run_id", "step_id", "message_id", "at"):
        done[run_id].add(step_id)
        if message_id and (run_id not in last or at >= last[run_id][0]):
            last[run_id] = (at, message_id)
    statuses = dict(
        Message.objects.filter(pk__any=[m for _, m in last.values()]).values_list("pk", "status")
    )
    versions = {run.version_id: run.version for run in runs}.values()
    wanted = {template for version in versions for template in template_ids(version.definition)}
    templates = {
        str(t.public_id): t
        for t in SmsTemplate.objects.filter(organization=organization, public_id__in=wanted)
    }
    batch = _Batch(organization, facts, templates, now, send_total)
    walkers = []
    for run in runs:
        walker = _Walker(run, run.version.definition["steps"], done[run.pk])
        walker.last_status = statuses.get(last[run.pk][1], "") if run.pk in last else ""
        if run.contact_id not in facts.contacts:  # deleted meanwhile (its rows go with it)
            continue
        walkers.append(walker)
    everyone = list(walkers)
    for _ in range(MAX_ROUNDS):
        sends = [send for walker in walkers if (send := _walk(batch, walker))]
        if not sends:
            break
        for group in _groups(sends):
            _send(batch, group)
        walkers = [send.walker for send in sends]
    # A row the ledger already holds (run, step) fails the whole batch: nothing happens twice.
    insert(RunStep, RunStep(), LEDGER, batch.ledger)
    # One UPDATE per distinct outcome (most of a batch ends alike: waiting until the same
    # instant, or completed): Django's bulk_update writes a CASE per row and field, which
    # cost 2 s a batch of 500 in bench.automations.
    outcomes: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for walker in everyone:
        if walker.changed:
            r = walker.run
            outcomes[r.state, r.step_id, r.due_at, r.reason, r.detail, r.ended_at].append(r.pk)
    for (state, step_id, due_at, reason, detail, ended_at), ids in outcomes.items():
        AutomationRun.objects.filter(pk__any=ids).update(
            state=state,
            step_id=step_id,
            due_at=due_at,
            reason=reason,
            detail=detail,
            ended_at=ended_at,
            updated_at=now,
        )
    completed = [w.run.pk for w in everyone if w.changed and w.run.state == RunState.COMPLETED]
    runs_completed_record(organization_id=organization.pk, run_ids=completed)


def runs_advance(
    run_ids: Collection[int] | None = None,
    *,
    now: datetime.datetime | None = None,
    limit: int = BATCH,
    send_total: int | None = None,
    facts: ContactFacts | None = None,
) -> int:
    """Advances up to ``limit`` due enrolments (of ``run_ids`` if given) of active
    automations; returns how many it claimed. ``send_total``: how many enrolments these are a
    part of (a launch's audience), so that their sends are batched for the whole. ``facts``:
    their contacts' facts as their enrolment read them an instant ago (their first step), not
    read again; the send rules still check each number's consent as they send."""
    now = now or timezone.now()
    with transaction.atomic():
        claim = AutomationRun.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            state__in=ACTIVE_RUN_STATES, due_at__lte=now, automation__state=State.ACTIVE
        )
        if run_ids is not None:
            claim = claim.filter(pk__any=list(run_ids))
        runs = list(claim.order_by("due_at")[:limit])
        # Each version and automation read once for the batch, not once per enrolment (a
        # version's definition decoded 500 times cost a fifth of a batch).
        versions = AutomationVersion.objects.in_bulk({run.version_id for run in runs})
        automations = Automation.objects.in_bulk({run.automation_id for run in runs})
        for run in runs:
            run.version, run.automation = versions[run.version_id], automations[run.automation_id]
        by_organization: dict[int, list[AutomationRun]] = defaultdict(list)
        for run in runs:
            by_organization[run.organization_id].append(run)
        for organization in Organization.objects.filter(pk__in=list(by_organization)):
            _advance(organization, by_organization[organization.pk], now, send_total, facts)
    return len(runs)


def runs_advance_ids(
    run_ids: list[int], *, send_total: int | None = None, facts: ContactFacts | None = None
) -> int:
    """Advances these enrolments now, ``BATCH`` at a time (an enrolment's first step);
    ``send_total`` and ``facts``: see ``runs_advance``."""
    return sum(
        runs_advance(run_ids[start : start + BATCH], send_total=send_total, facts=facts)
        for start in range(0, len(run_ids), BATCH)
    )


def runs_advance_due(*, budget_seconds: float = 8.0) -> int:
    """The beat's pass: batches of due enrolments until none is left or the time is up."""
    began, total = time.monotonic(), 0
    while time.monotonic() - began < budget_seconds:
        claimed = runs_advance()
        total += claimed
        if claimed < BATCH:
            break
    if total:
        logger.info("automations: advanced %s enrolments", total)
    return total
