"""One send worker's memory over 100,000 sends: its resident memory after 10,000 and after
100,000, which should stay within 10 %.

Creates a scratch PostgreSQL database (``test_<name>_send_memory`` next to ``DATABASE_URL``'s),
flushes Redis database 9 (broker and ``REDIS_URL``), and starts the Twilio sandbox answering
at once (no latency), a receiver for its status callbacks (``bench.webhook_receiver``: asyncio,
204 at once; no gunicorn, so the cores go to sending) and one Celery send worker as
docker-compose runs it (``-Q send -P threads -c 16``). An organization connected to the sandbox
(``bench.sending.prepare``, 1,000 segments/s) with 10,000 contacts is sent the same text in ten
waves of ``message_send_many(..., commit_each_chunk=True)``, the next one as soon as fewer than
half a wave wait, so the worker never runs dry and the pending rows stay few.

The worker's main process (the thread pool runs in it) is sampled (``VmRSS`` of
``/proc/<pid>/status``) as the 10,000th and the 100,000th message have been accepted. Figures:
the growth ratio (target 1.10), both sizes, sends per second (accepted ÷ first claim to last
acceptance), the worker's CPU per send and the run's duration; the run exits non-zero unless
every message was accepted exactly once (the sandbox's creates per status callback URL).

    .venv/bin/python -m bench.send_memory [--messages 100000]
    .venv/bin/python -m bench.send_memory --smoke   # 10,000 messages, sampled at 1,000
"""

from __future__ import annotations

import argparse
import base64
import sys
import time
from decimal import Decimal

from bench.cpu import PostgresCPU, RunCPU, others_cpu, postmaster_pid, resident_mb
from bench.stack import (
    free_port,
    get_json,
    print_log_problems,
    scratch_stack,
    set_stack_environment,
    start,
    start_sandbox,
    start_worker,
    stop,
    wait_for_port,
)

REDIS = "redis://127.0.0.1:6379/9"
SANDBOX_PORT, RECEIVER_PORT = free_port(), free_port()
SANDBOX_URL, RECEIVER_URL = f"http://127.0.0.1:{SANDBOX_PORT}", f"http://127.0.0.1:{RECEIVER_PORT}"

# As bench.send_pipeline, but the public address the sandbox calls back is the receiver.
set_stack_environment(redis_url=REDIS, sandbox_url=SANDBOX_URL, web_url=RECEIVER_URL)

from django.db import connection  # noqa: E402
from django.db.models import Max, Min  # noqa: E402

# bench.pages sets Django up: it comes before any model.
from bench.pages import machine  # noqa: E402
from bench.results import Figure, git_commit, write  # noqa: E402
from bench.sending import BUSY, created_twice, left, prepare, send_to_all  # noqa: E402
from messaging.models import Message, MessageEvent, Status  # noqa: E402
from tenants.models import Organization  # noqa: E402

SEND_RATE = Decimal(1000)  # segments per second: above what one worker sends here
THREADS = 16  # docker-compose's send worker
WAVES = 10
POLL_S = 0.25
# Only the receiver's first request is checked against this (Twilio's callbacks carry no
# Standard Webhooks signature): what matters is that it answers.
RECEIVER_SECRET = "whsec_" + base64.b64encode(b"send-memory-callbacks").decode()


def accepted(organization: Organization) -> int:
    return Message.objects.filter(organization=organization, sid__isnull=False).count()


def sample_as_sent(
    organization: Organization, worker_pid: int, total: int, early: int
) -> tuple[list[tuple[int, float]], float]:
    """Sends ``total`` messages in waves and samples the worker's resident memory once
    ``early`` and once ``total`` messages were accepted: (accepted, MB) each, and the seconds
    the sending took (the first call to the last acceptance seen)."""
    wave = total // WAVES
    began = time.perf_counter()
    samples: list[tuple[int, float]] = []
    sent_waves = 0
    deadline = began + max(120.0, total / 20)  # 20/s would be a broken worker
    while time.perf_counter() < deadline:
        done = accepted(organization)
        if (done >= early and not samples) or done >= total:
            samples.append((done, resident_mb(worker_pid)))
        if done >= total:
            break
        if sent_waves < WAVES and left(organization, [str(Status.PENDING)]) < wave // 2:
            created = send_to_all(organization)
            if created != wave:
                raise SystemExit(f"wave {sent_waves + 1}: {created:,} messages of {wave:,}")
            sent_waves += 1
            continue
        time.sleep(POLL_S)
    return samples, time.perf_counter() - began


