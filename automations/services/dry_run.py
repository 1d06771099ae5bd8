"""Dry run: what each step would do for one contact now, without sending or writing.

It walks the path the engine would take, with the engine's own pieces: the entry and
re-entry rules of enrolment, the send service's verdicts (``message_send_preview``: the
rendered text and segments, the rule that would suppress it, the quiet-hours deferral), the
waits' ends and the branches' conditions as they stand now. An A/B step shows each variant.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field

from django.utils import timezone

from automations.definition import Definition, step_words, template_ids
from automations.models import Automation, Outcome, Reason
from automations.services.enrolment import _reentry_refused
from automations.services.facts import condition_holds, contact_facts, entry_refusal
from automations.services.waits import wait_until
from contacts.models import Contact
from messaging.services.content import message_send_preview
from templates_sms.models import SmsTemplate


@dataclass
class DryText:
    template: SmsTemplate
    weight: int | None
    text: str
    segments: int
    encoding: str
    suppressed_reason: str
    send_after: datetime.datetime | None


@dataclass
class DryStep:
    step_id: str
    type: str
    words: str
    outcome: str  # what the ledger would say: sent, suppressed, waited, branched, exited
    detail: str = ""
    texts: list[DryText] = field(default_factory=list)


@dataclass
class DryRun:
    refusal: str  # a Reason if the contact would be skipped, else ""
    refusal_detail: str
    steps: list[DryStep]

    @property
    def would_enrol(self) -> bool:
        return not self.refusal


def automation_dry_run(*, automation: Automation, contact: Contact) -> DryRun:
    organization = automation.organization
    live = automation.live_version
    definition: Definition = live.definition if live else automation.draft
    now = timezone.now()
    facts = contact_facts(organization, [contact.pk], replies_since=now)
    refusal, detail = "", ""
    if contact.pk in facts.opted_out:
        refusal = Reason.OPTED_OUT
    elif found := entry_refusal(definition["entry_rules"], facts, contact.pk):
        refusal, detail = Reason.ENTRY_RULES, found
    elif _reentry_refused(automation, definition["reentry"], [contact.pk], now):
        refusal = Reason.REENTRY
    ids = [s["id"] for s in definition["steps"]]
    templates = {
        str(t.public_id): t
        for t in SmsTemplate.objects.filter(
            organization=organization, public_id__in=template_ids(definition)
        )
    }
    names = {key: t.name for key, t in templates.items()}
    steps: list[DryStep] = []
    # A message is pending (or suppressed) right after its step: what a branch would see now.
    pos, at, last_status = 0, now, ""
    while pos < len(ids):
        step = definition["steps"][pos]
        dry = DryStep(step["id"], step["type"], step_words(step, names), "")
        steps.append(dry)
        pos += 1
        if step["type"] == "wait":
            at = wait_until(step, at, contact.time_zone)
            dry.outcome, dry.detail = Outcome.WAITED, f"until {at.isoformat()}"
        elif step["type"] == "branch":
            holds = condition_holds(
                step["if"], facts, contact.pk, since=now, last_status=last_status
            )
            arm = "then" if holds else "else"
            target = step[arm]
            dry.outcome, dry.detail = Outcome.BRANCHED, f"{arm}: {target}"
            if target == "end":
                break
            if target != "continue":
                pos = ids.index(target)
        else:
            refused = entry_refusal(definition["entry_rules"], facts, contact.pk)
            if refused:
                dry.outcome, dry.detail = Outcome.EXITED, refused
                break
            variants = step.get("variants") or [{"template": step.get("template"), "weight": None}]
            for variant in variants:
                template = templates.get(variant["template"] or "")
                if template is None:
                    continue
                preview = message_send_preview(
                    organization=organization,
                    contact=contact,
                    template=template,
                    dedupe_key=f"dry-run:{uuid.uuid4()}",
                    respect_quiet_hours=step.get("respect_quiet_hours", True),
                )
                dry.texts.append(
                    DryText(
                        template,
                        variant["weight"],
                        preview.text,
                        preview.segments,
                        preview.encoding,
                        preview.suppressed_reason,
                        preview.send_after,
                    )
                )
            suppressed = [t.suppressed_reason for t in dry.texts if t.suppressed_reason]
            dry.outcome = (
                Outcome.SUPPRESSED
                if suppressed and len(suppressed) == len(dry.texts)
                else Outcome.SENT
            )
            dry.detail = suppressed[0] if dry.outcome == Outcome.SUPPRESSED else ""
            last_status = "suppressed" if dry.outcome == Outcome.SUPPRESSED else "pending"
    return DryRun(refusal, detail, steps)
