"""Recording events in the outbox: what every room calls, in the transaction of its change.

``event_record`` / ``events_record`` write the event rows and one pending delivery per
endpoint subscribed to the type, with one insert each whatever the number of events, and
enqueue their delivery once the transaction commits. A rollback takes the events with it; a
worker that dies after the commit leaves pending rows the beat finds.

The hot paths (every status callback, every send) ask ``wanted`` first: the types the
organization's enabled endpoints want, kept in the process for ``LOCAL_TTL`` seconds (a
dictionary read: a Redis round trip per callback cost 0.27 ms), over the shared cache
(``SUBSCRIPTIONS_TTL``), over one query. A change of an endpoint forgets both at once in its
own process; the other processes see it within ``LOCAL_TTL`` (within ``SUBSCRIPTIONS_TTL``
with the per-process cache of a setup without Redis). Until then an endpoint just added, or a
type just chosen, misses the events of those seconds; one just removed or disabled costs a
query per event and gets none.
"""

from __future__ import annotations

import datetime
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection as db
from django.db import transaction
from django.utils import timezone

from tenants.bulk_insert import insert
from tenants.outbound.models import (
    DeliveryState,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    webhook_id,
)

SUBSCRIPTIONS_TTL = 300  # seconds, in the shared cache
LOCAL_TTL = 5.0  # seconds, in this process
_local: dict[int, tuple[float, frozenset[str]]] = {}
TASK_BATCH = 10  # deliveries per task: at worst 10 times 20 s of timeouts, under the limits


def _key(organization_id: int) -> str:
    return f"outbound:types:{organization_id}"


def subscribed_types(organization_id: int) -> frozenset[str]:
    """The event types some enabled endpoint of the organization wants (cached)."""
    now = time.monotonic()
    local = _local.get(organization_id)
    if local is not None and local[0] > now:
        return local[1]
    cached = cache.get(_key(organization_id))
    if cached is None:
        wanted: set[str] = set()
        for types in WebhookEndpoint.objects.filter(
            organization_id=organization_id, disabled_at__isnull=True
        ).values_list("event_types", flat=True):
            wanted.update(types or [])
        cached = sorted(wanted)
        cache.set(_key(organization_id), cached, SUBSCRIPTIONS_TTL)
    types = frozenset(cached)
    _local[organization_id] = (now + LOCAL_TTL, types)
    return types


def _forget(organization_id: int) -> None:
    _local.pop(organization_id, None)
    cache.delete(_key(organization_id))


def subscriptions_forget(organization_id: int) -> None:
    """After an endpoint changes: now, and again once its transaction commits (a reader
    in between may have cached the old state)."""
    _forget(organization_id)
    transaction.on_commit(lambda: _forget(organization_id))


def subscriptions_forget_all() -> None:
    """This process's copies (tests: organizations' ids come again after a rollback)."""
    _local.clear()


def wanted(organization_id: int, type: str) -> bool:
    """Whether an event of this type would go anywhere: callers that must read or
    serialize something to record it ask this first."""
    return type in subscribed_types(organization_id)


def payload_of(
    public_id: uuid.UUID, type: str, at: datetime.datetime, data: Mapping[str, Any]
) -> dict[str, Any]:
    """The body Standard Webhooks describes, ``data`` made plain JSON (ids and times as
    strings)."""
    return {
        "id": webhook_id(public_id),
        "type": type,
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "data": json.loads(json.dumps(data, cls=DjangoJSONEncoder)),
    }


def deliveries_enqueue(delivery_ids: Sequence[int]) -> None:
    """Once the transaction commits, tasks try these deliveries, ``TASK_BATCH`` each."""
    from tenants.outbound.tasks import deliver_webhooks  # tasks import services

    ids = list(delivery_ids)

    def enqueue() -> None:
        for start in range(0, len(ids), TASK_BATCH):
            deliver_webhooks.delay(ids[start : start + TASK_BATCH])

    if ids:
        transaction.on_commit(enqueue)


def _insert(model: Any, prototype: Any, varying: tuple[str, ...], rows: list[Any]) -> list[int]:
    """Inserts the rows (the first value of each a new public id); their ids."""
    if db.features.can_return_rows_from_bulk_insert:
        return [row[0] for row in insert(model, prototype, varying, rows, returning=("id",))]
    insert(model, prototype, varying, rows)
    keys = [row[0] for row in rows]
    found: list[int] = []
    for start in range(0, len(keys), 500):
        part = keys[start : start + 500]
        found += model.objects.filter(public_id__in=part).values_list("pk", flat=True)
    return found


def deliveries_create(
    *,
    organization_id: int,
    endpoint_ids: Sequence[int],
    event_ids: Sequence[int],
    now: datetime.datetime,
) -> list[int]:
    """A pending first attempt of each event at each endpoint, due now, in one insert."""
    prototype = WebhookDelivery(
        organization_id=organization_id,
        attempt=1,
        state=DeliveryState.PENDING,
        started_at=now,
        next_attempt_at=now,
        enqueued_at=now,
        created_at=now,
    )
    rows = [
        (uuid.uuid4(), endpoint_id, event_id)
        for event_id in event_ids
        for endpoint_id in endpoint_ids
    ]
    return _insert(WebhookDelivery, prototype, ("public_id", "endpoint_id", "event_id"), rows)


def events_record(
    *, organization_id: int, type: str, data: Sequence[Mapping[str, Any]]
) -> list[uuid.UUID]:
    """One event per item of ``data`` (each the resource as the API shows it), for every
    enabled endpoint of the organization subscribed to ``type``; the events' public ids
    (none when nothing wants them: nothing is written, and no query is made once the
    organization's types are cached)."""
    if not data or not wanted(organization_id, type):
        return []
    with transaction.atomic():
        endpoints = [
            pk
            for pk, types in WebhookEndpoint.objects.filter(
                organization_id=organization_id, disabled_at__isnull=True
            ).values_list("pk", "event_types")
            if type in (types or [])
        ]
        if not endpoints:
            return []
        now = timezone.now()
        rows = []
        for item in data:
            public_id = uuid.uuid4()
            rows.append((public_id, payload_of(public_id, type, now, item)))
        prototype = WebhookEvent(organization_id=organization_id, type=type, created_at=now)
        event_ids = _insert(WebhookEvent, prototype, ("public_id", "payload"), rows)
        delivery_ids = deliveries_create(
            organization_id=organization_id, endpoint_ids=endpoints, event_ids=event_ids, now=now
        )
        deliveries_enqueue(delivery_ids)
    return [public_id for public_id, _ in rows]


def event_record(*, organization_id: int, type: str, data: Mapping[str, Any]) -> uuid.UUID | None:
    """One event (see ``events_record``); its public id, or None when nothing wants it."""
    recorded = events_record(organization_id=organization_id, type=type, data=[data])
    return recorded[0] if recorded else None