def main() -> None:
    started = time.perf_counter()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--smoke", action="store_true", help="a tenth: 10,000 messages")
    options = parser.parse_args()
    if options.smoke:
        options.messages //= 10
    total = options.messages
    early = total // WAVES
    with scratch_stack("send_memory", REDIS) as (logs, children):
        # Stopped in reverse: the worker, then the sandbox, then the receiver of its callbacks.
        receiver_command = [sys.executable, "-m", "bench.webhook_receiver"]
        receiver_command += ["--port", str(RECEIVER_PORT), "--secret", RECEIVER_SECRET]
        children.append(
            start("receiver", [*receiver_command, "--verify-every", "1000000000"], logs)
        )
        wait_for_port(RECEIVER_PORT, "the receiver did not start", process=children[-1].process)
        children.append(start_sandbox(logs, port=SANDBOX_PORT, latency_ms=0, callback_delay_ms=0))
        organization = prepare(early, send_rate=SEND_RATE)
        worker = start_worker(logs, queue="send", pool="threads", concurrency=THREADS)
        children.append(worker)
        pid = worker.process.pid
        start_mb = resident_mb(pid)
        postgres = PostgresCPU(postmaster_pid(), str(connection.settings_dict["NAME"]))
        pids = {child.name: [child.process.pid] for child in children}
        meter = RunCPU(pids, postgres, REDIS)
        meter.start()
        began_at = time.time()
        samples, sending_s = sample_as_sent(organization, pid, total, early)
        meter.stop()
        stats = get_json(f"{SANDBOX_URL}/sandbox/stats")
        stop(children)

        messages = Message.objects.filter(organization=organization)
        done = messages.filter(sid__isnull=False).count()
        first = messages.aggregate(first=Min("submitted_at"))["first"]
        last = MessageEvent.objects.filter(
            message__organization=organization, params__has_key="sid"
        ).aggregate(last=Max("at"))["last"]
        span = (last - first).total_seconds() if first and last else 0.0
        rate = done / span if span > 0 else 0.0
        if len(samples) < 2:
            raise SystemExit(f"{done:,} of {total:,} messages accepted before the time ran out")
        (early_at, early_mb), (late_at, late_mb) = samples[0], samples[-1]
        growth = late_mb / early_mb
        worker_ms = meter.cpu["worker"] / max(done, 1) * 1000
        duration = time.perf_counter() - started
        print(machine())
        print(
            f"{total:,} messages in {WAVES} waves, one send worker of {THREADS} threads, the "
            f"sandbox at 0 ms; sending took {sending_s:.1f} s (first claim "
            f"{first.timestamp() - began_at if first else 0:.1f} s after the first call), "
            f"{rate:.0f} sends/s; the whole run {duration:.0f} s"
        )
        print(
            f"worker RSS: {start_mb:.1f} MB started, {early_mb:.1f} MB at {early_at:,} accepted, "
            f"{late_mb:.1f} MB at {late_at:,}: {growth:.3f}x"
        )
        print(
            f"CPU per send: worker {worker_ms:.2f} ms, sandbox "
            f"{meter.cpu['sandbox'] / max(done, 1) * 1000:.2f} ms, receiver "
            f"{meter.cpu['receiver'] / max(done, 1) * 1000:.2f} ms, PostgreSQL "
            f"{meter.cpu['postgres'] / max(done, 1) * 1000:.2f} ms; other load "
            f"{others_cpu(meter.machine, {**meter.cpu, 'web': meter.cpu['receiver']}):.1f} CPU-s"
            " (the receiver in the web's place)"
        )
        print_log_problems(children)
        duplicates = created_twice(stats)
        write(
            "send_memory_smoke" if options.smoke else "send_memory",
            [
                Figure("worker memory growth", round(growth, 3), "ratio", 1.10, False),
                Figure(f"worker RSS after {early:,} sends", round(early_mb, 1), "MB", 300, False),
                Figure(f"worker RSS after {total:,} sends", round(late_mb, 1), "MB", 300, False),
                Figure("sends per second", round(rate, 1), "messages/s", 150),
                Figure("worker CPU per send", round(worker_ms, 3), "ms", 5, False),
                Figure(
                    "run duration", round(duration, 1), "s", 300 if total > 10_000 else 60, False
                ),
                Figure("duplicates", duplicates, "messages", 0, False),
                Figure("messages not accepted", total - done, "messages", 0, False),
            ],
            postgresql=machine().rsplit("PostgreSQL ", 1)[-1],
            messages=total,
            threads=THREADS,
            commit=git_commit(),
            sending_seconds=round(sending_s, 1),
            sampled_at_accepted=[early_at, late_at],
        )
        if duplicates or done != total or stats["messages"] != total or left(organization, BUSY):
            raise SystemExit(
                f"{done:,} of {total:,} messages accepted, the sandbox created "
                f"{stats['messages']:,}, {duplicates} more than once"
            )


if __name__ == "__main__":
    main()
