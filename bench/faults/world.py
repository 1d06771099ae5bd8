"""The data of the fault cases 1-4 and their counting, once ``bench.faults.common.fault_stack``
has set Django up (this module imports models): an organization connected to the sandbox with
its contacts (each with an import opt-in, as ``bench.event_to_twilio`` makes them), an
automation "tag added → send one SMS", an API key, and per message of a case whether it was
sent, duplicated or lost.
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from automations.models import Automation
from automations.services.automations import automation_activate, automation_create
from bench.faults.common import Stack, wait_for_quiet, wait_until
from bench.faults.outcome import duplicated_of
from bench.sending import connected_organization
from contacts.models import Contact
from contacts.services.bulk import contacts_upsert_many
from contacts.services.rows import ContactRow
from messaging.models import FINAL, Message, Status
from messaging.services.sweeper import UNFINISHED as UNFINISHED_STATUSES
from messaging.services.sweeper import messages_sweep
from templates_sms.services import template_create
from tenants.models import Organization, User
from tenants.services.api_keys import api_key_create

SEND_RATE = Decimal(1000)  # segments a second: the rate limit holds nothing back here
BODY = "Hi {{ first_name }}, thanks for joining us."
# Where a message is settled: Twilio's final statuses, suppressed by a rule, or handed to a
# person (needs_attention). Anything else after the sweeper's passes is lost.
SETTLED = Q(status__in=[*FINAL, Status.SUPPRESSED]) | Q(needs_attention=True)


@dataclass
class World:
    organization: Organization
    owner: User
    contacts: list[Contact]


def phone(n: int) -> str:
    return f"+1415{3000000 + n:07d}"


def world_create(count: int, *, name: str = "Faults") -> World:
    """An organization connected to the sandbox and ``count`` contacts who opted in."""
    organization, owner = connected_organization(name, SEND_RATE)
    rows = [ContactRow(phone=phone(n), first_name="Ann") for n in range(count)]
    for begin in range(0, len(rows), 1000):
        with transaction.atomic():
            contacts_upsert_many(
                organization=organization,
                rows=rows[begin : begin + 1000],
                source="import",
                consent=True,
                user=owner,
                automations=False,
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    contacts = list(Contact.objects.filter(organization=organization).order_by("pk"))
    return World(organization, owner, contacts)


def sms_automation(
    world: World, *, trigger: dict[str, object], name: str = "Welcome", activate: bool = True
) -> Automation:
    """``trigger`` → one ``send_sms`` step (quiet hours off: nothing waits for the morning),
    published and, unless told, active."""
    template = template_create(organization=world.organization, name=f"{name} text", body=BODY)
    automation = automation_create(
        organization=world.organization,
        name=name,
        definition={
            "trigger": trigger,
            "steps": [
                {
                    "id": "s1",
                    "type": "send_sms",
                    "template": str(template.template.public_id),
                    "respect_quiet_hours": False,
                }
            ],
        },
        complete=True,
    )
    if activate:
        automation_activate(automation=automation)
    return automation


def api_secret(world: World) -> str:
    _key, secret = api_key_create(
        organization=world.organization, name="Faults CRM", role="marketer", by=world.owner
    )
    return secret


def messages_of(automation: Automation) -> QuerySet[Message]:
    return Message.objects.filter(
        organization=automation.organization, source_ref=str(automation.public_id)
    )


def by_status(messages: QuerySet[Message]) -> dict[str, int]:
    return dict(Counter(messages.values_list("status", flat=True)))


@dataclass
class Count:
    messages: int
    sent: int
    duplicated: int
    lost: int
    by_status: dict[str, int]
    attention: int

    def note(self) -> str:
        shown = ", ".join(f"{status} {n}" for status, n in sorted(self.by_status.items()))
        return f"statuses at the end: {shown}; needs_attention {self.attention}"


def count(messages: QuerySet[Message], creates: dict[str, int]) -> Count:
    """Sent and duplicated from the sandbox's creates, lost from the rows."""
    ids = [str(public_id) for public_id in messages.values_list("public_id", flat=True)]
    sent, duplicated = duplicated_of(creates, ids)
    return Count(
        messages=len(ids),
        sent=sent,
        duplicated=duplicated,
        lost=messages.exclude(SETTLED).count(),
        by_status=by_status(messages),
        attention=messages.filter(needs_attention=True).count(),
    )


