"""Trying deliveries: the claim, the POST, the log of the attempt, the next try.

- **Claim.** A pending row due now is taken by moving its ``next_attempt_at`` a lease ahead
  (``LEASE``) in one conditional update: of two workers, one gets it. A worker that dies
  mid-attempt leaves the row pending; it is due again when the lease runs out.
- **Outcome**, in one transaction: the attempt's status, duration, first 1 KB and error on its
  row; a 2xx is ``succeeded``; anything else is ``failed`` with the next attempt as a new
  pending row after ``SCHEDULE`` (Standard Webhooks' suggestion: 5 s, 5 min, 30 min, 2 h, 5 h,
  10 h, 10 h), or ``given_up`` when that would fall more than 24 hours (``GIVE_UP_AFTER``)
  after the first attempt was due.
- **Failing endpoints.** ``failing_since`` is the first failure since the last success; an
  endpoint failing for 3 days (``DISABLE_AFTER``) is disabled with the reason, and its
  organization's owners and admins are e-mailed.
- **Beat** (``deliveries_due``) hands due rows no task holds to tasks; nothing waits in a
  Celery countdown. Delivery is at least once: a receiver dedupes on ``webhook-id``.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tenants.outbound import transport
from tenants.outbound.models import DeliveryState, WebhookDelivery, WebhookEndpoint
from tenants.outbound.services.events import TASK_BATCH, subscriptions_forget

logger = logging.getLogger(__name__)

SCHEDULE = (
    datetime.timedelta(seconds=5),
    datetime.timedelta(minutes=5),
    datetime.timedelta(minutes=30),
    datetime.timedelta(hours=2),
    datetime.timedelta(hours=5),
    datetime.timedelta(hours=10),
    datetime.timedelta(hours=10),
)
GIVE_UP_AFTER = datetime.timedelta(hours=24)
DISABLE_AFTER = datetime.timedelta(days=3)
LEASE = datetime.timedelta(seconds=60)
STALE_ENQUEUE = datetime.timedelta(minutes=2)
DUE_LIMIT = 500  # one statement marks them: within SQLite's 999 parameters
BUDGET_SECONDS = 120.0


def next_attempt_at(delivery: WebhookDelivery, at: datetime.datetime) -> datetime.datetime | None:
    """When to try again after this attempt failed at ``at``; None: give up."""
    if delivery.attempt > len(SCHEDULE):
        return None
    due = at + SCHEDULE[delivery.attempt - 1]
    return due if due <= delivery.started_at + GIVE_UP_AFTER else None


def _claim(delivery_id: int, now: datetime.datetime) -> bool:
    return bool(
        WebhookDelivery.objects.filter(
            pk=delivery_id, state=DeliveryState.PENDING, next_attempt_at__lte=now
        ).update(next_attempt_at=now + LEASE)
    )


def delivery_attempt(delivery_id: int, *, now: datetime.datetime | None = None) -> str | None:
    """Tries one delivery if it is still pending and due; its new state, or None when it was
    not this call's to try."""
    now = now or timezone.now()
    if not _claim(delivery_id, now):
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint", "event").get(pk=delivery_id)
    endpoint, event = delivery.endpoint, delivery.event
    if not endpoint.enabled:
        answer = transport.Answer(None, 0, error="Not sent: the endpoint is disabled.")
    else:
        answer = transport.post(
            url=endpoint.url,
            body=transport.body_of(event.payload),
            secrets=endpoint.secrets(now),
            webhook_id=event.webhook_id,
            at=now,
        )
    state = _record(delivery, answer, now, retry=endpoint.enabled)
    logger.info(
        "webhook %s %s to endpoint %s: attempt %s %s (%s ms)",
        event.type,
        event.webhook_id,
        endpoint.public_id,
        delivery.attempt,
        answer.status_code or answer.error[:80],
        answer.duration_ms,
    )
    return state


@transaction.atomic
def _record(
    delivery: WebhookDelivery, answer: transport.Answer, now: datetime.datetime, *, retry: bool
) -> str:
    endpoints = WebhookEndpoint.objects.filter(pk=delivery.endpoint_id)
    if answer.succeeded:
        state: str = DeliveryState.SUCCEEDED
        endpoints.filter(failing_since__isnull=False).update(failing_since=None, updated_at=now)
    else:
        if retry:
            endpoints.filter(failing_since__isnull=True).update(failing_since=now, updated_at=now)
            retry = not _disable_if_failing(delivery.endpoint_id, now)
        due = next_attempt_at(delivery, now) if retry else None
        state = DeliveryState.FAILED if due else DeliveryState.GIVEN_UP
        if due:
            WebhookDelivery.objects.create(
                organization_id=delivery.organization_id,
                endpoint_id=delivery.endpoint_id,
                event_id=delivery.event_id,
                attempt=delivery.attempt + 1,
                started_at=delivery.started_at,
                next_attempt_at=due,
                created_at=now,
            )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=state,
        next_attempt_at=None,
        attempted_at=now,
        status_code=answer.status_code,
        duration_ms=answer.duration_ms,
        response_body=answer.body,
        error=answer.error[:300],
    )
    return state


def _disable_if_failing(endpoint_id: int, now: datetime.datetime) -> bool:
    """Disables the endpoint if it has been failing for 3 days; whether it did."""
    from tenants.outbound.services.notify import endpoint_disabled_notify

    endpoint = (
        WebhookEndpoint.objects.select_for_update()
        .filter(pk=endpoint_id, disabled_at__isnull=True, failing_since__lte=now - DISABLE_AFTER)
        .first()
    )
    if endpoint is None or endpoint.failing_since is None:
        return False
    endpoint.disabled_at = now
    endpoint.disabled_reason = (
        "Disabled automatically: every attempt has failed since "
        f"{endpoint.failing_since:%Y-%m-%d %H:%M} UTC (3 days)."
    )
    endpoint.save(update_fields=["disabled_at", "disabled_reason", "updated_at"])
    subscriptions_forget(endpoint.organization_id)
    logger.warning("webhook endpoint %s disabled: failing for 3 days", endpoint.public_id)
    transaction.on_commit(lambda: endpoint_disabled_notify(endpoint_id=endpoint_id))
    return True


def deliveries_attempt(
    delivery_ids: Sequence[int], *, budget_seconds: float = BUDGET_SECONDS
) -> int:
    """Tries these deliveries in turn until the budget is spent; the rest stay pending
    (enqueued: the beat hands them on after ``STALE_ENQUEUE``). How many were tried."""
    began, tried = time.monotonic(), 0
    for delivery_id in delivery_ids:
        if time.monotonic() - began > budget_seconds:
            break
        if delivery_attempt(delivery_id) is not None:
            tried += 1
    return tried


def deliveries_due(*, now: datetime.datetime | None = None, limit: int = DUE_LIMIT) -> int:
    """The beat's pass: due pending rows no task holds (never enqueued, or enqueued over 2
    minutes ago and still pending) are stamped and handed to tasks. How many."""
    from tenants.outbound.tasks import deliver_webhooks

    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(state=DeliveryState.PENDING, next_attempt_at__lte=now)
            .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - STALE_ENQUEUE))
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:limit]
        )
        if not due:
            return 0
        WebhookDelivery.objects.filter(pk__in=due).update(enqueued_at=now)

        def enqueue() -> None:
            for start in range(0, len(due), TASK_BATCH):
                deliver_webhooks.delay(due[start : start + TASK_BATCH])

        transaction.on_commit(enqueue)
    logger.info("webhooks: %s due deliveries handed to workers", len(due))
    return len(due)
