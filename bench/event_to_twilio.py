"""Event to Twilio on the whole stack: a tag added through the REST API until the automation's
message reaches Twilio (the sandbox).

Creates a scratch PostgreSQL database (``test_<name>_event_to_twilio`` next to
``DATABASE_URL``'s), flushes Redis database 10 (broker and ``REDIS_URL``), and starts, as
docker-compose runs them (``bench.stack``): the Twilio sandbox (100 ms per create, status
callbacks to the web process), gunicorn (3 sync workers behind ``bench.stack.behind_proxy``), a
``default`` worker (prefork, 2 processes), a ``send`` worker (16 threads) and celery beat.

The data, through the services: an organization connected to the sandbox (``twilio_connect``,
its send rate raised to 100 segments/s so that the rate limit holds no message back: this
measures the path, not the limit), N contacts with US numbers and an import opt-in each
(``contacts_upsert_many`` with consent; nothing else is required to text them), an SMS
template, the automation "tag ``new-lead`` added → send the template" (quiet hours not
respected, so nothing waits for the morning), activated, and an API key with the role marketer.

The stack is warmed up first by ``WARM_UP`` events sent the same way (gunicorn's workers, the
worker processes and their database sessions start cold), whose messages are awaited and
checked but not measured. Then the client posts ``{"name": "new-lead"}`` to
``/api/v1/contacts/<id>/tags/`` (Bearer key) for contact i at i times 0.1 s, open loop: each
request on a thread of its own at its time, whatever the answers so far. It records when each
request began. The sandbox's ``/sandbox/arrivals``
says when each create was stored (after its 100 ms, as Twilio stamps ``date_created``): the
latency of contact i is that moment minus the start of its request. The path in between:

    API request → the tag's commit → on_commit: ``tag_added`` → ``automations.tasks.handle_event``
    on the ``default`` queue → the engine enrols and runs the first step →
    ``message_send_many`` writes the message → on_commit: ``messaging.tasks.send_messages`` on
    the ``send`` queue → the send worker claims it and calls Twilio → the sandbox (100 ms).

The report gives the median time from a request's start to each of those steps (the answer,
the enrolment, the message row, the claim, the arrival), read from the rows' own timestamps.

The run fails (``SystemExit``) when an API request is not answered 2xx, when a contact does not
get exactly one message in the sandbox within 30 s of the last request, or when a worker's,
beat's or the web's log holds a Traceback.

Figures: event to Twilio's median, p95 and max (s); events; messages the sandbox created for
them; duplicates; API requests answered per second (between the first answer and the last,
against the 10 offered: target 9). Targets: median under 1 s; p95 under 2 s (this benchmark's
own: a slow event in twenty may wait for a worker busy with the one before it, but not for
long); max under the 30 s a run allows. Figures go to ``bench/results/event_to_twilio.json``
(``event_to_twilio_smoke.json`` with ``--smoke``).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/smshub \\
        .venv/bin/python -m bench.event_to_twilio [--events 200 | --smoke]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import redis

from bench.stack import (
    Child,
    free_port,
    get_json,
    log_problems,
    print_log_problems,
    scratch_stack,
    set_stack_environment,
    start_beat,
    start_sandbox,
    start_web,
    start_worker,
    stop,
)

REDIS = "redis://127.0.0.1:6379/10"
SANDBOX_PORT, WEB_PORT = free_port(), free_port()
SANDBOX_URL, WEB_URL = f"http://127.0.0.1:{SANDBOX_PORT}", f"http://127.0.0.1:{WEB_PORT}"
set_stack_environment(redis_url=REDIS, sandbox_url=SANDBOX_URL, web_url=WEB_URL)

# isort: off
from bench.pages import machine  # noqa: E402 - sets Django up: before any model
# isort: on

from django.db import connection, transaction  # noqa: E402

from automations.models import AutomationRun  # noqa: E402
from automations.services.automations import automation_activate, automation_create  # noqa: E402
from bench.results import Figure, git_commit, write  # noqa: E402
from bench.sending import connected_organization  # noqa: E402
from contacts.models import Contact  # noqa: E402
from contacts.services.bulk import contacts_upsert_many  # noqa: E402
from contacts.services.rows import ContactRow  # noqa: E402
from messaging.models import Message  # noqa: E402
from templates_sms.services import template_create  # noqa: E402
from tenants.models import Organization  # noqa: E402
from tenants.services.api_keys import api_key_create  # noqa: E402

EVENTS, SMOKE = 200, 20
INTERVAL_S = 0.1  # 10 requests a second
LATENCY_MS = 100  # the sandbox's per create
CALLBACK_DELAY_MS = 200  # the sandbox's default wait before each status callback
SEND_RATE = Decimal(100)  # segments per second: ten times the events' rate
WEB_WORKERS = 3  # docker-compose's web
TAG = "new-lead"
TIMEOUT_S = 30.0  # after the last request, for every message to arrive
SETTLE_S = 2.0  # after the last arrival, for a repeated create to show
WARM_UP = 20  # events sent first, at the same rate, and not measured
MEDIAN_TARGET_S, P95_TARGET_S = 1.0, 2.0


# --- The data --------------------------------------------------------------------------------


def prepare(count: int) -> tuple[Organization, str, list[Contact]]:
    """The organization, its API key and its contacts (in the order they are tagged): the
    ``WARM_UP`` first ones to warm the stack up, then the ``count`` measured."""
    organization, owner = connected_organization("Bench", SEND_RATE)
    rows = [
        ContactRow(phone=phone(n), first_name="Ann", time_zone="America/Los_Angeles")
        for n in range(WARM_UP + count)
    ]
    for begin in range(0, len(rows), 1000):
        with transaction.atomic():
            contacts_upsert_many(
                organization=organization,
                rows=rows[begin : begin + 1000],
                source="import",
                consent=True,
                user=owner,
                automations=False,
            )
    template = template_create(
        organization=organization, name="Welcome", body="Hi {{ first_name }}, welcome aboard!"
    )
    automation = automation_create(
        organization=organization,
        name="Welcome new leads",
        definition={
            "trigger": {"type": "tag_added", "tag": TAG},
            "steps": [
                {
                    "id": "s1",
                    "type": "send_sms",
                    "template": str(template.template.public_id),
                    "respect_quiet_hours": False,
                }
            ],
        },
        complete=True,
    )
    automation_activate(automation=automation)
    _key, secret = api_key_create(
        organization=organization, name="Bench CRM", role="marketer", by=owner
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    contacts = list(Contact.objects.filter(organization=organization).order_by("phone"))
    return organization, secret, contacts


def phone(n: int) -> str:
    return f"+1415{2000000 + n:07d}"


def wait_for_empty_queues(seconds: float = 30) -> None:
    """The set-up's own tasks (the contacts' date schedules, the activation's) done first."""
    broker = redis.Redis.from_url(REDIS)
    deadline = time.monotonic() + seconds
    while broker.llen("default") or broker.llen("send"):
        if time.monotonic() > deadline:
            raise SystemExit("the set-up's tasks were still queued after 30 s")
        time.sleep(0.2)
    time.sleep(1.0)  # the last one taken finishes