# --- Letting the product recover -------------------------------------------------------------

# Standing for the minutes the sweeper's rules wait, without racing the live stack:
# - a ``pending`` row whose task was lost has its ``enqueued_at`` shifted back ``LOST_SHIFT``
#   (past the two-minute lost-task rule) and the sweeper runs at the real time, so the rows it
#   requeues, claimed again at once, are fresh ``submitting`` rows it leaves alone;
# - a ``submitting`` row a dead worker left is found by the sweeper run as beat would run it
#   ``SWEEP_AHEAD`` later (its own ``now``: past the five-minute rule), only once no row is
#   pending, so nothing it requeues in that pass is mistaken for dead. Its timestamps stay true,
#   so the match window around ``submitted_at`` still holds Twilio's real create time.
# Both only once the stack has gone quiet.
LOST_SHIFT = datetime.timedelta(minutes=3)
SWEEP_AHEAD = datetime.timedelta(minutes=6)
SWEEP_PASSES = 15  # a pass requeues at most 200 rows (the sweeper's BATCH)


def progress(messages: QuerySet[Message], stack: Stack) -> tuple[int, int, int]:
    """What changes while the stack is still sending ``messages``: how many wait to be sent,
    how many are being sent, and the sandbox's creates."""
    stuck = by_status(messages)
    return stuck.get("pending", 0), stuck.get("submitting", 0), sum(stack.creates().values())


def settle(messages: QuerySet[Message], stack: Stack, *, seconds: float = 120) -> list[str]:
    """Waits for the stack to send what it sends by itself, then, while messages are left
    ``pending`` or ``submitting`` with nothing working on them, lets the sweeper have them as
    minutes later (see ``LOST_SHIFT``) and waits again. Returns a note per sweeper pass."""
    notes = []
    for number in range(1, SWEEP_PASSES + 1):
        wait_for_quiet(lambda: progress(messages, stack), quiet_s=4.0, seconds=seconds)
        stuck = messages.filter(
            status__in=[Status.PENDING, Status.SUBMITTING], needs_attention=False
        )
        pending = stuck.filter(status=Status.PENDING, enqueued_at__isnull=False)
        if pending.exists():
            shifted = pending.update(enqueued_at=F("enqueued_at") - LOST_SHIFT)
            how = f"{shifted} pending rows' enqueued_at shifted back {LOST_SHIFT}"
            done = messages_sweep().counts()
        elif stuck.exists():
            how = f"{stuck.count()} submitting, run as {SWEEP_AHEAD} later"
            done = messages_sweep(now=timezone.now() + SWEEP_AHEAD).counts()
        else:
            break
        shown = ", ".join(f"{name} {n}" for name, n in done.items() if n) or "nothing"
        notes.append(f"sweeper pass {number} ({how}): {shown}")
        print(notes[-1], flush=True)
    return notes


def wait_settled(messages: QuerySet[Message], *, seconds: float = 90) -> bool:
    """Until every message is settled (its last status callbacks in), or ``seconds`` pass."""
    return wait_until(
        lambda: not messages.exclude(SETTLED).exists(), seconds=seconds, what="all settled"
    )


# The sweeper run as beat would run it a day later: past its 24 hours for a message whose final
# status callback never came, whose status it then fetches from Twilio.
DAY_AHEAD = datetime.timedelta(hours=25)


def fetch_stale(messages: QuerySet[Message]) -> str:
    """Runs the sweeper a day ahead until it fetches nothing more (200 a pass); a note."""
    unfinished = messages.filter(status__in=UNFINISHED_STATUSES).count()
    fetched = passes = 0
    while passes < 100:
        passes += 1
        done = messages_sweep(now=timezone.now() + DAY_AHEAD).fetched
        fetched += done
        if not done:
            break
    return (
        f"left without their final callback: {unfinished}; the sweeper run a day ahead fetched "
        f"{fetched} statuses from Twilio in {passes} passes"
    )
