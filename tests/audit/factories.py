"""Audit events made directly, at chosen times, for the page, API and retention tests."""

from __future__ import annotations

import datetime
from typing import Any

from tenants.audit.models import AuditEvent
from tenants.models import Organization, User


def event(
    organization: Organization,
    *,
    at: datetime.datetime,
    action: str = "member.role_changed",
    user: User | None = None,
    **fields: Any,
) -> AuditEvent:
    values: dict[str, Any] = {
        "actor_type": "user" if user else "operator",
        "actor_label": user.email if user else "operator (command line)",
        "target_type": "member",
        "target_id": "",
        "target_label": "viewer@a.example.com",
        "changes": {"role": {"before": "viewer", "after": "marketer"}},
    }
    values.update(fields)
    return AuditEvent.objects.create(
        organization=organization, at=at, action=action, actor_user=user, **values
    )
