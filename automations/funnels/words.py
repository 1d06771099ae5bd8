"""What the automation pages say of templates, reasons, variants, waits and branches."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from automations.definition import Definition, template_ids
from automations.models import Reason
from messaging.models import SuppressedReason
from templates_sms.models import SmsTemplate
from tenants.models import Organization


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
