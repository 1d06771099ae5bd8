"""The send pipeline for real: sends per second against Twilio's limit, CPU per send, and a
rate-limited sender's rate.

Creates a scratch PostgreSQL database (``test_<name>_send_pipeline`` next to
``DATABASE_URL``'s; ``postgres://postgres@127.0.0.1:5432/smshub`` when unset, created if
missing), flushes Redis database 9 (broker and ``REDIS_URL``), and starts, as docker-compose
runs them: the Twilio sandbox (``--latency-ms`` per create, status callbacks to the web
process), gunicorn (3 sync workers, access log on; a WSGI wrapper stands in for the
TLS-terminating proxy, ``bench.stack.behind_proxy``) and ``--workers`` Celery send workers
(queue ``send``, thread pool, ``--threads`` each, named ``send0@%h``…). No beat and no
default-queue worker: nothing on the send path enqueues to the default queue.

An organization is connected to the sandbox through ``twilio_connect`` (send rate 1,000
segments/s, so the rate limit never holds a message back) and gets N contacts. The clock starts
as ``message_send_many(..., commit_each_chunk=True)`` is called: each chunk's commit enqueues
its send batches, so the worker starts while later chunks are still being written. The run
ends when every message has left ``pending``/``submitting`` and every sent one has its final
status from the callbacks (or a timeout). Figures:

- send throughput: messages Twilio accepted ÷ (last acceptance recorded - first claim), against
  the limit workers * threads ÷ latency (a thread waits on one create at a time);
- CPU per accepted message of the workers, gunicorn (master and workers), the sandbox and
  PostgreSQL (``/proc/<pid>/stat``; see ``PostgresCPU`` for how exited backends count);
- database sessions opened on the scratch database during the run (``pg_stat_database``; the
  most at once and those waiting on a lock, sampled while sending, are printed);
- duplicates (messages the sandbox created more than once), lost callbacks (posted and not
  answered 2xx, or never posted), messages left without a final status;
- the time in ``message_send_many`` itself.

Then a second organization, its sender limited to 10 segments/s, sends ``--limited``
one-segment messages the same way (``rate_limited_run``): its steady rate from the sandbox's
own arrival times (``/sandbox/arrivals``), the burst an idle budget allows left out, and the
deviation from 10/s (target within 5%). The run exits non-zero if the sandbox created any
message twice, or a limited message was not accepted.

The processes start through ``bench.stack``; what a run measured, its figures and its report
are in ``bench.send_pipeline_figures``.

    .venv/bin/python -m bench.send_pipeline [--messages 5000] [--latency-ms 100] [--threads 16]
        [--workers 1] [--limited 600]
    .venv/bin/python -m bench.send_pipeline --smoke   # 500 messages and 60 limited, for CI
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

from bench.cpu import PostgresCPU, RunCPU, others_cpu, postmaster_pid, tree_cpu
from bench.stack import (
    Child,
    answered_callbacks,
    free_port,
    get_json,
    print_log_problems,
    scratch_stack,
    set_stack_environment,
    start_sandbox,
    start_web,
    start_worker,
    stop,
)

BASE_DIR = Path(__file__).resolve().parent.parent
REDIS = "redis://127.0.0.1:6379/9"
SANDBOX_PORT, WEB_PORT = free_port(), free_port()
SANDBOX_URL, WEB_URL = f"http://127.0.0.1:{SANDBOX_PORT}", f"http://127.0.0.1:{WEB_PORT}"

# Every process, this one included, runs the production settings (DEBUG off) against the
# scratch database, Redis database 9, the sandbox as Twilio and the web process as the public
# address the sandbox calls back.
set_stack_environment(redis_url=REDIS, sandbox_url=SANDBOX_URL, web_url=WEB_URL)

from django.db import connection  # noqa: E402
from django.db.models import Count, Max, Min  # noqa: E402

# bench.pages sets Django up: it comes before any model.
from bench.pages import machine  # noqa: E402
from bench.results import git_commit, write  # noqa: E402
from bench.send_pipeline_figures import (  # noqa: E402
    FINAL_STATUSES,
    RateRun,
    Run,
    figures,
    rate_figures,
    rate_report,
    report,
)
from bench.sending import (  # noqa: E402
    BUSY,
    created_twice,
    left,
    prepare,
    send_to_all,
    sessions_opened,
)
from messaging.models import Message, MessageEvent  # noqa: E402
from messaging.ratelimit import BURST_SECONDS  # noqa: E402
from tenants.models import Organization  # noqa: E402

SEND_RATE = Decimal(1000)  # segments per second: far above what one worker can send
LIMITED_RATE = Decimal(10)  # the second organization's sender, segments per second
LIMITED_PHONES = 1_000_000  # its recipients' numbers start this far from the first's
WEB_WORKERS = 3  # docker-compose's web
CALLBACK_DELAY_MS = 200  # the sandbox's default wait before each status callback
POLL_S = 0.5
GRACE_S = 30.0  # after the last message left submitting, for the callbacks to arrive


# --- The runs --------------------------------------------------------------------------------


def unsettled(organization: Organization) -> int:
    return (
        Message.objects.filter(organization=organization, sid__isnull=False)
        .exclude(status__in=FINAL_STATUSES)
        .count()
    )


def sample_sessions(result: Run) -> None:
    """The sessions on the scratch database now, and how many wait on a lock (a row's, say:
    two claims or a claim and a callback on one message), into ``result``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT wait_event_type = 'Lock', left(query, 48) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        sessions = cursor.fetchall()
    result.peak_sessions = max(result.peak_sessions, len(sessions))
    result.lock_waits.update(query for waiting, query in sessions if waiting)
    result.samples += 1


