"""Status callbacks through gunicorn and PostgreSQL, against the floor of their work and an
empty view, and their latency at a fixed rate.

In a scratch database (``bench.stack.scratch_stack``) one connected organization gets queued
messages, and gunicorn (sync workers) serves the app with two yardsticks beside it
(``bench.urls``): ``/bench/empty``, which answers 204 and does nothing, and
``/bench/floor/<id>``, which does only what no callback can do without (one indexed read of the
message and its credentials, one insert of its event). One client then drives the three in
turn, ``--rounds`` times (empty, floor, callbacks, each posting Twilio's signed form, from
``--concurrency`` connections as fast as they are answered), every floor request and every
signed ``delivered`` callback for a message of its own that nothing touched before. Then the
**fixed-rate run**: ``--rate`` callbacks a second for ``--seconds`` (open loop: each is sent at
its time whatever the answers, and its latency counts from that time), for fresh messages
again.

Figures (medians across the rounds): the three rates; callbacks ÷ floor (the rounds' median
ratio; target 0.8); callbacks ÷ empty (for the record); the fixed-rate run's p50 and p99
(target 50 ms) and the rate achieved (answers ÷ time from the first send to the last answer;
target 95% of the rate asked). The run fails (SystemExit, after writing the figures) when any
request is not answered 2xx, when a round's callbacks did not move each of its messages to
delivered exactly once (one event each), or when the floor did not insert one event per request.
``--smoke``: 200 requests a round, 2 rounds, 3 s at the rate.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/smshub \\
        .venv/bin/python -m bench.status_callbacks [--smoke] [--messages 2000] [--rounds 3] \\
        [--workers 2] [--without-rollup]

Redis database 11 is flushed before and after (the app's cache, ``REDIS_URL``, as deployed).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from urllib.parse import urlencode

REDIS = "redis://127.0.0.1:6379/11"
os.environ["REDIS_URL"] = REDIS
os.environ["PUBLIC_BASE_URL"] = "https://bench.example.com"
os.environ["ALLOWED_HOSTS"] = "127.0.0.1"

from aiohttp import ClientError, ClientSession, TCPConnector  # noqa: E402
from django.db import connection  # noqa: E402

from bench.pages import machine  # noqa: E402  (sets Django up)
from bench.results import Figure, git_commit, write  # noqa: E402
from bench.stack import free_port, scratch_stack, start, wait_for_port  # noqa: E402
from bench.twilio_rows import delivered_callback, queued_messages  # noqa: E402
from messaging.models import Message, MessageEvent, Status  # noqa: E402
from messaging.rollup_sql import uninstall_statements  # noqa: E402

WARM_UP = 100  # requests of each kind before the first round
FIXED_RATE_TARGET_MS = 50.0
ACHIEVED_SHARE = 0.95  # of the rate asked: the server kept up

Request = tuple[str, bytes, dict[str, str]]


@dataclass
class Batch:
    """Messages and the requests that move them (or that the yardsticks get for them)."""

    messages: list[Message]
    requests: list[Request]

    def moved(self) -> int:
        """Of these messages, how many are delivered."""
        first, last = self.messages[0].pk, self.messages[-1].pk
        in_batch = Message.objects.filter(pk__gte=first, pk__lte=last)
        return in_batch.filter(status=Status.DELIVERED).count()


class Checks:
    """Request failures and miscounts, kept until the figures are written."""

    def __init__(self) -> None:
        self.failures = 0
        self.problems: list[str] = []
        self.delivered = 0  # messages the callbacks so far should have moved

    def answered(self, label: str, failures: int) -> None:
        if failures:
            self.failures += failures
            self.problems.append(f"{label}: {failures} requests not answered 2xx")

    def expect(self, label: str, found: int, wanted: int) -> None:
        if found != wanted:
            self.problems.append(f"{label}: {found}, expected {wanted}")

    def moved_once(self, label: str, callbacks: Batch, recorded: int) -> None:
        """After ``callbacks``: one event each (``recorded``), each of their messages
        delivered, and no other message."""
        self.delivered += len(callbacks.messages)
        self.expect(f"{label}: events the callbacks recorded", recorded, len(callbacks.messages))
        self.expect(
            f"{label}: their messages delivered", callbacks.moved(), len(callbacks.messages)
        )
        delivered = Message.objects.filter(status=Status.DELIVERED).count()
        self.expect(f"{label}: messages delivered in all", delivered, self.delivered)


def events() -> int:
    return MessageEvent.objects.count()


async def post(session: ClientSession, request: Request) -> bool:
    """True when answered 2xx."""
    url, body, headers = request
    try:
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()
            return response.status < 300
    except ClientError:
        return False


async def load(requests: Sequence[Request], concurrency: int) -> tuple[float, int]:
    """Sends every (url, body, headers) once from ``concurrency`` connections, each as soon as
    its connection is free: requests/s, and how many were not answered 2xx.

    Bodies are encoded beforehand, so that the client spends as little of the machine as it
    can, and the same on every load."""
    queue = list(reversed(requests))
    failures = 0

    async def client(session: ClientSession) -> None:
        nonlocal failures
        while queue:
            if not await post(session, queue.pop()):
                failures += 1

    started = time.perf_counter()
    async with ClientSession(connector=TCPConnector(limit=concurrency)) as session:
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
    return len(requests) / (time.perf_counter() - started), failures


async def fixed_rate(requests: Sequence[Request], rate: float) -> tuple[list[float], float, int]:
    """Sends request i at ``i / rate`` seconds from the start whatever the answers (open
    loop): each one's milliseconds from its time to its answer, the rate achieved (answers ÷
    seconds from the start to the last answer), and how many were not answered 2xx."""
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    failures = 0
    last_answer = 0.0

    async def one(session: ClientSession, request: Request, at: float) -> None:
        nonlocal failures, last_answer
        answered = await post(session, request)
        last_answer = loop.time()
        latencies.append((last_answer - at) * 1000)
        if not answered:
            failures += 1

    async with ClientSession(connector=TCPConnector(limit=0)) as session:
        begin = loop.time()
        tasks = []
        for i, request in enumerate(requests):
            at = begin + i / rate
            await asyncio.sleep(at - loop.time())
            tasks.append(asyncio.create_task(one(session, request, at)))
        await asyncio.gather(*tasks)
    return latencies, len(requests) / (last_answer - begin), failures


def batch(messages: list[Message], base: str, *, floor: bool) -> Batch:
    """Signed ``delivered`` callbacks for ``messages``, to their own path or (``floor``) the
    same requests to the floor's."""
    form_type = {"Content-Type": "application/x-www-form-urlencoded"}
    requests: list[Request] = []
    for message in messages:
        path, form, signature = delivered_callback(message)
        if floor:
            path = f"/bench/floor/{message.public_id}"
        headers = {**form_type, "X-Twilio-Signature": signature}
        requests.append((base + path, urlencode(form).encode(), headers))
    return Batch(messages, requests)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a tenth: for CI")
    parser.add_argument("--messages", type=int, help="requests of each kind per round (2000)")
    parser.add_argument("--rounds", type=int, help="alternating rounds (3)")
    parser.add_argument("--rate", type=float, default=300, help="of the fixed-rate run, per s")
    parser.add_argument("--seconds", type=float, help="of the fixed-rate run (10)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--without-rollup",
        action="store_true",
        help="drop the message rollup's triggers first (to measure what they cost)",
    )
    options = parser.parse_args()
    per_round = options.messages or (200 if options.smoke else 2000)
    rounds = options.rounds or (2 if options.smoke else 3)
    seconds = options.seconds or (3 if options.smoke else 10)
    fixed = round(options.rate * seconds)
    # The messages, in order: a floor's and the callbacks' for the warm-up and each round,
    # then the fixed-rate run's. Each is moved by one request only.
    sizes = [size for size in [WARM_UP] + [per_round] * rounds for _kind in range(2)] + [fixed]
    ends = list(accumulate(sizes))

    with scratch_stack("status_callbacks", REDIS) as (logs, children):
        _organization, messages = queued_messages(ends[-1])
        if options.without_rollup:
            with connection.cursor() as cursor:
                for statement in uninstall_statements(connection.vendor):
                    cursor.execute(statement)
        port = free_port()
        command = [sys.executable, "-m", "gunicorn", "bench.wsgi", "--bind", f"127.0.0.1:{port}"]
        command += ["--workers", str(options.workers), "--threads", str(options.threads)]
        web = start("web", [*command, "--log-level", "warning"], logs)
        children.append(web)
        wait_for_port(port, "gunicorn did not start", process=web.process)
        base = f"http://127.0.0.1:{port}"
        chunks = [messages[end - size : end] for size, end in zip(sizes, ends, strict=True)]
        floors = [batch(chunk, base, floor=True) for chunk in chunks[:-1:2]]
        callbacks = [batch(chunk, base, floor=False) for chunk in chunks[1:-1:2]]
        fixed_batch = batch(chunks[-1], base, floor=False)
        empty = f"{base}/bench/empty"
        checks = Checks()

        def run_round(label: str, index: int) -> tuple[float, float, float]:
            """Empty, floor, callbacks: their rates, after checking what each left behind."""
            floor, signed = floors[index], callbacks[index]
            empties = [(empty, body, headers) for _, body, headers in signed.requests]
            empty_rate, failures = asyncio.run(load(empties, options.concurrency))
            checks.answered(f"{label}: empty view", failures)
            before = events()
            floor_rate, failures = asyncio.run(load(floor.requests, options.concurrency))
            checks.answered(f"{label}: floor", failures)
            inserted = events() - before
            checks.expect(f"{label}: events the floor inserted", inserted, len(floor.messages))
            before = events()
            callback_rate, failures = asyncio.run(load(signed.requests, options.concurrency))
            checks.answered(f"{label}: callbacks", failures)
            checks.moved_once(label, signed, events() - before)
            return empty_rate, floor_rate, callback_rate

        run_round("warm-up", 0)
        print(
            f"{machine()}; gunicorn {options.workers} workers, {options.threads} threads;"
            f" {options.concurrency} client connections; rollup triggers"
            f" {'dropped' if options.without_rollup else 'on'}; {rounds} rounds of {per_round}"
            " requests each (empty, floor, callbacks in turn)"
        )
        rates: list[tuple[float, float, float]] = []
        for index in range(1, rounds + 1):
            rates.append(run_round(f"round {index}", index))
            empty_rate, floor_rate, callback_rate = rates[-1]
            print(
                f"empty view {empty_rate:6.0f}/s   floor {floor_rate:6.0f}/s   "
                f"callbacks {callback_rate:6.0f}/s   ÷ floor {callback_rate / floor_rate:.2f}"
            )

        before = events()
        latencies, achieved, failures = asyncio.run(fixed_rate(fixed_batch.requests, options.rate))
        checks.answered("fixed rate: callbacks", failures)
        checks.moved_once("fixed rate", fixed_batch, events() - before)
        percentiles = statistics.quantiles(latencies, n=100)
        p50, p99 = statistics.median(latencies), percentiles[98]
        print(
            f"fixed rate: {options.rate:.0f}/s for {seconds:g} s ({fixed} callbacks):"
            f" achieved {achieved:.1f}/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms"
        )

    empty_rate, floor_rate, callback_rate = map(statistics.median, zip(*rates, strict=True))
    to_floor = statistics.median(c / f for _, f, c in rates)
    to_empty = statistics.median(c / e for e, _, c in rates)
    figures = [
        Figure("empty view", empty_rate, "requests/s", 0),
        Figure("floor (read + insert)", floor_rate, "requests/s", 0),
        Figure("status callbacks", callback_rate, "requests/s", 0.8 * floor_rate, limit=floor_rate),
        Figure("callbacks ÷ floor (median of rounds)", to_floor, "ratio", 0.8),
        Figure("callbacks ÷ empty view (for the record)", to_empty, "ratio", 0),
        Figure(f"p50 at {options.rate:.0f}/s", p50, "ms", FIXED_RATE_TARGET_MS, False),
        Figure(f"p99 at {options.rate:.0f}/s", p99, "ms", FIXED_RATE_TARGET_MS, False),
        Figure(
            "fixed-rate run: rate achieved",
            achieved,
            "requests/s",
            ACHIEVED_SHARE * options.rate,
            limit=options.rate,
        ),
        Figure("errors", checks.failures, "requests", 0, False),
    ]
    write(
        "status_callbacks_smoke" if options.smoke else "status_callbacks",
        figures,
        commit=git_commit(),
        database="PostgreSQL",
        gunicorn_workers=options.workers,
        gunicorn_threads=options.threads,
        client_connections=options.concurrency,
        rounds=rounds,
        requests_per_round=per_round,
        fixed_rate_seconds=seconds,
        rollup_triggers=not options.without_rollup,
        load_average=os.getloadavg()[0],
    )
    if checks.problems:
        raise SystemExit("\n".join(checks.problems))


if __name__ == "__main__":
    main()
