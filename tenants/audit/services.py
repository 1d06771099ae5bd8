"""Writing the audit log, and the only two ways its rows leave: retention and a purge.

``audit_record`` is called by the services that make an audited change, inside their
transaction, so a change rolled back leaves no event. The actor is the one the service was
given (an ``Actor``, or the ``User`` acting), else the request being answered (its member or
its API key, ``tenants.audit.context``), else the operator at the command line.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models.functions import Now
from django.utils import timezone

from tenants.actor import Actor
from tenants.audit.context import current_request
from tenants.audit.models import (
    OPERATOR_LABEL,
    RETENTION,
    Action,
    ActorType,
    AuditEvent,
    TargetType,
)
from tenants.client_address import client_address
from tenants.models import ApiKey, Organization, User

logger = logging.getLogger(__name__)

# What a secret field's change is recorded as: that it changed, never its value.
REPLACED = "(replaced)"
HIDDEN = "(hidden)"
SECRET_WORDS = ("token", "secret", "password", "key_hash", "encrypted", "inbound_key")
RETENTION_BATCH = 1000


@dataclass(frozen=True)
class Target:
    type: str
    id: str = ""
    label: str = ""

    @classmethod
    def of(cls, kind: TargetType, obj: Any, label: object) -> Target:
        """``obj``'s public id, and ``label`` cut to what the column holds."""
        return cls(type=str(kind), id=str(obj.public_id), label=str(label)[:300])


@dataclass(frozen=True)
class _Who:
    type: str
    label: str
    user: User | None = None
    api_key: ApiKey | None = None


def mask_phone(phone: str) -> str:
    """A number as the log shows it: its last four digits only."""
    return f"•••{phone[-4:]}" if phone else ""


def api_key_label(api_key: ApiKey) -> str:
    return f"API key “{api_key.name}” (smsh_{api_key.prefix}_…)"[:300]


def changes_of(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{"field": {"before": …, "after": …}}`` for each field whose value differs (a field
    that was not there and is still empty is no change)."""
    empty: tuple[Any, ...] = (None, "", [], {})
    return {
        field: {"before": before.get(field), "after": value}
        for field, value in after.items()
        if before.get(field) != value and not (before.get(field) is None and value in empty)
    }


def _checked(changes: Mapping[str, Any]) -> dict[str, Any]:
    """The changes as given, once sure no secret's value is among them."""
    for field, change in changes.items():
        if not any(word in field.lower() for word in SECRET_WORDS):
            continue
        values = change.values() if isinstance(change, Mapping) else [change]
        if any(value not in (REPLACED, HIDDEN, None, True, False) for value in values):
            raise ValueError(f"An audit event never records the value of {field!r}.")
    return dict(changes)


def _who(actor: Actor | User | None) -> _Who:
    if isinstance(actor, User):
        return _Who(type=ActorType.USER, label=actor.email, user=actor)
    if isinstance(actor, Actor):
        if actor.user is not None:
            return _Who(type=ActorType.USER, label=actor.user.email, user=actor.user)
        if actor.api_key is not None:
            return _who_key(actor.api_key)
        return _Who(type=ActorType.OPERATOR, label=OPERATOR_LABEL)
    request = current_request()
    if request is None:
        return _Who(type=ActorType.OPERATOR, label=OPERATOR_LABEL)
    user = getattr(request, "user", None)
    if isinstance(user, User) and user.is_authenticated:
        return _Who(type=ActorType.USER, label=user.email, user=user)
    api_key = getattr(user, "api_key", None)  # the API's principal, once DRF authenticated
    if isinstance(api_key, ApiKey):
        return _who_key(api_key)
    return _Who(type=ActorType.OPERATOR, label="someone signed out")


def _who_key(api_key: ApiKey) -> _Who:
    return _Who(type=ActorType.API_KEY, label=api_key_label(api_key), api_key=api_key)


def audit_record(
    *,
    organization: Organization,
    action: Action,
    target: Target | None = None,
    changes: Mapping[str, Any] | None = None,
    actor: Actor | User | None = None,
) -> AuditEvent:
    """One event, in the caller's transaction (``changes`` never holds a secret's value:
    ``REPLACED`` says a secret changed)."""
    who = _who(actor)
    request = current_request()
    target = target or Target(type="")
    return AuditEvent.objects.create(
        organization=organization,
        at=timezone.now(),
        action=action,
        actor_type=who.type,
        actor_user=who.user,
        actor_api_key=who.api_key,
        actor_label=who.label[:300],
        address=client_address(request) if request is not None else None,
        target_type=target.type,
        target_id=target.id,
        target_label=target.label,
        changes=_checked(changes or {}),
    )


def audit_events_expire(*, batch_size: int = RETENTION_BATCH) -> int:
    """Deletes events older than the retention period (by the database's clock, which the
    trigger reads too), a batch per transaction. Returns how many."""
    total = 0
    while True:
        with transaction.atomic():
            ids = list(
                AuditEvent.objects.filter(at__lt=Now() - RETENTION).values_list("pk", flat=True)[
                    :batch_size
                ]
            )
            if not ids:
                break
            total += AuditEvent.objects.filter(pk__in=ids)._purge()
    if total:
        logger.info("audit events expired: %s", total)
    return total


def audit_events_purge(*, organization: Organization, batch_size: int = RETENTION_BATCH) -> int:
    """Deletes every event of an organization whose deletion was requested (its purge)."""
    if organization.deletion_requested_at is None:
        raise ValueError("Only a purged organization's audit events are deleted.")
    total = 0
    while True:
        with transaction.atomic():
            ids = list(
                AuditEvent.objects.filter(organization=organization).values_list("pk", flat=True)[
                    :batch_size
                ]
            )
            if not ids:
                return total
            total += AuditEvent.objects.filter(pk__in=ids)._purge()
