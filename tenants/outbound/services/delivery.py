"""Trying deliveries: the drain, the claim, the POSTs, the log of each attempt, the next try.

- **Drain.** A ``deliver_webhooks`` task claims due pending rows a batch at a time
  (``BATCH``), posts them, records them, and claims again until nothing has been due for
  ``events.DRAIN_LINGER`` (it looks every ``POLL_SECONDS``), or its budget is spent (then it
  asks for another drain and ends). Writers ask for a drain once their
  transaction commits (``events.wake``: one Redis ``SET NX``, so one task is published for a
  stream of events, not one per event); the beat asks too when something is due (retries,
  and rows of a task that was lost).
- **Claim.** Rows are taken with ``FOR UPDATE SKIP LOCKED`` and leased by moving their
  ``next_attempt_at`` ``LEASE`` ahead: two drains never hold the same row. A worker that dies
  mid-batch leaves its rows pending; they are due again when the lease runs out.
- **POSTs.** A batch is split into lanes, each one endpoint's deliveries over one kept-alive
  connection (``transport.Poster``), ``POSTERS`` lanes at a time in threads (a receiver's
  latency, not the worker's CPU, bounds a lane). No lane starts a POST later than
  ``POST_DEADLINE`` after the claim, so that every POST ends within the lease; the rows left
  are released, due at once. After an attempt that got no answer at all, the rest of that
  endpoint's deliveries in the lane are failed without trying (and retried on the schedule):
  a receiver that is down costs one timeout per lane, not one per event.
- **Outcome**, in one transaction per batch: each attempt's status, duration, first 1 KB and
  error on its row (successes with one UPDATE per distinct answer); a 2xx is ``succeeded``;
  anything else is ``failed`` with the next attempt as a new pending row after ``SCHEDULE``
  (Standard Webhooks' suggestion: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h), or ``given_up``
  when that would fall more than 24 hours (``GIVE_UP_AFTER``) after the first attempt was due.
- **Failing endpoints.** ``failing_since`` is the first failure since the last success; an
  endpoint failing for 3 days (``DISABLE_AFTER``) is disabled with the reason, and its
  organization's owners and admins are e-mailed.

Delivery is at least once: a receiver dedupes on ``webhook-id``.
"""

from __future__ import annotations

import datetime
import logging
import math
import time
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from django.db import connection as db
from django.db import transaction
from django.utils import timezone

