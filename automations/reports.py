"""Figures about automations for the builder's list, read set-wise.

``automation_list_stats`` costs two queries for any number of automations: one over their
enrolments, one over their messages (found by ``source="automation"`` and
``source_ref=<automation id>``, the index the message log filters by).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone

from automations.models import ACTIVE_RUN_STATES, Automation, AutomationRun, RunState
from messaging.models import Message, Status
from tenants.models import Organization
from tenants.sources import Source

WINDOW = datetime.timedelta(days=7)
DELIVERED = (Status.DELIVERED, Status.READ)


@dataclass(frozen=True)
class ListStats:
    """One automation's figures. ``entered``, ``completed``, ``sent`` and ``delivered`` count
    the last 7 days; ``active`` counts enrolments under way now, whenever they entered."""

    entered: int = 0
    active: int = 0
    completed: int = 0
    sent: int = 0
    delivered: int = 0


def automation_list_stats(
    organization: Organization,
    automations: Sequence[Automation],
    *,
    now: datetime.datetime | None = None,
) -> dict[int, ListStats]:
    """Each automation's figures, by its primary key (every one of them has an entry)."""
    if not automations:
        return {}
    since = (now or timezone.now()) - WINDOW
    ids = [a.pk for a in automations]
    runs = {
        row["automation_id"]: row
        for row in AutomationRun.objects.filter(organization=organization, automation_id__in=ids)
        .filter(Q(created_at__gte=since) | Q(state__in=ACTIVE_RUN_STATES) | Q(ended_at__gte=since))
        .values("automation_id")
        .annotate(
            entered=Count("pk", filter=Q(created_at__gte=since) & ~Q(state=RunState.SKIPPED)),
            active=Count("pk", filter=Q(state__in=ACTIVE_RUN_STATES)),
            completed=Count("pk", filter=Q(state=RunState.COMPLETED, ended_at__gte=since)),
        )
        .order_by()
    }
    by_ref = {str(a.public_id): a.pk for a in automations}
    messages = {
        by_ref[row["source_ref"]]: row
        for row in Message.objects.filter(
            organization=organization,
            source=Source.AUTOMATION,
            source_ref__in=list(by_ref),
            created_at__gte=since,
        )
        .values("source_ref")
        # Sent: handed to Twilio, which gave it a SID; delivered: Twilio said so.
        .annotate(
            sent=Count("pk", filter=Q(sid__isnull=False)),
            delivered=Count("pk", filter=Q(status__in=DELIVERED)),
        )
        .order_by()
    }
    stats = {}
    for pk in ids:
        run, message = runs.get(pk, {}), messages.get(pk, {})
        stats[pk] = ListStats(
            entered=run.get("entered", 0),
            active=run.get("active", 0),
            completed=run.get("completed", 0),
            sent=message.get("sent", 0),
            delivered=message.get("delivered", 0),
        )
    return stats


def runs_under_way(automation: Automation) -> int:
    """How many of its enrolments are waiting or running: what archiving would end."""
    return AutomationRun.objects.filter(automation=automation, state__in=ACTIVE_RUN_STATES).count()
