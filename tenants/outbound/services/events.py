"""Recording events in the outbox: what every room calls, in the transaction of its change.

``event_record`` / ``events_record`` write the event rows and one pending delivery per
endpoint subscribed to the type (on PostgreSQL in one statement whatever the number of events
and endpoints, about 0.3 ms for one), and ask for a drain once the transaction commits
(``wake``). A rollback takes the events with it; a worker that dies after the commit leaves
pending rows the beat finds.

The busiest writer, the status callback, records its event inside its own statement on
PostgreSQL (``snapshot_ctes``): the event holds a snapshot of the row as the statement left it
(``{"snapshot": {"kind", "row"}}``), which the first drain to take it renders into the resource
as the API shows it (``payload_rendered``, with the renderer the owning room registered) and
stores. Serializing in the callback meant a read of the row, a transaction and a second
statement: 7 ms; this adds no round trip.

``wake`` publishes a ``deliver_webhooks`` task only when none is waiting to start: a Redis
``SET NX`` (``cache.add``) of ``WAKE_KEY``, which the drain deletes as it starts, before it
reads. A commit while a drain runs publishes the next one; commits while one waits publish
nothing (it will read their rows). Were the task lost, the key lapses after ``WAKE_TTL`` and
the beat's pass (every 10 s) asks again.

A process that asked less than ``WAKE_SKIP`` ago does not ask again (a Redis round trip per
event cost 0.35 ms): a drain that finds nothing due keeps looking for ``DRAIN_LINGER`` (at
least ``WAKE_SKIP``) before it ends. The drain asked for, or found waiting, at that last ask
starts after it, so it looks for the last time later than ``DRAIN_LINGER`` after it, when
every row committed within ``WAKE_SKIP`` of it is there to be read.

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
import functools
import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar

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

logger = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")

SUBSCRIPTIONS_TTL = 300  # seconds, in the shared cache
LOCAL_TTL = 5.0  # seconds, in this process
_local: dict[int, tuple[float, frozenset[str]]] = {}
WAKE_KEY = "outbound:drain-asked"
WAKE_TTL = 10  # seconds
WAKE_SKIP = 0.5  # seconds
DRAIN_LINGER = 1.0  # seconds, at least WAKE_SKIP
_asked_at = -WAKE_SKIP  # time.monotonic() of this process's last ask


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


def in_utc(func: Callable[P, R]) -> Callable[P, R]:
    """For the rooms' functions that serialize an event's resource: it is written as the API
    answers it, in UTC, whatever zone a page's request made current."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with timezone.override(datetime.UTC):
            return func(*args, **kwargs)

    return wrapper


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


# --- Events recorded as a snapshot of a row, rendered when first delivered ---------------------

SNAPSHOT = "snapshot"
Renderer = Callable[[Mapping[str, Any]], Mapping[str, Any]]
_renderers: dict[str, Renderer] = {}


def renderer_register(kind: str, render: Renderer) -> None:
    """``render``: a row snapshot of this kind (column names and JSON values, as
    ``to_jsonb`` gives them) to the resource as the API shows it."""
    _renderers[kind] = render


def payload_rendered(event: WebhookEvent) -> tuple[dict[str, Any], bool]:
    """The event's payload, rendered from its snapshot if it holds one; whether it did."""
    payload = event.payload
    snapshot = payload.get(SNAPSHOT) if isinstance(payload, dict) else None
    if snapshot is None:
        return payload, False
    data = _renderers[snapshot["kind"]](snapshot["row"])
    return payload_of(event.public_id, event.type, event.created_at, data), True


def snapshot_ctes(
    *, source: str, row: str, organization_id: int, type: str, kind: str, now: Any
) -> tuple[str, list[Any]]:
    """Two CTEs (``outbox_event``, ``outbox_delivery``) to put after the caller's own in its
    statement: an event for each row of the CTE ``source``, its payload the snapshot made by
    the SQL expression ``row`` over it, and its pending deliveries to the organization's
    enabled endpoints subscribed to ``type``. PostgreSQL only. The caller asks for a drain
    once it commits (``wake_on_commit``)."""
    quote = db.ops.quote_name
    event, endpoint = (quote(model._meta.db_table) for model in (WebhookEvent, WebhookEndpoint))
    # Names from the models, quoted, and the caller's SQL; every value is a parameter.
    sql = f"""
        outbox_event AS (
            INSERT INTO {event} (public_id, organization_id, type, payload, created_at)
            SELECT gen_random_uuid(), %s, %s,
                jsonb_build_object(
                    '{SNAPSHOT}', jsonb_build_object('kind', %s::text, 'row', {row})
                ),
                %s
            FROM {source}
            RETURNING id
        ),
        outbox_delivery AS ({_deliveries_sql(event="outbox_event", endpoint=endpoint)})
    """  # noqa: S608
    params = [organization_id, type, kind, now, *_deliveries_params(organization_id, type, now)]
    return sql, params


