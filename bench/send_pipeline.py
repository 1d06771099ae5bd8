"""The send pipeline for real: sends per second against Twilio's limit, and CPU per send.

Creates a scratch PostgreSQL database (``test_<name>_send_pipeline`` next to
``DATABASE_URL``'s; ``postgres://postgres@127.0.0.1:5432/smshub`` when unset, created if
missing), flushes Redis database 9 (broker and ``REDIS_URL``), and starts, as docker-compose
runs them: the Twilio sandbox (``--latency-ms`` per create, status callbacks to the web
process), gunicorn (3 sync workers, access log on; a WSGI wrapper stands in for the
TLS-terminating proxy, ``bench.stack.behind_proxy``) and one Celery send worker (queue
``send``, thread pool, ``--threads``). No beat and no default-queue worker: nothing on the send
path enqueues to the default queue.

An organization is connected to the sandbox through ``twilio_connect`` (send rate 1,000
segments/s, so the rate limit never holds a message back) and gets N contacts. The clock starts
as ``message_send_many(..., commit_each_chunk=True)`` is called: each chunk's commit enqueues
its send batches, so the worker starts while later chunks are still being written. The run
ends when every message has left ``pending``/``submitting`` and every sent one has its final
status from the callbacks (or a timeout). Figures:

- send throughput: messages Twilio accepted ÷ (last acceptance recorded - first claim), against
  the limit threads ÷ latency (a thread waits on one create at a time);
- CPU per accepted message of the worker, gunicorn (master and workers), the sandbox and
  PostgreSQL (``/proc/<pid>/stat``; see ``PostgresCPU`` for how exited backends count);
- database sessions opened on the scratch database during the run (``pg_stat_database``);
- duplicates (messages the sandbox created more than once), lost callbacks (posted and not
  answered 2xx, or never posted), messages left without a final status;
- the time in ``message_send_many`` itself.

The processes start through ``bench.stack``; what a run measured, its figures and its report
are in ``bench.send_pipeline_figures``.

    .venv/bin/python -m bench.send_pipeline [--messages 5000] [--latency-ms 100] [--threads 16]
    .venv/bin/python -m bench.send_pipeline --smoke   # 500 messages, for CI
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

from bench.cpu import PostgresCPU, RunCPU, others_cpu, postmaster_pid
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
from bench.send_pipeline_figures import FINAL_STATUSES, Run, figures, report  # noqa: E402
from connections.services.connections import twilio_connect, twilio_set_send_rate  # noqa: E402
from contacts.models import Contact  # noqa: E402
from messaging.models import Message, MessageEvent, Status  # noqa: E402
from messaging.services.sending import message_send_many  # noqa: E402
from sandbox.state import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_NUMBERS  # noqa: E402
from tenants.actor import Actor  # noqa: E402
from tenants.models import Membership, Organization, User  # noqa: E402
from tenants.services.organizations import organization_create  # noqa: E402

SEND_RATE = Decimal(1000)  # segments per second: far above what one worker can send
WEB_WORKERS = 3  # docker-compose's web
CALLBACK_DELAY_MS = 200  # the sandbox's default wait before each status callback
BODY = "Our spring sale starts today. Reply STOP to opt out."
POLL_S = 0.5
GRACE_S = 30.0  # after the last message left submitting, for the callbacks to arrive


# --- The data --------------------------------------------------------------------------------


def prepare(count: int) -> Organization:
    """An organization connected to the sandbox through the connect flow, and its contacts."""
    owner = User.objects.create_user("bench@example.com", "bench-password-123")
    organization = organization_create(name="Bench", owner=owner)
    by = Actor.for_membership(Membership.objects.get(organization=organization, user=owner))
    row = twilio_connect(
        organization=organization,
        by=by,
        account_sid=DEFAULT_ACCOUNT_SID,
        auth_token=DEFAULT_AUTH_TOKEN,
        phone_number=DEFAULT_NUMBERS[0],
    )
    twilio_set_send_rate(connection=row, send_rate=SEND_RATE, by=by)
    for begin in range(0, count, 5000):
        contacts = []
        for n in range(begin, min(begin + 5000, count)):
            contact = Contact(
                organization=organization,
                phone=f"+1415{2000000 + n:07d}",
                first_name="Ann",
                last_name=f"Person {n}",
                time_zone="America/Los_Angeles",
            )
            contact.search = contact.search_text()
            contacts.append(contact)
        Contact.objects.bulk_create(contacts)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return organization


def sessions_opened() -> int:
    """Sessions ever opened on this database (PostgreSQL 14 and later)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        row = cursor.fetchone()
        return int(row[0]) if row else 0


