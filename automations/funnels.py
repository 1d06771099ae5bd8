"""Reads behind the automation pages: the live version's funnel per step and its A/B results,
the enrolments in numbers, a contact's enrolments step by step ("why didn't this contact get
it?"), the step a message came from, and the automations a template is protected by.

Every read costs a fixed number of queries whatever the volume: the funnel is one grouped
query over the step ledger, with the replies and opt-outs found by correlated subqueries in
the same statement, never a query per enrolment or per message.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from automations.definition import Definition, step_words, template_ids
from automations.models import (
    Automation,
    AutomationRun,
    AutomationVersion,
    Outcome,
    Reason,
    RunState,
    RunStep,
    VersionTemplate,
)
from automations.selectors import contact_runs
from automations.services.dry_run import DryRun, DryStep, DryText
from automations.services.waits import zone_of
from contacts.models import ConsentEvent, ConsentKind, Contact
from messaging.models import Direction, Message, Status, SuppressedReason
from templates_sms.models import SmsTemplate
from tenants.models import Organization

# A reply or an opt-out counts for a message when it comes within this long after it.
RESPONSE_WINDOW = datetime.timedelta(hours=24)
DELIVERED = (Status.DELIVERED, Status.READ)
FAILED = (Status.FAILED, Status.UNDELIVERED, Status.CANCELED)


def template_names(organization: Organization, definitions: Iterable[Definition]) -> dict[str, str]:
    """Template public id → name for every template these definitions send (one query)."""
    wanted = {key for definition in definitions for key in template_ids(definition)}
    if not wanted:
        return {}
    return {
        str(public_id): name
        for public_id, name in SmsTemplate.objects.filter(
            organization=organization, public_id__in=wanted
        ).values_list("public_id", "name")
    }


def suppressed_words(reason: str) -> str:
    """The send rule that suppressed a message, in words."""
    try:
        return str(SuppressedReason(reason).label)
    except ValueError:
        return reason or "a send rule"


def reason_words(reason: str, detail: str = "") -> str:
    """Why an enrolment was skipped or exited, in words ("Does not match the entry rules:
    lacks the tag vip")."""
    try:
        words = str(Reason(reason).label)
    except ValueError:
        words = reason
    return f"{words}: {detail}" if words and detail else words or detail


def variant_label(index: int | None) -> str:
    return "" if index is None else chr(ord("A") + index)


def instant_of(detail: str) -> datetime.datetime | None:
    """The end of a wait as the ledger and the dry run write it ("until <ISO time>", or the
    bare ISO time)."""
    try:
        return datetime.datetime.fromisoformat(detail.removeprefix("until ").strip())
    except ValueError:
        return None


def branch_words(detail: str, *, now: bool = False) -> str:
    """A branch's ledger detail ("then: s4") in words."""
    arm, _, target = detail.partition(": ")
    if now:
        held = "the condition holds now" if arm == "then" else "the condition does not hold now"
        goes = {"continue": "would go on", "end": "would end"}.get(
            target, f"would go to step {target}"
        )
    else:
        held = "the condition held" if arm == "then" else "the condition did not hold"
        goes = {"continue": "went on", "end": "ended"}.get(target, f"went to step {target}")
    return f"{held}, {goes}"


# --- The funnel -------------------------------------------------------------------------------


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


def version_funnel(version: AutomationVersion, names: Mapping[str, str]) -> list[StepFunnel]:
    """Each step of the version with what its enrolments did there: 2 queries."""
    automation = version.automation
    organization = automation.organization
    steps = version.definition.get("steps", [])
    funnel = {
        step["id"]: StepFunnel(n, step["id"], step["type"], step_words(step, names))
        for n, step in enumerate(steps, start=1)
    }
    for step in steps:
        for index, variant in enumerate(step.get("variants") or []):
            name = names.get(variant["template"] or "", "a deleted template")
            funnel[step["id"]].variants.append(VariantResult(index, name, variant["weight"]))
    replied, opted_out = _responded(organization)
    rows = (
        RunStep.objects.filter(run__automation=automation, run__version=version)
        .values("step_id", "variant", "outcome", "message__status", "message__suppressed_reason")
        .annotate(
            n=Count("pk"),
            replies=Count("pk", filter=Q(replied)),
            opt_outs=Count("pk", filter=Q(opted_out)),
        )
        .order_by()
    )
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
        AutomationRun.objects.filter(automation=automation, version=version, state=RunState.WAITING)
        .values("step_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in waiting:
        if row["step_id"] in funnel:
            funnel[row["step_id"]].waiting = row["n"]
    return list(funnel.values())


@dataclass
class EnrolmentSummary:
    """The enrolments of an automation by state, and the exits and skips by reason."""

    states: Counter[str] = field(default_factory=Counter)  # state label → count
    exits: Counter[str] = field(default_factory=Counter)  # reason words → count
    skips: Counter[str] = field(default_factory=Counter)

    # Lists for the template (its ``.items`` on a Counter would look up the key "items").
    @property
    def by_state(self) -> list[tuple[str, int]]:
        return [
            (state, n) for state, n in self.states.most_common() if state != RunState.SKIPPED.label
        ]

    @property
    def by_exit(self) -> list[tuple[str, int]]:
        return self.exits.most_common()

    @property
    def by_skip(self) -> list[tuple[str, int]]:
        return self.skips.most_common()

    @property
    def enrolled(self) -> int:
        return sum(n for state, n in self.states.items() if state != RunState.SKIPPED.label)

    @property
    def skipped(self) -> int:
        return self.states[str(RunState.SKIPPED.label)]


def enrolment_summary(automation: Automation) -> EnrolmentSummary:
    """1 query."""
    summary = EnrolmentSummary()
    rows = (
        AutomationRun.objects.filter(automation=automation)
        .values("state", "reason")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        state = RunState(row["state"])
        summary.states[str(state.label)] += row["n"]
        if state == RunState.EXITED:
            summary.exits[reason_words(row["reason"])] += row["n"]
        elif state == RunState.SKIPPED:
            summary.skips[reason_words(row["reason"])] += row["n"]
    return summary


def latest_runs(automation: Automation) -> QuerySet[AutomationRun]:
    """The automation's enrolments and skips, newest first, with contact and version."""
    return (
        AutomationRun.objects.filter(automation=automation)
        .select_related("contact", "version")
        .order_by("-created_at", "-pk")
    )


def run_status(run: AutomationRun) -> str:
    """Where an enrolment stands, in words (times are shown apart)."""
    if run.state == RunState.WAITING:
        return f"Waiting at step {run.step_id}"
    if run.state == RunState.RUNNING:
        return f"Running: at step {run.step_id}"
    if run.state == RunState.COMPLETED:
        return "Completed" + (f" ({reason_words(run.reason)})" if run.reason else "")
    if run.state == RunState.EXITED:
        return f"Exited because: {reason_words(run.reason, run.detail)}"
    return f"Skipped: {reason_words(run.reason, run.detail)}"


# --- A contact's enrolments -------------------------------------------------------------------


@dataclass
class StepLine:
    step_id: str
    words: str
    outcome: str
    says: str  # the outcome in words
    message: Message | None = None
    variant: str = ""
    at: datetime.datetime | None = None
    until: datetime.datetime | None = None


@dataclass
class RunLine:
    run: AutomationRun
    says: str
    steps: list[StepLine]
    zone: Any  # the contact's time zone, for the times shown

    @property
    def waiting_until(self) -> datetime.datetime | None:
        return self.run.due_at if self.run.state == RunState.WAITING else None


def _step_says(step: RunStep, run: AutomationRun) -> str:
    if step.outcome == Outcome.SENT:
        return "Sent"
    if step.outcome == Outcome.SUPPRESSED:
        reason = step.message.suppressed_reason if step.message else step.detail
        return f"Suppressed: {suppressed_words(reason or step.detail)}"
    if step.outcome == Outcome.WAITED:
        current = run.state == RunState.WAITING and run.step_id == step.step_id
        return "Waiting until" if current else "Waited until"
    if step.outcome == Outcome.BRANCHED:
        return "Branched: " + branch_words(step.detail)
    return f"Exited: {step.detail}" if step.detail else "Exited"


def contact_run_lines(organization: Organization, contact: Contact, limit: int) -> list[RunLine]:
    """The contact's latest enrolments and skips, each step in words: 4 queries."""
    runs = list(contact_runs(organization, contact)[:limit])
    versions = {run.version_id: run.version for run in runs}
    names = template_names(organization, (v.definition for v in versions.values()))
    zone = zone_of(contact.time_zone)
    lines = []
    for run in runs:
        steps = []
        for step in run.steps.all():
            definition = run.version.step(step.step_id)
            steps.append(
                StepLine(
                    step_id=step.step_id,
                    words=step_words(definition, names) if definition else "",
                    outcome=step.outcome,
                    says=_step_says(step, run),
                    message=step.message if step.outcome == Outcome.SENT else None,
                    variant=variant_label(step.variant),
                    at=step.at,
                    until=instant_of(step.detail) if step.outcome == Outcome.WAITED else None,
                )
            )
        lines.append(RunLine(run, run_status(run), steps, zone))
    return lines


# --- The dry run, for the page -------------------------------------------------------------


@dataclass
class DryTextLine:
    text: DryText
    label: str  # the variant's letter when the step is an A/B split

    @property
    def suppressed_words(self) -> str:
        return suppressed_words(self.text.suppressed_reason)


@dataclass
class DryLine:
    step: DryStep
    says: str
    until: datetime.datetime | None
    texts: list[DryTextLine]


def dry_run_lines(dry: DryRun) -> list[DryLine]:
    lines = []
    for step in dry.steps:
        split = len(step.texts) > 1
        texts = [
            DryTextLine(t, variant_label(n) if split else "") for n, t in enumerate(step.texts)
        ]
        says = branch_words(step.detail, now=True).capitalize() if step.type == "branch" else ""
        until = instant_of(step.detail) if step.outcome == Outcome.WAITED else None
        lines.append(DryLine(step, says, until, texts))
    return lines


# --- A message's step, a template's automations ----------------------------------------------


@dataclass
class MessageStep:
    step: RunStep
    words: str

    @property
    def run(self) -> AutomationRun:
        return self.step.run

    @property
    def variant(self) -> str:
        return variant_label(self.step.variant)


def message_step(organization: Organization, message: Message) -> MessageStep | None:
    """The ledger row that created this message, with its automation and version: 2
    queries."""
    step = (
        RunStep.objects.filter(message=message, run__organization=organization)
        .select_related("run__automation", "run__version", "run__contact")
        .first()
    )
    if step is None:
        return None
    definition = step.run.version.step(step.step_id)
    names = template_names(organization, [step.run.version.definition])
    return MessageStep(step, step_words(definition, names) if definition else "")


@dataclass
class TemplateUser:
    automation: Automation
    versions: list[int]  # the version numbers that send the template
    live: bool  # the live version is one of them


def template_users(organization: Organization, template: SmsTemplate) -> list[TemplateUser]:
    """The automations whose published versions send this template (what keeps it from being
    deleted): 1 query."""
    links = (
        VersionTemplate.objects.filter(
            template=template, version__automation__organization=organization
        )
        .select_related("version__automation")
        .order_by("version__automation__name", "version__number")
    )
    users: dict[int, TemplateUser] = {}
    for link in links:
        automation = link.version.automation
        user = users.setdefault(automation.pk, TemplateUser(automation, [], False))
        user.versions.append(link.version.number)
        user.live = user.live or automation.live_version_id == link.version_id
    return list(users.values())