def _deliveries_sql(*, event: str, endpoint: str) -> str:
    delivery = db.ops.quote_name(WebhookDelivery._meta.db_table)
    return f"""
        INSERT INTO {delivery} (
            public_id, organization_id, endpoint_id, event_id, attempt, state, started_at,
            next_attempt_at, attempted_at, status_code, duration_ms, response_body, error,
            created_at
        )
        SELECT gen_random_uuid(), %s, endpoint.id, {event}.id, 1, %s, %s, %s,
            NULL, NULL, NULL, '', '', %s
        FROM {event} CROSS JOIN {endpoint} AS endpoint
        WHERE endpoint.organization_id = %s AND endpoint.disabled_at IS NULL
            AND endpoint.event_types @> %s::jsonb
    """  # noqa: S608


def _deliveries_params(organization_id: int, type: str, now: Any) -> list[Any]:
    pending = DeliveryState.PENDING.value
    return [organization_id, pending, now, now, now, organization_id, json.dumps([type])]


def wake() -> None:
    """Asks for a drain unless one is asked for and has not started yet (or this process
    asked within ``WAKE_SKIP``)."""
    from tenants.outbound.tasks import deliver_webhooks  # tasks import services

    global _asked_at
    now = time.monotonic()
    if now - _asked_at < WAKE_SKIP:
        return
    try:
        if cache.add(WAKE_KEY, 1, WAKE_TTL):
            deliver_webhooks.delay()
    except Exception:  # the rows are committed: the beat's pass finds them
        logger.warning("webhooks: could not ask for a drain; the beat will", exc_info=True)
        cache.delete(WAKE_KEY)
        return
    _asked_at = now


def wake_clear() -> None:
    cache.delete(WAKE_KEY)


def wake_on_commit() -> None:
    transaction.on_commit(wake)


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
    now = timezone.now()
    rows = []
    for item in data:
        public_id = uuid.uuid4()
        rows.append((public_id, payload_of(public_id, type, now, item)))
    if db.vendor == "postgresql":
        _record_postgresql(organization_id, type, rows, now)
    else:
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
            prototype = WebhookEvent(organization_id=organization_id, type=type, created_at=now)
            event_ids = _insert(WebhookEvent, prototype, ("public_id", "payload"), rows)
            deliveries_create(
                organization_id=organization_id,
                endpoint_ids=endpoints,
                event_ids=event_ids,
                now=now,
            )
    wake_on_commit()
    return [public_id for public_id, _ in rows]


def _record_postgresql(
    organization_id: int, type: str, rows: Sequence[tuple[uuid.UUID, Any]], now: datetime.datetime
) -> None:
    """The events and their deliveries in one statement (an event no endpoint takes any
    more, since the types were cached, is written without a delivery: retention deletes it)."""
    quote = db.ops.quote_name
    event, endpoint = (quote(model._meta.db_table) for model in (WebhookEvent, WebhookEndpoint))
    # Names from the models, quoted; every value is a parameter.
    sql = f"""
        WITH event AS (
            INSERT INTO {event} (public_id, organization_id, type, payload, created_at)
            SELECT (row->>0)::uuid, %s, %s, row->1, %s
            FROM jsonb_array_elements(%s::jsonb) AS row
            RETURNING id
        )
        {_deliveries_sql(event="event", endpoint=endpoint)}
    """  # noqa: S608
    encoded = json.dumps([[str(key), payload] for key, payload in rows], cls=DjangoJSONEncoder)
    with db.cursor() as cursor:
        cursor.execute(
            sql,
            [organization_id, type, now, encoded, *_deliveries_params(organization_id, type, now)],
        )


def event_record(*, organization_id: int, type: str, data: Mapping[str, Any]) -> uuid.UUID | None:
    """One event (see ``events_record``); its public id, or None when nothing wants it."""
    recorded = events_record(organization_id=organization_id, type=type, data=[data])
    return recorded[0] if recorded else None