def run(organization: Organization, procs: dict[str, list[Child]], count: int, limit: float) -> Run:
    result = Run(messages=count, workers=len(procs["worker"]))
    time.sleep(1.5)  # the statistics of the set-up reach pg_stat_database
    sessions_before = sessions_opened()
    postgres = PostgresCPU(postmaster_pid(), str(connection.settings_dict["NAME"]))
    pids = {name: [child.process.pid for child in group] for name, group in procs.items()}
    meter = RunCPU(pids, postgres, REDIS)
    meter.start()

    began = time.perf_counter()
    began_at = time.time()
    created = send_to_all(organization)
    result.send_many_s = time.perf_counter() - began
    result.send_many_cpu_s = time.process_time() - meter.own_start
    if created != count:
        raise SystemExit(f"message_send_many created {created:,} messages of {count:,}")

    timeout = max(60.0, 5 * count / limit + 30)
    while time.perf_counter() - began < timeout:
        if result.drained_s is None:
            sample_sessions(result)
        if result.drained_s is None and not left(organization, BUSY):
            result.drained_s = time.perf_counter() - began
        if result.drained_s is not None and (
            not unsettled(organization) or time.perf_counter() - began > result.drained_s + GRACE_S
        ):
            break
        time.sleep(POLL_S)
    result.settled_s = time.perf_counter() - began

    meter.stop()
    result.cpu, result.machine, result.foreign = meter.cpu, meter.machine, meter.foreign

    time.sleep(2.0)  # the last sessions' statistics, and callbacks' answers, come in
    result.sessions = sessions_opened() - sessions_before
    result.sandbox = get_json(f"{SANDBOX_URL}/sandbox/stats")

    messages = Message.objects.filter(organization=organization)
    result.statuses = Counter(
        {row["status"]: row["n"] for row in messages.values("status").annotate(n=Count("pk"))}
    )
    result.accepted = messages.filter(sid__isnull=False).count()
    result.callback_events = MessageEvent.objects.filter(
        message__organization=organization, callback_key__isnull=False
    ).count()
    claims = messages.aggregate(first=Min("submitted_at"))
    accepts = MessageEvent.objects.filter(
        message__organization=organization, params__has_key="sid"
    ).aggregate(last=Max("at"))
    if claims["first"] and accepts["last"]:
        result.first_claim_s = claims["first"].timestamp() - began_at
        result.last_accept_s = accepts["last"].timestamp() - began_at
    return result


