"""Endpoints: created, changed, rotated, disabled and enabled, deleted; a test event and a
replay, each to one endpoint only. The pages and the API call these (admins and owners)."""

from __future__ import annotations

import base64
import datetime
import logging
import secrets
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from tenants.audit.models import Action, TargetType
from tenants.audit.services import HIDDEN, REPLACED, Target, audit_record, changes_of
from tenants.crypto import encrypt
from tenants.errors import ApplicationError, ConflictError
from tenants.models import Organization, User
from tenants.outbound.addresses import endpoint_url_check
from tenants.outbound.models import (
    EVENT_TYPES,
    TEST_EVENT,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from tenants.outbound.services.events import (
    deliveries_create,
    payload_of,
    subscriptions_forget,
    wake_on_commit,
)
from tenants.types import UNSET, Unset

logger = logging.getLogger(__name__)

MAX_ENDPOINTS = 20
MAX_DESCRIPTION = 200
# After a rotation the old secret signs too (a second signature) for this long, so that a
# receiver can switch to the new one without losing events.
ROTATION_OVERLAP = datetime.timedelta(hours=24)


def secret_new() -> str:
    """A Standard Webhooks secret: ``whsec_`` and the base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _types(event_types: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(str(t) for t in event_types))
    unknown = [t for t in chosen if t not in EVENT_TYPES]
    if unknown:
        message = f"Unknown event type: {', '.join(unknown)}. Known: {', '.join(EVENT_TYPES)}."
        raise ApplicationError.for_field("event_types", message)
    if not chosen:
        raise ApplicationError.for_field("event_types", "Choose at least one event type.")
    return [t for t in EVENT_TYPES if t in chosen]


def _description(description: str) -> str:
    text = " ".join(description.split())
    if len(text) > MAX_DESCRIPTION:
        raise ApplicationError.for_field("description", f"At most {MAX_DESCRIPTION} characters.")
    return text


CHECKS: dict[str, Callable[[Any], Any]] = {
    "url": endpoint_url_check,
    "event_types": _types,
    "description": _description,
}


def _audit(
    endpoint: WebhookEndpoint,
    action: Action,
    changes: dict[str, Any],
    by: User | None = None,
) -> None:
    audit_record(
        organization=endpoint.organization,
        action=action,
        target=Target.of(TargetType.WEBHOOK_ENDPOINT, endpoint, endpoint.url),
        changes=changes,
        actor=by,
    )


@transaction.atomic
def endpoint_create(
    *,
    organization: Organization,
    url: str,
    event_types: Iterable[str],
    description: str = "",
    by: User | None = None,
) -> tuple[WebhookEndpoint, str]:
    """A new enabled endpoint and its secret, which is shown this once."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for field, raw in (("url", url), ("event_types", event_types), ("description", description)):
        try:
            values[field] = CHECKS[field](raw)
        except ApplicationError as exc:
            errors.setdefault(field, []).extend(exc.fields.get(field, [exc.message]))
    if errors:
        raise ApplicationError("Some details of the endpoint are not valid.", fields=errors)
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    if WebhookEndpoint.objects.filter(organization=organization).count() >= MAX_ENDPOINTS:
        raise ConflictError(
            f"An organization has at most {MAX_ENDPOINTS} endpoints; delete one first.",
            code="too_many_endpoints",
        )
    secret = secret_new()
    endpoint = WebhookEndpoint.objects.create(
        organization=organization,
        secret_encrypted=encrypt(secret),
        created_by=by,
        **values,
    )
    subscriptions_forget(organization.pk)
    _audit(endpoint, Action.WEBHOOK_ENDPOINT_CREATED, changes_of({}, values), by)
    logger.info("webhook endpoint created: %s in %s", endpoint.public_id, organization.public_id)
    return endpoint, secret


@transaction.atomic
def endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str | Unset = UNSET,
    event_types: Iterable[str] | Unset = UNSET,
    description: str | Unset = UNSET,
) -> WebhookEndpoint:
    """Changes what is given (the URL checked again)."""
    errors: dict[str, list[str]] = {}
    changed: list[str] = []
    before = {field: getattr(endpoint, field) for field in CHECKS}
    for field, raw in (("url", url), ("event_types", event_types), ("description", description)):
        if isinstance(raw, Unset):
            continue
        try:
            setattr(endpoint, field, CHECKS[field](raw))
            changed.append(field)
        except ApplicationError as exc:
            errors.setdefault(field, []).extend(exc.fields.get(field, [exc.message]))
    if errors:
        raise ApplicationError("Some details of the endpoint are not valid.", fields=errors)
    if changed:
        endpoint.save(update_fields=[*changed, "updated_at"])
        subscriptions_forget(endpoint.organization_id)
        after = {field: getattr(endpoint, field) for field in CHECKS}
        if changes := changes_of(before, after):
            _audit(endpoint, Action.WEBHOOK_ENDPOINT_CHANGED, changes)
    return endpoint


