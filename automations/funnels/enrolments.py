"""Enrolments: an automation's in numbers and newest first, where each stands, a contact's
step by step ("why didn't this contact get it?"), and a dry run's, for the page."""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, QuerySet

from automations.definition import step_words
from automations.funnels.words import (
    branch_words,
    instant_of,
    reason_words,
    suppressed_words,
    template_names,
    variant_label,
)
from automations.models import Automation, AutomationRun, Outcome, RunState, RunStep
from automations.selectors import contact_runs
from automations.services.dry_run import DryRun, DryStep, DryText
from automations.services.waits import zone_of
from contacts.models import Contact
from messaging.models import Message
from tenants.models import Organization


@dataclass
class EnrolmentSummary:
    """The enrolments of an automation by state, and the exits and skips by reason."""

    states: Counter[str] = field(default_factory=Counter)  # state label → count
    exits: Counter[str] = field(default_factory=Counter)  # reason words → count
    skips: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        """Every enrolment and skip."""
        return sum(self.states.values())

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
