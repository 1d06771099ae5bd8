"""The live version's funnel: what its enrolments did at each step, and each A/B variant's
results. One grouped query over the step ledger, with the replies and opt-outs found by
correlated subqueries in the same statement, never a query per enrolment or per message.

That query's cost grows with the ledger (2 s for 50,000 enrolments over a million messages),
so an automation with ``COUNT_WHILE_WAITING`` enrolments or more is not counted while its page
waits: the page reads the version's ``FunnelCount``, and one more than ``FRESH`` old asks the
default worker to count again (at most once per ``FRESH``), so the page stays fast and its
figures are at most about a minute behind while someone looks. Smaller ones are counted live.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from automations.definition import step_words
from automations.funnels.words import suppressed_words, variant_label
from automations.models import (
    AutomationRun,
    AutomationVersion,
    FunnelCount,
    Outcome,
    RunState,
    RunStep,
)
from contacts.models import ConsentEvent, ConsentKind
from messaging.models import Direction, Message, Status
from tenants.models import Organization

# A reply or an opt-out counts for a message when it comes within this long after it.
RESPONSE_WINDOW = datetime.timedelta(hours=24)
DELIVERED = (Status.DELIVERED, Status.READ)
FAILED = (Status.FAILED, Status.UNDELIVERED, Status.CANCELED)
# From this many enrolments (and skips) an automation's funnel is read as last counted.
COUNT_WHILE_WAITING = 2_000
FRESH = datetime.timedelta(minutes=1)


@dataclass
class Responses:
    """What became of a set of messages: the sent ones (handed over or going to be, i.e.
    every status but suppressed), delivered, failed, and the replies and opt-outs that came
    within ``RESPONSE_WINDOW`` of them."""

    sent: int = 0
    delivered: int = 0
    failed: int = 0
    replies: int = 0
    opt_outs: int = 0

    def add(self, status: str, count: int, replies: int, opt_outs: int) -> None:
        self.sent += count
        self.delivered += count if status in DELIVERED else 0
        self.failed += count if status in FAILED else 0
        self.replies += replies
        self.opt_outs += opt_outs


@dataclass
class VariantResult:
    index: int
    template_name: str
    weight: int
    responses: Responses = field(default_factory=Responses)

    @property
    def label(self) -> str:
        return variant_label(self.index)


@dataclass
class StepFunnel:
    number: int
    step_id: str
    type: str
    words: str
    entered: int = 0  # ledger rows at this step: enrolments that reached it
    waiting: int = 0  # enrolments waiting at it now
    exited: int = 0  # refused by the entry rules before the send, or the send failed
    responses: Responses = field(default_factory=Responses)
    suppressed: Counter[str] = field(default_factory=Counter)  # reason words → count
    variants: list[VariantResult] = field(default_factory=list)

    @property
    def is_send(self) -> bool:
        return self.type == "send_sms"

    @property
    def suppressed_total(self) -> int:
        return sum(self.suppressed.values())

    @property
    def suppressed_reasons(self) -> list[tuple[str, int]]:
        # A list, not the Counter: a template's ``.items`` on a Counter looks up the key.
        return self.suppressed.most_common()


def _responded(organization: Organization) -> tuple[Exists, Exists]:
    """For a ledger row: did the contact reply, did the number opt out, within the window
    after the row's message."""
    sent_at = OuterRef("message__created_at")
    replied = Message.objects.filter(
        organization=organization,
        direction=Direction.INBOUND,
        contact_id=OuterRef("message__contact_id"),
        created_at__gte=sent_at,
        created_at__lt=sent_at + RESPONSE_WINDOW,
    )
    opted_out = ConsentEvent.objects.filter(
        organization=organization,
        phone=OuterRef("message__to"),
        kind=ConsentKind.OPT_OUT,
        created_at__gte=sent_at,
        created_at__lt=sent_at + RESPONSE_WINDOW,
    )
    return Exists(replied), Exists(opted_out)