from tenants.outbound import transport
from tenants.outbound.models import (
    DeliveryState,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from tenants.outbound.services import events
from tenants.outbound.services.events import (
    payload_rendered,
    subscriptions_forget,
    wake,
    wake_clear,
)

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
# The last moment a lane may start a POST: one POST takes at most twice TIMEOUT.
POST_DEADLINE = LEASE.total_seconds() - 2 * transport.TIMEOUT - 5
BATCH = 100  # rows claimed at a time (SQLite's 999 parameters are far)
POSTERS = 8  # lanes posting at once in one drain
BUDGET_SECONDS = 120.0  # a drain's run before it hands over to a new task
POLL_SECONDS = 0.05  # between a lingering drain's looks
NOT_TRIED = "Not tried: the endpoint did not answer the attempt before it."


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


def _claim_due(now: datetime.datetime, limit: int) -> list[int]:
    """Up to ``limit`` due pending rows no other drain holds, leased to this one."""
    with transaction.atomic():
        ids = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(state=DeliveryState.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            WebhookDelivery.objects.filter(pk__in=ids).update(next_attempt_at=now + LEASE)
    return ids


Outcome = tuple[WebhookDelivery, transport.Answer | None]  # None: not tried, released


def _lane(
    endpoint: WebhookEndpoint,
    deliveries: Sequence[WebhookDelivery],
    now: datetime.datetime,
    deadline: float,
) -> list[Outcome]:
    """Posts these deliveries to their endpoint in turn, over one connection. No database
    access here: lanes run in threads."""
    if not endpoint.enabled:
        disabled = transport.Answer(None, 0, error="Not sent: the endpoint is disabled.")
        return [(delivery, disabled) for delivery in deliveries]
    outcomes: list[Outcome] = []
    secrets = endpoint.secrets(now)
    poster = transport.Poster(endpoint.url)
    unanswered: transport.Answer | None = None
    try:
        for delivery in deliveries:
            if unanswered is not None:
                outcomes.append((delivery, transport.Answer(None, 0, error=NOT_TRIED)))
                continue
            if time.monotonic() > deadline:
                outcomes.append((delivery, None))
                continue
            answer = poster.post(
                body=transport.body_of(delivery.event.payload),
                secrets=secrets,
                webhook_id=delivery.event.webhook_id,
                at=now,
            )
            outcomes.append((delivery, answer))
            if answer.status_code is None and not poster.refused:
                unanswered = answer
    finally:
        poster.close()
    return outcomes


def _lanes(deliveries: Sequence[WebhookDelivery]) -> list[list[WebhookDelivery]]:
    """Each endpoint's deliveries, split so that a batch makes about ``POSTERS`` lanes."""
    by_endpoint: dict[int, list[WebhookDelivery]] = defaultdict(list)
    for delivery in deliveries:
        by_endpoint[delivery.endpoint_id].append(delivery)
    size = max(1, math.ceil(len(deliveries) / POSTERS))
    return [
        group[start : start + size]
        for group in by_endpoint.values()
        for start in range(0, len(group), size)
    ]


def _attempt(
    ids: Sequence[int], now: datetime.datetime, pool: ThreadPoolExecutor | None
) -> dict[int, str]:
    """Posts and records the claimed rows ``ids``; each tried row's new state."""
    deliveries = list(WebhookDelivery.objects.select_related("event").filter(pk__in=list(ids)))
    # Each endpoint read once, not once per delivery: a batch's deliveries share a few.
    endpoints = WebhookEndpoint.objects.in_bulk({d.endpoint_id for d in deliveries})
    for delivery in deliveries:
        delivery.endpoint = endpoints[delivery.endpoint_id]
    _render(deliveries)
    deadline = time.monotonic() + POST_DEADLINE
    lanes = _lanes(deliveries)
    if pool is None or len(lanes) == 1:
        results = [_lane(lane[0].endpoint, lane, now, deadline) for lane in lanes]
    else:
        futures = [pool.submit(_lane, lane[0].endpoint, lane, now, deadline) for lane in lanes]
        results = [future.result() for future in futures]
    outcomes = [outcome for result in results for outcome in result]
    states = _record(outcomes, now)
    for delivery, answer in outcomes:
        if answer is not None and not answer.succeeded:
            logger.info(
                "webhook %s %s to endpoint %s: attempt %s failed: %s (%s ms)",
                delivery.event.type,
                delivery.event.webhook_id,
                delivery.endpoint.public_id,
                delivery.attempt,
                answer.status_code or answer.error[:80],
                answer.duration_ms,
            )
    return states


def _render(deliveries: Sequence[WebhookDelivery]) -> None:
    """Events recorded as a snapshot of a row are rendered (once per event, whichever of its
    deliveries comes first) and stored rendered."""
    rendered: dict[int, WebhookEvent] = {}
    for delivery in deliveries:
        event = rendered.get(delivery.event_id)
        if event is not None:
            delivery.event = event
            continue
        payload, changed = payload_rendered(delivery.event)
        if changed:
            delivery.event.payload = payload
            rendered[delivery.event_id] = delivery.event
    if rendered:
        WebhookEvent.objects.bulk_update(list(rendered.values()), ["payload"])


@transaction.atomic
def _record(outcomes: Sequence[Outcome], now: datetime.datetime) -> dict[int, str]:
    states: dict[int, str] = {}
    succeeded: list[tuple[int, transport.Answer]] = []
    released: list[int] = []
    for delivery, answer in outcomes:
        if answer is None:
            released.append(delivery.pk)
        elif answer.succeeded:
            succeeded.append((delivery.pk, answer))
            states[delivery.pk] = DeliveryState.SUCCEEDED
        else:
            states[delivery.pk] = _record_failure(
                delivery, answer, now, retry=delivery.endpoint.enabled
            )
    _record_successes(succeeded, now)
    answered = {d.endpoint_id for d, a in outcomes if a is not None and a.succeeded}
    if answered:
        WebhookEndpoint.objects.filter(pk__in=answered, failing_since__isnull=False).update(
            failing_since=None, updated_at=now
        )
    if released:
        WebhookDelivery.objects.filter(pk__in=released).update(next_attempt_at=now)
    return states


def _record_successes(
    succeeded: Sequence[tuple[int, transport.Answer]], now: datetime.datetime
) -> None:
    """On PostgreSQL one UPDATE from arrays for the batch (durations differ row by row: one
    UPDATE per distinct answer was 26 statements a batch); elsewhere one per distinct
    answer."""
    if not succeeded:
        return
    if db.vendor == "postgresql":
        table = db.ops.quote_name(WebhookDelivery._meta.db_table)
        with db.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS delivery SET state = %s, next_attempt_at = NULL,"  # noqa: S608
                " attempted_at = %s, status_code = answer.status_code,"
                " duration_ms = answer.duration_ms, response_body = answer.body, error = ''"
                " FROM unnest(%s::bigint[], %s::int[], %s::int[], %s::text[])"
                " AS answer(id, status_code, duration_ms, body) WHERE delivery.id = answer.id",
                [
                    DeliveryState.SUCCEEDED.value,
                    now,
                    [pk for pk, _ in succeeded],
                    [a.status_code for _, a in succeeded],
                    [a.duration_ms for _, a in succeeded],
                    [a.body for _, a in succeeded],
                ],
            )
        return
    groups: dict[tuple[int | None, int, str], list[int]] = defaultdict(list)
    for pk, answer in succeeded:
        groups[(answer.status_code, answer.duration_ms, answer.body)].append(pk)
    for (status_code, duration_ms, body), ids in groups.items():
        WebhookDelivery.objects.filter(pk__in=ids).update(
            state=DeliveryState.SUCCEEDED,
            next_attempt_at=None,
            attempted_at=now,
            status_code=status_code,
            duration_ms=duration_ms,
            response_body=body,
            error="",
        )


def _record_failure(
    delivery: WebhookDelivery, answer: transport.Answer, now: datetime.datetime, *, retry: bool
) -> str:
    if retry:
        WebhookEndpoint.objects.filter(pk=delivery.endpoint_id, failing_since__isnull=True).update(
            failing_since=now, updated_at=now
        )
        retry = not _disable_if_failing(delivery.endpoint_id, now)
    due = next_attempt_at(delivery, now) if retry else None
    state: str = DeliveryState.FAILED if due else DeliveryState.GIVEN_UP
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


def delivery_attempt(delivery_id: int, *, now: datetime.datetime | None = None) -> str | None:
    """Tries one delivery if it is still pending and due; its new state, or None when it was
    not this call's to try."""
    now = now or timezone.now()
    if not _claim(delivery_id, now):
        return None
    return _attempt([delivery_id], now, None).get(delivery_id)


def deliveries_drain(*, budget_seconds: float = BUDGET_SECONDS, batch: int = BATCH) -> int:
    """The ``deliver_webhooks`` task: due rows a batch at a time until none has been due for
    ``DRAIN_LINGER``, or the budget is spent (another drain is asked for then). How many were
    tried."""
    wake_clear()  # from here on a writer's commit asks for another drain
    began, tried = time.monotonic(), 0
    idle_since: float | None = None
    with ThreadPoolExecutor(max_workers=POSTERS, thread_name_prefix="webhooks") as pool:
        while True:
            if time.monotonic() - began > budget_seconds:
                wake()
                break
            now = timezone.now()
            ids = _claim_due(now, batch)
            if ids:
                idle_since = None
                tried += len(_attempt(ids, now, pool))
                continue
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since >= events.DRAIN_LINGER:
                break
            time.sleep(POLL_SECONDS)
    if tried:
        logger.info("webhooks: %s deliveries tried", tried)
    return tried


def deliveries_due(*, now: datetime.datetime | None = None) -> bool:
    """The beat's pass: asks for a drain when a pending row is due (a retry, or the rows of a
    drain that was lost); whether one was."""
    now = now or timezone.now()
    due = WebhookDelivery.objects.filter(
        state=DeliveryState.PENDING, next_attempt_at__lte=now
    ).exists()
    if due:
        wake()
    return due