def rate_limited_run(organization: Organization, count: int, workers: list[Child]) -> RateRun:
    """The limited sender's messages, sent as the first organization's were, and when the
    sandbox stored each (``/sandbox/arrivals``, to the microsecond, after its latency).

    The limiter (``messaging.ratelimit``, GCRA) promises ``send_rate`` segments a second with
    a burst of ``BURST_SECONDS``' worth: from an idle budget the first ``rate * burst`` go at
    once, the rest one every ``1 / rate`` seconds. So the burst (the first ``rate * burst``
    messages claimed) is left out, and the steady rate is (n - 1) / (last - first arrival) of
    the others. The workers' CPU over the run is kept too: what holding the rate costs."""
    rate = float(LIMITED_RATE)
    result = RateRun(messages=count, rate=rate, burst=round(rate * BURST_SECONDS))
    cpu_before = sum(tree_cpu(worker.process.pid) for worker in workers)
    began = time.perf_counter()
    created = send_to_all(organization)
    if created != count:
        raise SystemExit(f"message_send_many created {created:,} messages of {count:,}")
    deadline = began + 2 * count / rate + 30
    while left(organization, BUSY) and time.perf_counter() < deadline:
        time.sleep(POLL_S)
    result.seconds = time.perf_counter() - began
    result.worker_cpu_s = sum(tree_cpu(worker.process.pid) for worker in workers) - cpu_before
    messages = Message.objects.filter(organization=organization, sid__isnull=False)
    claimed = list(messages.order_by("submitted_at", "pk").values_list("to", flat=True))
    arrivals: dict[str, list[float]] = get_json(f"{SANDBOX_URL}/sandbox/arrivals")["arrivals"]
    result.accepted = len(claimed)
    result.burst_arrivals = sorted(arrivals[to][0] for to in claimed[: result.burst])
    result.arrivals = sorted(arrivals[to][0] for to in claimed[result.burst :])
    if result.accepted != count:
        raise SystemExit(
            f"the limited sender: {count - result.accepted:,} of {count:,} messages not "
            f"accepted {result.seconds:.0f} s after the send (twice the time its rate needs)"
        )
    return result


def start_workers(logs: Path, count: int, threads: int) -> list[Child]:
    """``count`` send workers as docker-compose runs one (``-Q send -P threads``), each
    ``threads`` wide, named ``send0@%h``, ``send1@%h``…"""
    return [
        start_worker(
            logs,
            queue="send",
            pool="threads",
            concurrency=threads,
            name=f"send{i}",
            node=f"send{i}",
        )
        for i in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--latency-ms", type=int, default=100, help="the sandbox's per create")
    parser.add_argument("--threads", type=int, default=16, help="each send worker's concurrency")
    parser.add_argument("--workers", type=int, default=1, help="send worker processes")
    parser.add_argument(
        "--limited", type=int, default=600, help="messages of the rate-limited sender (0: none)"
    )
    parser.add_argument("--smoke", action="store_true", help="a tenth of the size: 500 messages")
    options = parser.parse_args()
    if options.smoke:
        options.messages, options.limited = options.messages // 10, options.limited // 10
    limit = options.workers * options.threads / (options.latency_ms / 1000)
    with scratch_stack("send_pipeline", REDIS) as (logs, children):
        children.append(
            start_sandbox(
                logs,
                port=SANDBOX_PORT,
                latency_ms=options.latency_ms,
                callback_delay_ms=CALLBACK_DELAY_MS,
            )
        )
        organization = prepare(options.messages, send_rate=SEND_RATE)
        limited = prepare(
            options.limited, send_rate=LIMITED_RATE, name="Limited", first_phone=LIMITED_PHONES
        )
        children.append(start_web(logs, port=WEB_PORT, workers=WEB_WORKERS))
        workers = start_workers(logs, options.workers, options.threads)
        children += workers
        procs = {"sandbox": [children[0]], "web": [children[1]], "worker": workers}
        result = run(organization, procs, options.messages, limit)
        limited_run = (
            rate_limited_run(limited, options.limited, workers) if options.limited else None
        )
        duplicates = created_twice(get_json(f"{SANDBOX_URL}/sandbox/stats"))  # both runs
        stop(children)
        result.callbacks_answered = answered_callbacks(children[1])
        report(result, limit, options, web_workers=WEB_WORKERS, callback_delay_ms=CALLBACK_DELAY_MS)
        if limited_run:
            rate_report(limited_run)
        print_log_problems(children)
        write(
            "send_pipeline_smoke" if options.smoke else "send_pipeline",
            figures(result, limit) + (rate_figures(limited_run) if limited_run else []),
            postgresql=machine().rsplit("PostgreSQL ", 1)[-1],
            messages=options.messages,
            latency_ms=options.latency_ms,
            threads=options.threads,
            workers=options.workers,
            limited_messages=options.limited,
            peak_sessions=result.peak_sessions,
            lock_waits_sampled=[result.lock_waits.total(), result.samples],
            commit=git_commit(),
            run_seconds=round(result.settled_s, 1),
            other_load_cpu_seconds=round(others_cpu(result.machine, result.cpu), 1),
        )
        if duplicates:
            raise SystemExit(f"the sandbox created {duplicates} messages more than once")


if __name__ == "__main__":
    main()