@dataclass
class Funnel:
    steps: list[StepFunnel]
    counted_at: datetime.datetime | None = None  # None: counted for this page


def ledger_rows(version: AutomationVersion) -> list[dict[str, Any]]:
    """The version's step ledger grouped by step, variant, outcome and its message's status
    and suppressed reason, with the replies and opt-outs its messages drew: 1 query."""
    replied, opted_out = _responded(version.automation.organization)
    return list(
        RunStep.objects.filter(run__automation=version.automation, run__version=version)
        .values("step_id", "variant", "outcome", "message__status", "message__suppressed_reason")
        .annotate(
            n=Count("pk"),
            replies=Count("pk", filter=Q(replied)),
            opt_outs=Count("pk", filter=Q(opted_out)),
        )
        .order_by()
    )


def funnel_recount(version: AutomationVersion) -> FunnelCount:
    """Counts the version's ledger again and stores it (the task behind a stale count)."""
    count, _ = FunnelCount.objects.update_or_create(
        version=version,
        defaults={
            "rows": ledger_rows(version),
            "counted_at": timezone.now(),
            "recount_asked_at": None,
        },
    )
    return count


def _stored_rows(version: AutomationVersion) -> tuple[list[dict[str, Any]], datetime.datetime]:
    """The version's stored count (counted now when there is none); one more than FRESH old
    asks for a recount, once: 1 query, 2 when stale, 3 the first time."""
    now = timezone.now()
    stored = FunnelCount.objects.filter(version=version).first()
    if stored is None:
        stored = funnel_recount(version)
    elif stored.counted_at < now - FRESH:
        asked = (
            FunnelCount.objects.filter(version=version)
            .filter(Q(recount_asked_at__isnull=True) | Q(recount_asked_at__lt=now - FRESH))
            .update(recount_asked_at=now)
        )
        if asked:
            from automations.tasks import recount_funnel  # the tasks import the services

            transaction.on_commit(lambda: recount_funnel.delay(version.pk))
    return stored.rows, stored.counted_at


def version_funnel(version: AutomationVersion, names: Mapping[str, str], enrolments: int) -> Funnel:
    """Each step of the version with what its enrolments did there; ``enrolments``, the
    automation's enrolments and skips, says whether to count now or read the last count:
    2 queries either way (one more when the count is stale, two the first time)."""
    steps = version.definition.get("steps", [])
    funnel = {
        step["id"]: StepFunnel(n, step["id"], step["type"], step_words(step, names))
        for n, step in enumerate(steps, start=1)
    }
    for step in steps:
        for index, variant in enumerate(step.get("variants") or []):
            name = names.get(variant["template"] or "", "a deleted template")
            funnel[step["id"]].variants.append(VariantResult(index, name, variant["weight"]))
    counted_at = None
    if enrolments < COUNT_WHILE_WAITING:
        rows = ledger_rows(version)
    else:
        rows, counted_at = _stored_rows(version)
    for row in rows:
        step = funnel.get(row["step_id"])
        if step is None:
            continue
        count = row["n"]
        step.entered += count
        status = row["message__status"]
        if row["outcome"] == Outcome.EXITED:
            step.exited += count
        elif row["outcome"] == Outcome.SUPPRESSED or status == Status.SUPPRESSED:
            step.suppressed[suppressed_words(row["message__suppressed_reason"] or "")] += count
        elif row["outcome"] == Outcome.SENT:
            # A message deleted by retention still counts as sent (its status is unknown).
            step.responses.add(status or "", count, row["replies"], row["opt_outs"])
            variant = row["variant"]
            if variant is not None and variant < len(step.variants):
                step.variants[variant].responses.add(
                    status or "", count, row["replies"], row["opt_outs"]
                )
    waiting = (
        AutomationRun.objects.filter(
            automation=version.automation, version=version, state=RunState.WAITING
        )
        .values("step_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in waiting:
        if row["step_id"] in funnel:
            funnel[row["step_id"]].waiting = row["n"]
    return Funnel(list(funnel.values()), counted_at)