@transaction.atomic
def endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> str:
    """A new secret (shown this once); the old one signs as well for 24 hours."""
    secret = secret_new()
    endpoint.previous_secret_encrypted = endpoint.secret_encrypted
    endpoint.previous_secret_expires_at = timezone.now() + ROTATION_OVERLAP
    endpoint.secret_encrypted = encrypt(secret)
    endpoint.save(
        update_fields=[
            "previous_secret_encrypted",
            "previous_secret_expires_at",
            "secret_encrypted",
            "updated_at",
        ]
    )
    changes = {"secret": {"before": HIDDEN, "after": REPLACED}}
    _audit(endpoint, Action.WEBHOOK_ENDPOINT_CHANGED, changes)
    logger.info("webhook endpoint secret rotated: %s", endpoint.public_id)
    return secret


@transaction.atomic
def endpoint_disable(*, endpoint: WebhookEndpoint, reason: str = "") -> WebhookEndpoint:
    """No event is sent to it any more (its pending deliveries are given up as they come)."""
    if endpoint.disabled_at is None:
        endpoint.disabled_at = timezone.now()
        endpoint.disabled_reason = reason or "Disabled by an admin."
        endpoint.save(update_fields=["disabled_at", "disabled_reason", "updated_at"])
        subscriptions_forget(endpoint.organization_id)
        changes = {"enabled": {"before": True, "after": False}}
        _audit(endpoint, Action.WEBHOOK_ENDPOINT_CHANGED, changes)
    return endpoint


@transaction.atomic
def endpoint_enable(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Events are sent to it again from now on (the failures so far are forgotten)."""
    if endpoint.disabled_at is not None:
        endpoint.disabled_at, endpoint.disabled_reason, endpoint.failing_since = None, "", None
        endpoint.save(
            update_fields=["disabled_at", "disabled_reason", "failing_since", "updated_at"]
        )
        subscriptions_forget(endpoint.organization_id)
        changes = {"enabled": {"before": False, "after": True}}
        _audit(endpoint, Action.WEBHOOK_ENDPOINT_CHANGED, changes)
    return endpoint


@transaction.atomic
def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    organization_id = endpoint.organization_id
    before = {field: getattr(endpoint, field) for field in CHECKS}
    _audit(endpoint, Action.WEBHOOK_ENDPOINT_DELETED, changes_of(before, dict.fromkeys(before)))
    WebhookDelivery.objects.filter(endpoint=endpoint).delete()
    endpoint.delete()
    subscriptions_forget(organization_id)


def _disabled(endpoint: WebhookEndpoint) -> ConflictError:
    return ConflictError("This endpoint is disabled: enable it first.", code="endpoint_disabled")


@transaction.atomic
def endpoint_send_test(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A ``webhook.test`` event to this endpoint only, tried once the transaction commits."""
    if not endpoint.enabled:
        raise _disabled(endpoint)
    now = timezone.now()
    public_id = uuid.uuid4()
    data = {
        "endpoint": str(endpoint.public_id),
        "message": "A test event from SMS Hub. Answer with a 2xx status to accept it.",
    }
    event = WebhookEvent.objects.create(
        public_id=public_id,
        organization_id=endpoint.organization_id,
        type=TEST_EVENT,
        payload=payload_of(public_id, TEST_EVENT, now, data),
        created_at=now,
    )
    return _deliver_once(endpoint, event, now)


@transaction.atomic
def event_replay(*, endpoint: WebhookEndpoint, event: WebhookEvent) -> WebhookDelivery:
    """Sends this event to this endpoint again, with its own ``webhook-id``: a receiver
    that already has it ignores it."""
    if not endpoint.enabled:
        raise _disabled(endpoint)
    if event.organization_id != endpoint.organization_id:
        raise ApplicationError("No such event.")
    return _deliver_once(endpoint, event, timezone.now())


def _deliver_once(
    endpoint: WebhookEndpoint, event: WebhookEvent, now: datetime.datetime
) -> WebhookDelivery:
    (delivery_id,) = deliveries_create(
        organization_id=endpoint.organization_id,
        endpoint_ids=[endpoint.pk],
        event_ids=[event.pk],
        now=now,
    )
    wake_on_commit()
    return WebhookDelivery.objects.get(pk=delivery_id)
