"""Fault case 6, ``callbacks_and_races``: status callbacks shuffled, duplicated and a day late,
and two send workers racing for the same rows.

The stack on the shared PostgreSQL (a scratch database) and Redis database 12: the sandbox
(``--shuffle-callbacks --duplicate-callbacks --hold-callbacks``, 10% undelivered and 5%
failed, 10% of creates answered 500 after creating the message), gunicorn, two send workers
(``send0``, ``send1``, 16 threads each), a default worker and beat. Two organizations:

1. **Late**: N texts (``--smoke``: 100) whose callbacks the sandbox holds back. The 500s are
   unknown outcomes the sweeper adopts from Twilio's list (no callback can settle them). Then
   a day passes (the case moves the rows' ``submitted_at`` and ``updated_at`` back 25 hours)
   and the sweeper's day-old status fetch records each message's final status from Twilio.
   Only then are the held callbacks released, shuffled and each twice: a day late, after the
   final status is known.
2. **Racers**: N texts whose send batches are enqueued twice more, in other compositions (the
   ids reversed, and in batches of another size), so that both workers take batches naming the
   same rows at once; callbacks now come at once (the release stopped the holding), still
   shuffled and duplicated.

Counted: sent and duplicated from the sandbox's creates per message, lost from the database,
both organizations. Checks: the day-old fetch recorded Twilio's final status of every late
message; no late callback changed a final status; every message of both ends in Twilio's final
status for it (statuses only move forward, so shuffled callbacks cannot leave an earlier one);
one event row per distinct callback (duplicates recorded once); both workers took send batches;
the web answered every callback 2xx; no Traceback in the product's logs (web, workers, beat).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/smshub \\
        .venv/bin/python -m bench.faults.callbacks_and_races [--smoke] --out <path.json>
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import time
import urllib.parse
import urllib.request
from decimal import Decimal
from pathlib import Path

from bench.stack import (
    free_port,
    get_json,
    print_log_problems,
    scratch_stack,
    set_stack_environment,
    start_beat,
    start_sandbox,
    start_web,
    start_worker,
    stop,
)

REDIS = "redis://127.0.0.1:6379/12"
SANDBOX_PORT, WEB_PORT = free_port(), free_port()
SANDBOX_URL, WEB_URL = f"http://127.0.0.1:{SANDBOX_PORT}", f"http://127.0.0.1:{WEB_PORT}"
set_stack_environment(redis_url=REDIS, sandbox_url=SANDBOX_URL, web_url=WEB_URL)

from django.utils import timezone  # noqa: E402

import bench.pages  # noqa: E402, F401 - sets Django up
from bench.faults.outcome import Outcome  # noqa: E402
from bench.faults.sandboxed import (  # noqa: E402
    callbacks_answered_2xx,
    counts,
    histories,
    post_json,
    product_events,
    recover,
    report,
    statuses,
    tracebacks,
    wait_for_quiet,
)
from bench.sending import prepare, send_to_all  # noqa: E402
from config.celery import app as celery_app  # noqa: E402
from messaging.models import Message, MessageEvent, Status  # noqa: E402
from messaging.services.dispatch import batches  # noqa: E402
from messaging.services.sweeper import UNFINISHED  # noqa: E402
from messaging.tasks import send_messages, sweep_messages  # noqa: E402
from sandbox.state import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN  # noqa: E402
from tenants.models import Organization  # noqa: E402

CASE = "callbacks_and_races"
TITLE = "Callbacks shuffled, duplicated and a day late; two workers racing for the same rows"
SEND_RATE = Decimal(1000)
FLAGS = (
    *("--shuffle-callbacks", "--duplicate-callbacks", "--hold-callbacks", "--seed", "6"),
    *("--undelivered-rate", "0.1", "--failed-rate", "0.05"),
    *("--http-500-rate", "0.1", "--http-500-created-rate", "1"),
)
A_DAY = datetime.timedelta(hours=25)
PASSES = 12
FETCH_PASSES = 20  # the sweeper fetches at most 200 stale rows a pass


def twilio_finals(organization: Organization) -> dict[str, str]:
    """Each message's status on Twilio's side (the sandbox's list, by recipient), by SID."""
    finals: dict[str, str] = {}
    base = f"{SANDBOX_URL}/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages.json"
    secret = base64.b64encode(f"{DEFAULT_ACCOUNT_SID}:{DEFAULT_AUTH_TOKEN}".encode()).decode()
    for to in Message.objects.filter(organization=organization).values_list("to", flat=True):
        query = urllib.parse.urlencode({"To": to, "PageSize": 50})
        request = urllib.request.Request(  # noqa: S310 - the case's own sandbox
            f"{base}?{query}", headers={"Authorization": f"Basic {secret}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            for record in json.loads(response.read())["messages"]:
                finals[record["sid"]] = record["status"]
    return finals


def by_sid(organization: Organization) -> dict[str, str]:
    rows = Message.objects.filter(organization=organization, sid__isnull=False)
    return {sid: status for sid, status in rows.values_list("sid", "status") if sid}


def nothing_in_flight(organization: Organization) -> bool:
    return not Message.objects.filter(
        organization=organization, status__in=[Status.PENDING, Status.SUBMITTING]
    ).exists()


def a_day_passes(organization: Organization) -> int:
    """The late messages handed over a day ago: ``submitted_at`` and ``updated_at`` 25 hours
    back, so the sweeper's day-old fetch takes them. Returns how many."""
    then = timezone.now() - A_DAY
    return Message.objects.filter(organization=organization, sid__isnull=False).update(
        submitted_at=then, updated_at=then
    )


def fetch_day_old(organization: Organization) -> int:
    """The sweeper's passes (called now, as beat would) until no day-old row is unfinished."""
    for done in range(1, FETCH_PASSES + 1):
        sweep_messages()
        if not Message.objects.filter(organization=organization, status__in=UNFINISHED).exists():
            return done
    return FETCH_PASSES


def callback_events_expected(finals: dict[str, str]) -> int:
    """Distinct callbacks per message: queued, sent and the final one; a failure skips sent."""
    return sum(2 if status == Status.FAILED else 3 for status in finals.values())


def callback_events(organization: Organization) -> int:
    return MessageEvent.objects.filter(
        message__organization=organization, callback_key__isnull=False
    ).count()


def enqueue_twice_more(organization: Organization) -> int:
    """The racers' ids in send batches again, twice, composed otherwise: reversed, and in
    batches of another size, so that each row is named by three batches on two workers."""
    ids = list(Message.objects.filter(organization=organization).values_list("pk", flat=True))
    again = batches(ids[::-1]) + [ids[i : i + 7] for i in range(0, len(ids), 7)]
    for batch in again:
        send_messages.delay(batch)
    return len(again)


def tasks_per_worker() -> dict[str, int]:
    stats = celery_app.control.inspect(timeout=3).stats() or {}
    return {
        node.split("@")[0]: int(info.get("total", {}).get("messaging.tasks.send_messages", 0))
        for node, info in stats.items()
        if node.startswith("send")
    }


def release_late_callbacks() -> int:
    """The held callbacks go out; holding stops for later ones. Waits until all are posted."""
    before = get_json(f"{SANDBOX_URL}/sandbox/stats")["callbacks"]["posted"]
    released = int(
        post_json(f"{SANDBOX_URL}/sandbox/callbacks/release", {"hold": False})["released"]
    )
    deadline = time.monotonic() + 120 + released / 20
    while get_json(f"{SANDBOX_URL}/sandbox/stats")["callbacks"]["posted"] < before + released:
        if time.monotonic() > deadline:
            raise SystemExit(f"the sandbox did not post its {released} released callbacks")
        time.sleep(0.5)
    return released


def measure(smoke: bool) -> Outcome:
    size = 100 if smoke else 1000
    began = time.monotonic()
    notes: list[str] = []
    checks: dict[str, bool] = {}
    with scratch_stack(CASE, REDIS) as (logs, children):
        children.append(
            start_sandbox(logs, port=SANDBOX_PORT, latency_ms=50, callback_delay_ms=50, flags=FLAGS)
        )
        late = prepare(size, send_rate=SEND_RATE, name="Late")
        racers = prepare(size, send_rate=SEND_RATE, name="Racers", first_phone=1_000_000)
        children.append(web := start_web(logs, port=WEB_PORT, workers=3))
        for n in range(2):
            children.append(
                start_worker(
                    logs,
                    queue="send",
                    pool="threads",
                    concurrency=16,
                    name=f"send{n}",
                    node=f"send{n}",
                )
            )
        children.append(
            start_worker(logs, queue="default", pool="prefork", concurrency=1, name="default")
        )
        children.append(start_beat(logs))

        def state() -> tuple[object, ...]:
            stats = get_json(f"{SANDBOX_URL}/sandbox/stats")
            rows = (statuses(late), statuses(racers))
            return (
                *(tuple(sorted(r.items())) for r in rows),
                stats["callbacks"]["posted"],
                stats["callbacks"]["held"],
            )

        # 1. The late ones: sent, their callbacks held; unknown outcomes adopted from the list.
        send_to_all(late)
        recover(late, state, passes=PASSES, notes=notes, until=lambda: nothing_in_flight(late))
        wait_for_quiet(state)  # the sandbox's deliveries run to their final status
        shifted = a_day_passes(late)
        fetch_passes = fetch_day_old(late)
        fetched = by_sid(late)
        late_truth = twilio_finals(late)
        notes.append(
            f"a day passed: {shifted} late messages' submitted_at and updated_at moved back 25 h, "
            f"then {fetch_passes} sweeper passes called (the day-old fetch)"
        )
        released = release_late_callbacks()
        wait_for_quiet(state)
        after = by_sid(late)
        notes.append(f"late callbacks released after the fetch: {released} (shuffled, each twice)")
        checks["the day-old fetch recorded Twilio's final status of every late message"] = (
            fetched == late_truth and len(fetched) == size
        )
        checks["no late callback changed a final status"] = after == fetched

        # 2. The racers: every batch of theirs enqueued three times, on two workers.
        before = tasks_per_worker()
        send_to_all(racers)
        extra = enqueue_twice_more(racers)
        recover(racers, state, passes=PASSES, notes=notes)
        racers_truth = twilio_finals(racers)
        per_worker = {
            node: n - before.get(node, 0) for node, n in sorted(tasks_per_worker().items())
        }
        notes.append(
            f"racers: {extra} extra send batches naming the same rows; send batches run per "
            f"worker: {per_worker}"
        )
        checks["every racer ends in Twilio's final status for it"] = by_sid(racers) == racers_truth
        checks["both send workers took send batches"] = len(per_worker) == 2 and all(
            per_worker.values()
        )

        expected = callback_events_expected(late_truth) + callback_events_expected(racers_truth)
        recorded = callback_events(late) + callback_events(racers)
        notes.append(f"callback events: {recorded} recorded, {expected} distinct callbacks")
        checks["one event row per distinct callback (duplicates recorded once)"] = (
            recorded == expected
        )

        totals = [counts(org, SANDBOX_URL) for org in (late, racers)]
        stats = get_json(f"{SANDBOX_URL}/sandbox/stats")
        for org in (late, racers):
            notes.append(
                f"{org.name}: statuses {dict(sorted(statuses(org).items()))}, product events "
                f"{dict(sorted(product_events(org).items()))}"
            )
            notes += histories(org, stats["creates"], not_delivered=False)
        stop(children)
        print_log_problems(children)
        answered_ok, answered_note = callbacks_answered_2xx(web)
        notes.append(answered_note)
        broken = tracebacks(children)
        if broken:
            notes.append(f"a Traceback in the log of: {', '.join(broken)} (logs in {logs})")
        checks["the web answered every status callback 2xx"] = answered_ok
        checks["no Traceback in the product's logs"] = not broken
    return Outcome(
        case=CASE,
        title=TITLE,
        messages=sum(t[0] for t in totals),
        sent=sum(t[1] for t in totals),
        lost=sum(t[2] for t in totals),
        duplicated=sum(t[3] for t in totals),
        seconds=round(time.monotonic() - began, 1),
        notes=notes,
        checks=checks,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="100 late messages and 100 racers")
    parser.add_argument("--out", type=Path, required=True, help="where the outcome is written")
    options = parser.parse_args()
    outcome = measure(options.smoke)
    outcome.write(options.out)
    report(outcome)


if __name__ == "__main__":
    main()
