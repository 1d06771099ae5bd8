"""Outbound webhooks for real: what the outbox adds to the write that causes an event, and
whether one ``default`` worker keeps up with 500 events per second to a local receiver.

Creates a scratch PostgreSQL database (``test_<name>_webhooks`` next to ``DATABASE_URL``'s;
``postgres://postgres@127.0.0.1:5432/smshub`` when unset, created if missing) and flushes Redis
database 9 (broker and ``REDIS_URL``). Every process runs the production settings (``DEBUG``
off), with ``OUTBOUND_WEBHOOKS_ALLOW_PRIVATE`` on so that an endpoint may be on 127.0.0.1.

1. **The outbox's cost**, in this process: signed status callbacks applied as the web does
   (``status_callback_apply``: read, signature, one write), each moving a different message
   from ``queued`` to ``delivered``; alternating rounds with the organization's one endpoint
   disabled and enabled (subscribed to ``message.status_changed``: the event, its delivery
   row and the drain asked for on commit, all inside the call). The figure is the difference
   of the medians.
2. **Delivery**: ``bench.webhook_receiver`` (an asyncio process answering 204 at once) and one
   Celery worker as docker-compose runs it (``-Q default -P prefork -c 2``). This process
   records ``message.status_changed`` events at ``--rate`` per second for ``--seconds``, in
   writes of ``--per-write`` events (one transaction each, as the callbacks, a bulk change or
   an import write them). Figures: events delivered per second over the run (the first event
   written to the last one received), the time from each event's write to its arrival (median,
   p95, max), the deliveries still pending when the writing stopped, CPU per delivery of the
   worker, PostgreSQL and the receiver, duplicates (``webhook-id`` received twice), lost
   (events without a succeeded delivery 60 s after the writing stopped), bad signatures (every
   50th request verified with ``standardwebhooks``).

    .venv/bin/python -m bench.webhooks [--rate 500] [--seconds 20] [--per-write 1]
    .venv/bin/python -m bench.webhooks --smoke   # a tenth: 2 s, 200 callbacks in part 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from typing import Any

REDIS = "redis://127.0.0.1:6379/9"
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/smshub")
os.environ["CELERY_BROKER_URL"] = os.environ["REDIS_URL"] = REDIS
os.environ["DEBUG"] = "false"
os.environ["OUTBOUND_WEBHOOKS_ALLOW_PRIVATE"] = "true"
os.environ["PUBLIC_BASE_URL"] = "https://bench.example.com"
os.environ["ALLOWED_HOSTS"] = "127.0.0.1"
os.environ["PYTHONUNBUFFERED"] = "1"

import redis  # noqa: E402
from django.db import connection, transaction  # noqa: E402

# bench.pages sets Django up: it comes before any model.
from bench.cpu import PostgresCPU, postmaster_pid, tree_cpu  # noqa: E402
from bench.pages import machine  # noqa: E402
from bench.results import Figure, git_commit, write  # noqa: E402
from bench.stack import (  # noqa: E402
    free_port,
    get_json,
    print_log_problems,
    scratch_stack,
    start,
    start_worker,
    stop,
    wait_for_port,
)
from bench.twilio_rows import delivered_callback, queued_messages  # noqa: E402
from messaging.models import Message  # noqa: E402
from messaging.serializers import MessageSerializer  # noqa: E402
from messaging.services.webhooks import status_callback_apply  # noqa: E402
from tenants.models import Organization  # noqa: E402
from tenants.outbound.models import DeliveryState, WebhookDelivery, WebhookEndpoint  # noqa: E402
from tenants.outbound.services import events_record  # noqa: E402
from tenants.outbound.services.endpoints import (  # noqa: E402
    endpoint_create,
    endpoint_disable,
    endpoint_enable,
)

STATUS_CHANGED = "message.status_changed"
ROUNDS = 6
DRAIN_S = 60.0  # after the writing stopped, for the last deliveries


# --- 1. What the outbox adds to a status callback --------------------------------------------


def callback_args(message: Message) -> dict[str, Any]:
    path, params, signature = delivered_callback(message)
    return {"public_id": message.public_id, "path": path, "params": params, "signature": signature}


def timed_callbacks(messages: list[Message]) -> list[float]:
    """Milliseconds of each ``status_callback_apply``, one message each."""
    times = []
    for message in messages:
        args = callback_args(message)
        began = time.perf_counter()
        status_callback_apply(**args)
        times.append((time.perf_counter() - began) * 1000)
    return times


def outbox_cost(endpoint: WebhookEndpoint, messages: list[Message]) -> dict[str, float]:
    """Alternating rounds without and with the endpoint subscribed: medians in ms."""
    per_round = len(messages) // (2 * ROUNDS)
    without: list[float] = []
    with_event: list[float] = []
    for n in range(2 * ROUNDS):
        part = messages[n * per_round : (n + 1) * per_round]
        subscribed = n % 2 == 1
        if subscribed:
            endpoint_enable(endpoint=endpoint)
        else:
            endpoint_disable(endpoint=endpoint)
        timed = timed_callbacks(part)
        (with_event if subscribed else without).extend(timed[5:])  # the first few warm caches
    events = WebhookDelivery.objects.filter(endpoint=endpoint).count()
    if events != per_round * ROUNDS:
        raise SystemExit(
            f"the subscribed rounds wrote {events} deliveries, not {per_round * ROUNDS}"
        )
    WebhookDelivery.objects.filter(endpoint=endpoint).delete()
    redis.Redis.from_url(REDIS).flushdb()  # the tasks published: no worker runs yet
    return {
        "without_ms": statistics.median(without),
        "with_ms": statistics.median(with_event),
        "without_p95_ms": statistics.quantiles(without, n=20)[-1],
        "with_p95_ms": statistics.quantiles(with_event, n=20)[-1],
    }


# --- 2. Delivery at a rate --------------------------------------------------------------------


def write_events(
    organization: Organization, data: dict[str, Any], rate: int, seconds: float, per_write: int
) -> tuple[float, float, int]:
    """Records ``rate`` events a second for ``seconds``, ``per_write`` per transaction, on a
    fixed schedule (a late write is caught up, not dropped); (start, end, events)."""
    interval = per_write / rate
    total = int(rate * seconds) // per_write * per_write
    began = time.time()
    for n in range(total // per_write):
        due = began + n * interval
        pause = due - time.time()
        if pause > 0:
            time.sleep(pause)
        with transaction.atomic():
            events_record(
                organization_id=organization.pk, type=STATUS_CHANGED, data=[data] * per_write
            )
    return began, time.time(), total


def pending() -> int:
    return WebhookDelivery.objects.filter(state=DeliveryState.PENDING).count()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=500, help="events written per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long they are written")
    parser.add_argument("--per-write", type=int, default=1, help="events per transaction")
    parser.add_argument("--callbacks", type=int, default=2400, help="part 1's status callbacks")
    parser.add_argument("--concurrency", type=int, default=2, help="the default worker's")
    parser.add_argument("--smoke", action="store_true", help="a tenth: 2 s, 240 callbacks")
    options = parser.parse_args()
    if options.smoke:
        options.seconds, options.callbacks = options.seconds / 10, options.callbacks // 10
    with scratch_stack("webhooks", REDIS) as (logs, children):
        organization, messages = queued_messages(options.callbacks)
        port = free_port()
        endpoint, secret = endpoint_create(
            organization=organization,
            url=f"http://127.0.0.1:{port}/hooks",
            event_types=[STATUS_CHANGED],
        )
        cost = outbox_cost(endpoint, messages)
        added = cost["with_ms"] - cost["without_ms"]
        print(
            f"1. status callback, median (p95): without an endpoint {cost['without_ms']:.3f} ms "
            f"({cost['without_p95_ms']:.3f}), with one subscribed {cost['with_ms']:.3f} ms "
            f"({cost['with_p95_ms']:.3f}): the outbox adds {added:.3f} ms"
        )

        receiver_command = [sys.executable, "-m", "bench.webhook_receiver", "--port", str(port)]
        receiver = start("receiver", [*receiver_command, "--secret", secret], logs)
        children.append(receiver)
        wait_for_port(port, "the receiver did not start", process=receiver.process)
        worker = start_worker(
            logs, queue="default", pool="prefork", concurrency=options.concurrency
        )
        children.append(worker)
        sample = Message.objects.select_related("contact").filter(organization=organization).first()
        data = dict(MessageSerializer(sample).data)
        postgres = PostgresCPU(postmaster_pid(), str(connection.settings_dict["NAME"]))
        cpu_before = {child.name: tree_cpu(child.process.pid) for child in children}
        postgres.start()
        began, ended, total = write_events(
            organization, data, options.rate, options.seconds, options.per_write
        )
        backlog = pending()
        deadline = time.monotonic() + DRAIN_S
        while pending() and time.monotonic() < deadline:
            time.sleep(0.2)
        drained = time.time()
        postgres.stop()
        cpu = {
            child.name: tree_cpu(child.process.pid) - cpu_before[child.name] for child in children
        }
        stats = get_json(f"http://127.0.0.1:{port}/stats")
        created = dict(
            WebhookDelivery.objects.filter(state=DeliveryState.SUCCEEDED).values_list(
                "event__public_id", "event__created_at"
            )
        )
        arrivals = {key.removeprefix("evt_"): at for key, at in stats["first_seen"].items()}
        lags = [
            arrivals[public_id.hex] - at.timestamp()
            for public_id, at in created.items()
            if public_id.hex in arrivals
        ]
        lost = total - len(created)
        written_rate = total / (ended - began)
        last = max(arrivals.values()) if arrivals else drained
        rate = len(arrivals) / (last - began) if arrivals else 0.0
        delivered = max(len(arrivals), 1)
        print(
            f"2. {total} events written in {ended - began:.1f} s ({total / (ended - began):.0f}/s, "
            f"{options.per_write} per write); pending when the writing stopped: {backlog}; "
            f"received {stats['requests']} requests, {len(arrivals)} distinct, "
            f"{stats['duplicates']} duplicates, {stats['bad_signatures']} bad signatures, "
            f"{lost} lost; {rate:.0f} delivered/s; from write to arrival median "
            f"{statistics.median(lags) * 1000:.0f} ms, p95 {percentile(lags, 0.95) * 1000:.0f} ms, "
            f"max {max(lags) * 1000:.0f} ms"
        )
        print(
            "   CPU per delivery: "
            + ", ".join(
                f"{name} {seconds / delivered * 1000:.2f} ms" for name, seconds in cpu.items()
            )
            + f", PostgreSQL {postgres.ours / delivered * 1000:.2f} ms "
            f"(over {drained - began:.1f} s)"
        )
        stop(children)
        print_log_problems(children)
        write(
            "webhooks_smoke" if options.smoke else "webhooks",
            [
                Figure("outbox: added to a status callback", round(added, 3), "ms", 1.0, False),
                Figure(
                    "delivered per second",
                    round(rate, 1),
                    "events/s",
                    round(0.97 * written_rate, 1),
                    True,
                    limit=round(written_rate, 1),
                ),
                Figure("write to arrival, p95", round(percentile(lags, 0.95), 3), "s", 1.0, False),
                Figure("pending when the writing stopped", backlog, "deliveries", 500, False),
                Figure("duplicates", stats["duplicates"], "events", 0, False),
                Figure("lost", lost, "events", 0, False),
                Figure("bad signatures", stats["bad_signatures"], "requests", 0, False),
            ],
            postgresql=machine().rsplit("PostgreSQL ", 1)[-1],
            commit=git_commit(),
            rate=options.rate,
            seconds=options.seconds,
            per_write=options.per_write,
            concurrency=options.concurrency,
        )
        if lost or stats["duplicates"] or stats["bad_signatures"]:
            raise SystemExit("events were lost, duplicated or badly signed")


if __name__ == "__main__":
    main()