# --- The run ---------------------------------------------------------------------------------


@dataclass
class Request:
    started: float = 0.0  # epoch seconds
    answered: float = 0.0
    status: int = 0  # 0: no answer at all
    error: str = ""


def tag(contact: Contact, key: str, into: Request) -> None:
    """Adds the tag to ``contact`` through the API, recording the times into ``into``."""
    request = urllib.request.Request(  # noqa: S310 - our own gunicorn
        f"{WEB_URL}/api/v1/contacts/{contact.public_id}/tags/",
        data=json.dumps({"name": TAG}).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    into.started = time.time()
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            into.status = answer.status
    except urllib.error.HTTPError as error:
        into.status, into.error = error.code, error.read()[:300].decode(errors="replace")
    except OSError as error:
        into.error = str(error)
    into.answered = time.time()


def send_events(contacts: list[Contact], key: str) -> list[Request]:
    """One request every ``INTERVAL_S``, each on its own thread, whatever the answers."""
    requests = [Request() for _ in contacts]
    threads = []
    begin = time.monotonic() + 0.2
    for i, contact in enumerate(contacts):
        delay = begin + i * INTERVAL_S - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        thread = threading.Thread(target=tag, args=(contact, key, requests[i]), daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(timeout=60)
    return requests


def wait_for_arrivals(phones: list[str], last_start: float) -> dict[str, list[float]]:
    """The sandbox's creates to these numbers once each has one (or 30 s after the last
    request), then ``SETTLE_S`` later, so that a repeated create shows."""
    wanted = set(phones)
    while True:
        arrived = get_json(f"{SANDBOX_URL}/sandbox/arrivals")["arrivals"]
        if wanted <= arrived.keys() or time.time() > last_start + TIMEOUT_S:
            break
        time.sleep(0.1)
    time.sleep(SETTLE_S)
    found: dict[str, list[float]] = get_json(f"{SANDBOX_URL}/sandbox/arrivals")["arrivals"]
    return {number: found.get(number, []) for number in phones}


def percentile(values: list[float], share: float) -> float:
    """Nearest rank: the smallest value with at least ``share`` of them at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(round(share * len(ordered), 9)) - 1)]


def epoch(moment: datetime | None) -> float | None:
    return moment.timestamp() if moment else None


def stages(
    organization: Organization, contacts: list[Contact], requests: list[Request]
) -> dict[str, list[float]]:
    """Per step of the path, each contact's seconds from its request's start to that step
    (its answer, its enrolment, its message row, the send worker's claim)."""
    runs = dict(
        AutomationRun.objects.filter(organization=organization).values_list(
            "contact_id", "created_at"
        )
    )
    messages = {
        to: (created, submitted)
        for to, created, submitted in Message.objects.filter(organization=organization).values_list(
            "to", "created_at", "submitted_at"
        )
    }
    found: dict[str, list[float]] = {"answered": [], "enrolled": [], "written": [], "claimed": []}
    for contact, request in zip(contacts, requests, strict=True):
        found["answered"].append(request.answered - request.started)
        created, submitted = messages.get(contact.phone, (None, None))
        for name, moment in (
            ("enrolled", runs.get(contact.pk)),
            ("written", created),
            ("claimed", submitted),
        ):
            if (at := epoch(moment)) is not None:
                found[name].append(at - request.started)
    return found


def check(requests: list[Request], arrivals: dict[str, list[float]], children: list[Child]) -> None:
    """Fails the run on an API answer that is not 2xx, a contact without exactly one message,
    or a Traceback in a log."""
    refused = [r for r in requests if not 200 <= r.status < 300]
    if refused:
        first = refused[0]
        raise SystemExit(
            f"{len(refused)} of {len(requests)} API requests not answered 2xx; the first: "
            f"{first.status or 'no answer'} {first.error}"
        )
    missing = [number for number, times in arrivals.items() if not times]
    repeated = [number for number, times in arrivals.items() if len(times) > 1]
    if missing or repeated:
        raise SystemExit(
            f"{len(missing)} contacts got no message within {TIMEOUT_S:.0f} s of the last "
            f"request (first: {missing[:3]}); {len(repeated)} got more than one "
            f"(first: {repeated[:3]})"
        )
    for child in children:
        if any("Traceback" in line for line in log_problems(child)):
            raise SystemExit(f"a Traceback in the {child.name} log: see {child.log}")


def report(
    requests: list[Request], latencies: list[float], steps: dict[str, list[float]], rate: float
) -> None:
    print(
        f"{len(requests)} events at {1 / INTERVAL_S:.0f}/s (achieved {rate:.2f} requests/s, "
        f"all answered 2xx): event to Twilio median {statistics.median(latencies):.3f} s, "
        f"p95 {percentile(latencies, 0.95):.3f} s, max {max(latencies):.3f} s"
    )
    print("where the time goes, median seconds from the request's start:")
    for label, values in (
        ("API answered (tag committed, handle_event enqueued)", steps["answered"]),
        ("enrolled (handle_event running on the default worker)", steps["enrolled"]),
        ("message row written (engine's first step)", steps["written"]),
        ("claimed by the send worker (send_messages)", steps["claimed"]),
        (f"stored by the sandbox (after its {LATENCY_MS} ms)", latencies),
    ):
        if values:
            print(
                f"  {label:<58} {statistics.median(values):7.3f}  "
                f"(p95 {percentile(values, 0.95):.3f})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=EVENTS)
    parser.add_argument("--smoke", action="store_true", help=f"{SMOKE} events, for CI")
    options = parser.parse_args()
    count = SMOKE if options.smoke else options.events
    with scratch_stack("event_to_twilio", REDIS) as (logs, children):
        children.append(
            start_sandbox(
                logs, port=SANDBOX_PORT, latency_ms=LATENCY_MS, callback_delay_ms=CALLBACK_DELAY_MS
            )
        )
        organization, key, contacts = prepare(count)
        children.append(start_web(logs, port=WEB_PORT, workers=WEB_WORKERS))
        children.append(
            start_worker(logs, queue="default", pool="prefork", concurrency=2, name="default")
        )
        children.append(
            start_worker(logs, queue="send", pool="threads", concurrency=16, name="send")
        )
        children.append(start_beat(logs))
        wait_for_empty_queues()
        warm_up, contacts = contacts[:WARM_UP], contacts[WARM_UP:]
        warmed = send_events(warm_up, key)
        wait_for_arrivals([c.phone for c in warm_up], max(r.started for r in warmed))
        load = os.getloadavg()[0]

        requests = send_events(contacts, key)
        last_start = max(r.started for r in requests)
        arrivals = wait_for_arrivals([c.phone for c in warm_up + contacts], last_start)
        steps = stages(organization, contacts, requests)
        stop(children)
        print_log_problems(children)
        check(warmed + requests, arrivals, children)

        latencies = [
            arrivals[c.phone][0] - r.started for c, r in zip(contacts, requests, strict=True)
        ]
        answers = sorted(r.answered for r in requests)
        rate = (len(answers) - 1) / (answers[-1] - answers[0])  # answers a second
        creates = sum(len(arrivals[c.phone]) for c in contacts)
        report(requests, latencies, steps, rate)
        write(
            "event_to_twilio_smoke" if options.smoke else "event_to_twilio",
            [
                Figure(
                    "event to Twilio, median",
                    round(statistics.median(latencies), 3),
                    "s",
                    target=MEDIAN_TARGET_S,
                    higher_is_better=False,
                ),
                Figure(
                    "event to Twilio, p95",
                    round(percentile(latencies, 0.95), 3),
                    "s",
                    target=P95_TARGET_S,
                    higher_is_better=False,
                ),
                Figure(
                    "event to Twilio, max",
                    round(max(latencies), 3),
                    "s",
                    target=TIMEOUT_S,
                    higher_is_better=False,
                ),
                Figure("events", len(requests), "events", target=count),
                Figure("messages created in the sandbox", creates, "messages", target=count),
                Figure("duplicates", creates - count, "messages", target=0, higher_is_better=False),
                Figure(
                    "API requests per second",
                    round(rate, 2),
                    "requests/s",
                    target=0.9 / INTERVAL_S,
                    limit=1 / INTERVAL_S,
                ),
            ],
            postgresql=machine().rsplit("PostgreSQL ", 1)[-1],
            events=count,
            latency_ms=LATENCY_MS,
            commit=git_commit(),
            load_average_1m=round(load, 2),
        )


if __name__ == "__main__":
    main()
