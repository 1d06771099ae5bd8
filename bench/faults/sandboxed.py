"""What the two cases where Twilio misbehaves share (``twilio_faults``, ``callbacks_and_races``):
the stack on the shared PostgreSQL and Redis (``bench.stack.scratch_stack``: a scratch database
and a Redis database of the case's own), time standing still until the case says it passes,
the sweeper's passes, and the count of what each message became.

Imported once Django is set up (``bench.pages``), after the case has set its environment.
"""

from __future__ import annotations

import datetime
import json
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from bench.faults.outcome import Outcome, duplicated_of
from bench.stack import Child, answered_callbacks, get_json, log_problems
from messaging.models import FINAL, Message, MessageEvent, Status
from messaging.services.failed_calls import MAX_ATTEMPTS
from messaging.services.sweeper import UNKNOWN_OUTCOME_AFTER
from messaging.tasks import enqueue_due_messages, sweep_messages
from tenants.models import Organization

# Where a message is settled: Twilio's final statuses, suppressed by a rule, or handed to a
# person (needs_attention). Anything else after the sweeper's passes is lost.
SETTLED = Q(status__in=[*FINAL, Status.SUPPRESSED]) | Q(needs_attention=True)
# Our own events worth a note: what the product did about each fault.
EVENTS = ("unknown_outcome", "retry", "adopted", "resent", "needs_attention", "status_fetched")


def post_json(url: str, data: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 - the case's own sandbox
        url, data=json.dumps(data).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        answer: dict[str, Any] = json.loads(response.read())
        return answer


def statuses(organization: Organization) -> dict[str, int]:
    rows = (
        Message.objects.filter(organization=organization).values("status").annotate(n=Count("pk"))
    )
    return {row["status"]: row["n"] for row in rows}


def unsettled(organization: Organization) -> int:
    return Message.objects.filter(organization=organization).exclude(SETTLED).count()


def wait_for_quiet(
    state: Callable[[], Any], *, quiet_s: float = 3.0, seconds: float = 120.0
) -> Any:
    """``state()`` once it has not changed for ``quiet_s`` (or after ``seconds``): the stack
    has done what it will do by itself for now."""
    deadline = time.monotonic() + seconds
    last, since = state(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = state()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            break
    return last


def time_passes(organization: Organization) -> tuple[int, int]:
    """Stands for minutes passing, for the rows time is waited on (the case says it does):
    retry backoffs run out (``pending`` rows waiting for beat get ``send_after`` = now), and
    unknown outcomes age past the sweeper's one-minute wait (``submitted_at`` moved back to
    just over a minute ago, never further, so Twilio's copy, created at the real moment, stays
    inside the sweeper's match window). Returns (backoffs ended, outcomes aged)."""
    now = timezone.now()
    ended = Message.objects.filter(
        organization=organization,
        status=Status.PENDING,
        enqueued_at__isnull=True,
        send_after__gt=now,
    ).update(send_after=now)
    aged_to = now - UNKNOWN_OUTCOME_AFTER - datetime.timedelta(seconds=1)
    aged = (
        Message.objects.filter(
            organization=organization, status=Status.SUBMITTING, submitted_at__gt=aged_to
        )
        .exclude(error_message="")
        .update(submitted_at=aged_to)
    )
    return ended, aged


def recover(
    organization: Organization,
    state: Callable[[], Any],
    *,
    passes: int,
    notes: list[str],
    until: Callable[[], bool] | None = None,
) -> int:
    """Lets the product settle everything by itself: wait for the stack to go quiet, let time
    pass, run beat's two tasks now (due messages, the sweeper) in this process, again, up to
    ``passes`` times or until ``until()`` (by default: nothing is unsettled). Returns the
    passes run."""
    swept: Counter[str] = Counter()
    shifted = [0, 0]
    done = 0
    for done in range(1, passes + 1):
        wait_for_quiet(state)
        if until() if until else not unsettled(organization):
            done -= 1
            break
        ended, aged = time_passes(organization)
        shifted[0] += ended
        shifted[1] += aged
        swept.update(sweep_messages())
        enqueue_due_messages()
    wait_for_quiet(state)
    notes.append(
        f"{organization.name}: time stood in for: {shifted[0]} retry backoffs ended early, "
        f"{shifted[1]} unknown outcomes aged a minute; {done} sweeper passes called early "
        f"({', '.join(f'{k} {v}' for k, v in sorted(swept.items()) if v) or 'nothing to do'})"
    )
    return done


def product_events(organization: Organization) -> dict[str, int]:
    rows = (
        MessageEvent.objects.filter(message__organization=organization, status__in=EVENTS)
        .values("status")
        .annotate(n=Count("pk"))
    )
    return {row["status"]: row["n"] for row in rows}


def counts(organization: Organization, sandbox_url: str) -> tuple[int, int, int, int]:
    """(messages, sent, lost, duplicated) of the organization: sent and duplicated from the
    sandbox's creates per callback URL, lost from the database."""
    ids = [
        str(public_id)
        for public_id in Message.objects.filter(organization=organization).values_list(
            "public_id", flat=True
        )
    ]
    sent, duplicated = duplicated_of(get_json(f"{sandbox_url}/sandbox/stats")["creates"], ids)
    return len(ids), sent, unsettled(organization), duplicated


def histories(
    organization: Organization,
    creates: dict[str, int],
    *,
    first: int = 2,
    not_delivered: bool = True,
) -> list[str]:
    """The events of the first few messages Twilio created twice, and of those not delivered
    (where everything should be), for whoever looks into them."""
    twice = [url.rstrip("/").rsplit("/", 1)[-1] for url, n in creates.items() if n > 1]
    mine = Message.objects.filter(organization=organization)
    kinds = [("created twice", mine.filter(public_id__in=twice))]
    if not_delivered:
        kinds.append(("not delivered", mine.exclude(status=Status.DELIVERED)))
    lines = []
    for label, messages in kinds:
        for message in messages.order_by("pk")[:first]:
            steps = MessageEvent.objects.filter(message=message).order_by("pk")
            history = ", ".join(
                f"{e.at:%H:%M:%S.%f}"[:-3]
                + f" {e.status}"
                + (f" {e.error_code}" if e.error_code else "")
                for e in steps
            )
            lines.append(f"{label}: {message.public_id} ({message.status}): {history}")
    return lines


def callbacks_answered_2xx(web: Child) -> tuple[bool, str]:
    answered = answered_callbacks(web)
    bad = {code: n for code, n in answered.items() if not code.startswith("2")}
    return not bad, f"status callbacks answered by the web: {dict(sorted(answered.items()))}"


def tracebacks(children: list[Child]) -> list[str]:
    """The product's processes (not the sandbox, which breaks things on purpose) whose log
    holds a Traceback."""
    return [
        c.name
        for c in children
        if c.name != "sandbox" and any("Traceback" in line for line in log_problems(c))
    ]


def report(outcome: Outcome) -> None:
    print(
        f"{outcome.case}: {outcome.messages} messages, {outcome.sent} sent, {outcome.lost} lost, "
        f"{outcome.duplicated} duplicated, {outcome.seconds} s: "
        f"{'held' if outcome.held else 'DID NOT HOLD'}"
    )
    for note in outcome.notes:
        print(f"  {note}")
    for check, ok in outcome.checks.items():
        print(f"  {'ok' if ok else 'FAILED'}: {check}")


def gave_up(organization: Organization) -> int:
    """Messages failed after their last attempt (``MAX_ATTEMPTS``): the retry limit, by design."""
    return Message.objects.filter(
        organization=organization, status=Status.FAILED, attempts__gte=MAX_ATTEMPTS
    ).count()
