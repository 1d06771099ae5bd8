"""Reading the audit log: an organization's events, filtered, newest first."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from tenants.audit.models import ActorType, AuditEvent
from tenants.models import Organization

OPERATOR = "operator"


@dataclass(frozen=True)
class AuditFilter:
    action: str = ""
    # A member's or an API key's public id, or "operator".
    actor: str = ""
    target_type: str = ""
    since: datetime.datetime | None = None  # inclusive
    until: datetime.datetime | None = None  # exclusive

    @property
    def active(self) -> bool:
        return bool(self.action or self.actor or self.target_type or self.since or self.until)


def audit_events(organization: Organization, filters: AuditFilter) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(organization=organization)
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.actor == OPERATOR:
        events = events.filter(actor_type=ActorType.OPERATOR)
    elif filters.actor:
        key = uuid.UUID(filters.actor)  # the form or the API checked it
        events = events.filter(Q(actor_user__public_id=key) | Q(actor_api_key__public_id=key))
    if filters.target_type:
        events = events.filter(target_type=filters.target_type)
    if filters.since is not None:
        events = events.filter(at__gte=filters.since)
    if filters.until is not None:
        events = events.filter(at__lt=filters.until)
    return events.order_by("-at", "-pk")


def audit_actors(organization: Organization) -> list[tuple[str, str]]:
    """Who appears in the organization's log, as (filter value, label), by label: its
    members and keys by public id, then the operator if any."""
    rows = (
        AuditEvent.objects.filter(organization=organization)
        .values_list(
            "actor_type", "actor_user__public_id", "actor_api_key__public_id", "actor_label"
        )
        .distinct()
    )
    found: dict[str, str] = {}
    operator = False
    for actor_type, user_id, key_id, label in rows:
        if actor_type == ActorType.OPERATOR:
            operator = True
        elif user_id or key_id:
            found[str(user_id or key_id)] = label
    choices = sorted(found.items(), key=lambda item: item[1].lower())
    return [*choices, (OPERATOR, "Operator (command line)")] if operator else choices
