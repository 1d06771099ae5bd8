"""Events and their attempts are kept 30 days, then deleted a batch at a time (nightly)."""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tenants.outbound.models import DeliveryState, WebhookDelivery, WebhookEvent

logger = logging.getLogger(__name__)

KEEP = datetime.timedelta(days=30)
BATCH = 500


def webhook_events_purge(*, now: datetime.datetime | None = None) -> int:
    """Deletes events older than ``KEEP`` with their attempts (never one still pending)."""
    cutoff = (now or timezone.now()) - KEEP
    pending = WebhookDelivery.objects.filter(state=DeliveryState.PENDING).values("event_id")
    old = WebhookEvent.objects.filter(Q(created_at__lt=cutoff) & ~Q(pk__in=pending))
    total = 0
    while True:
        ids = list(old.values_list("pk", flat=True)[:BATCH])
        if not ids:
            break
        with transaction.atomic():
            WebhookDelivery.objects.filter(event_id__in=ids).delete()
            WebhookEvent.objects.filter(pk__in=ids).delete()
        total += len(ids)
    if total:
        logger.info("webhooks: %s events over %s days old deleted", total, KEEP.days)
    return total