# --- The run ---------------------------------------------------------------------------------


def left(organization: Organization, statuses: list[str]) -> int:
    return Message.objects.filter(organization=organization, status__in=statuses).count()


def unsettled(organization: Organization) -> int:
    return (
        Message.objects.filter(organization=organization, sid__isnull=False)
        .exclude(status__in=FINAL_STATUSES)
        .count()
    )


def run(organization: Organization, procs: dict[str, Child], count: int, limit: float) -> Run:
    result = Run(messages=count)
    time.sleep(1.5)  # the statistics of the set-up reach pg_stat_database
    sessions_before = sessions_opened()
    postgres = PostgresCPU(postmaster_pid(), str(connection.settings_dict["NAME"]))
    meter = RunCPU({name: child.process.pid for name, child in procs.items()}, postgres, REDIS)
    meter.start()

    began = time.perf_counter()
    began_at = time.time()
    send_many = message_send_many(
        organization=organization,
        contacts=Contact.objects.filter(organization=organization).order_by("pk"),
        body=BODY,
        source="automation",
        commit_each_chunk=True,
    )
    result.send_many_s = time.perf_counter() - began
    result.send_many_cpu_s = time.process_time() - meter.own_start
    assert send_many.created == count, send_many.statuses

    timeout = max(60.0, 5 * count / limit + 30)
    busy = [str(Status.PENDING), str(Status.SUBMITTING)]
    while time.perf_counter() - began < timeout:
        if result.drained_s is None and not left(organization, busy):
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--latency-ms", type=int, default=100, help="the sandbox's per create")
    parser.add_argument("--threads", type=int, default=16, help="the send worker's concurrency")
    parser.add_argument("--smoke", action="store_true", help="a tenth of the size: 500 messages")
    options = parser.parse_args()
    if options.smoke:
        options.messages = 500
    limit = options.threads / (options.latency_ms / 1000)
    with scratch_stack("send_pipeline", REDIS) as (logs, children):
        children.append(
            start_sandbox(
                logs,
                port=SANDBOX_PORT,
                latency_ms=options.latency_ms,
                callback_delay_ms=CALLBACK_DELAY_MS,
            )
        )
        organization = prepare(options.messages)
        children.append(start_web(logs, port=WEB_PORT, workers=WEB_WORKERS))
        children.append(
            start_worker(logs, queue="send", pool="threads", concurrency=options.threads)
        )
        procs = {child.name: child for child in children}
        result = run(organization, procs, options.messages, limit)
        stop(children)
        result.callbacks_answered = answered_callbacks(procs["web"])
        report(result, limit, options, web_workers=WEB_WORKERS, callback_delay_ms=CALLBACK_DELAY_MS)
        print_log_problems(children)
        write(
            "send_pipeline",
            figures(result, limit),
            postgresql=machine().rsplit("PostgreSQL ", 1)[-1],
            messages=options.messages,
            latency_ms=options.latency_ms,
            threads=options.threads,
            commit=git_commit(),
            run_seconds=round(result.settled_s, 1),
            other_load_cpu_seconds=round(others_cpu(result.machine, result.cpu), 1),
        )


if __name__ == "__main__":
    main()
