"""Retention: messages (and their events) older than their organization's retention period
are deleted, in batches, by a nightly beat task and ``manage.py delete_expired_messages``.

Dedupe keys stay (their message link is cleared), so retention never reopens a "once per
contact" that was used up.
"""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.utils import timezone

from messaging.models import Message
from tenants.models import Organization

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000


def messages_delete_expired(
    *, batch_size: int = BATCH_SIZE, now: datetime.datetime | None = None
) -> int:
    """Deletes what each organization's ``message_retention_days`` no longer keeps. Each batch
    is its own transaction, so a long run never holds locks for long. Returns the count."""
    now = now or timezone.now()
    total = 0
    for organization_id, days in Organization.objects.values_list(
        "pk", "message_retention_days"
    ).order_by("pk"):
        cutoff = now - datetime.timedelta(days=days)
        deleted = 0
        while True:
            batch = list(
                Message.objects.filter(organization_id=organization_id, created_at__lt=cutoff)
                .order_by("created_at")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not batch:
                break
            with transaction.atomic():
                Message.objects.filter(pk__in=batch).delete()  # events go with them
            deleted += len(batch)
        if deleted:
            logger.info(
                "retention: %d messages older than %d days deleted for organization %s",
                deleted,
                days,
                organization_id,
            )
        total += deleted
    return total
