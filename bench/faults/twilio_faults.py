"""Fault case 5, ``twilio_faults``: Twilio answers 20% of creates with 500 (half of them after
creating the message), 10% with 429, stores some creates but answers them 5 s past the send's
read timeout, and goes away for 30 s in the middle of 2,000 sends (``--smoke``: 200 sends, a
5-second outage).

The stack, as docker-compose runs it, on the shared PostgreSQL (a scratch database) and Redis
database 11: the sandbox with those faults (``--http-500-rate 0.2 --http-500-created-rate 0.5
--http-429-rate 0.1 --slow-rate`` 0.02, 0.05 in the smoke, ``--slow-ms 15000`` against the
seam's 10 s read timeout), gunicorn, a send worker (16 threads), a default worker and beat. An
organization connected to the sandbox sends one text to each of its contacts
(``message_send_many``, as a launch does); once a third of them have been claimed, the sandbox
is told to go away (``POST /sandbox/outage``): its port refuses connections, open ones drop,
its status callbacks wait.

Then the product recovers by itself: retries after 429s and refused connections, callbacks and
the sweeper's lookups for unknown outcomes (adopt what Twilio has, send again what it has
not). Time is the one thing helped along, and the notes say how much: after the outage, at
each pass the retry backoffs still running end at once and unknown outcomes are aged past the
sweeper's one-minute wait, then beat's due-messages task and the sweeper are called in this
process (beat runs them too, on its schedule).

Counted: sent and duplicated from the sandbox's creates per message, lost from the database
(not final, suppressed or needs_attention after the passes). Checks: every message delivered
(the sandbox fails none) or failed after its five attempts (the retry limit: 500s and 429s
use them up; the notes say how many), none handed to a person (one text
per recipient is never ambiguous), every fault exercised, the web answered every status
callback 2xx, no Traceback in the product's logs (web, workers, beat).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/smshub \\
        .venv/bin/python -m bench.faults.twilio_faults [--smoke] --out <path.json>
"""

from __future__ import annotations

import argparse
import time
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

REDIS = "redis://127.0.0.1:6379/11"
SANDBOX_PORT, WEB_PORT = free_port(), free_port()
SANDBOX_URL, WEB_URL = f"http://127.0.0.1:{SANDBOX_PORT}", f"http://127.0.0.1:{WEB_PORT}"
set_stack_environment(redis_url=REDIS, sandbox_url=SANDBOX_URL, web_url=WEB_URL)

import bench.pages  # noqa: E402, F401 - sets Django up
from bench.faults.outcome import Outcome  # noqa: E402
from bench.faults.sandboxed import (  # noqa: E402
    callbacks_answered_2xx,
    counts,
    gave_up,
    histories,
    post_json,
    product_events,
    recover,
    report,
    statuses,
    tracebacks,
)
from bench.sending import prepare, send_to_all  # noqa: E402
from messaging.models import Message, Status  # noqa: E402
from messaging.services.failed_calls import MAX_ATTEMPTS  # noqa: E402
from tenants.models import Organization  # noqa: E402

CASE = "twilio_faults"
TITLE = "Twilio: 20% 500s, 10% 429s, slow creates, a 30 s outage"
SEND_RATE = Decimal(1000)  # segments a second: the rate limit holds nothing back
LATENCY_MS = 50
SLOW_MS = 15_000  # the seam's read timeout (10 s) and 5 s more
FAULTS = ("--http-500-rate", "0.2", "--http-500-created-rate", "0.5", "--http-429-rate", "0.1")
PASSES = 12


def sizes(smoke: bool) -> tuple[int, float, float]:
    """(messages, outage seconds, share of slow creates)."""
    return (200, 5.0, 0.05) if smoke else (2000, 30.0, 0.02)


def claimed(organization: Organization) -> int:
    return Message.objects.filter(organization=organization, submitted_at__isnull=False).count()


def send_through_an_outage(organization: Organization, count: int, outage_s: float) -> float:
    """Sends to everyone; the sandbox goes away once a third were claimed. Returns when the
    outage began (monotonic)."""
    created = send_to_all(organization)
    if created != count:
        raise SystemExit(f"message_send_many created {created} messages of {count}")
    deadline = time.monotonic() + 120
    while claimed(organization) < count // 3:
        if time.monotonic() > deadline:
            raise SystemExit("a third of the messages were not claimed within 120 s")
        time.sleep(0.05)
    began = time.monotonic()
    post_json(f"{SANDBOX_URL}/sandbox/outage", {"seconds": outage_s})
    print(f"outage: {outage_s:.0f} s, {claimed(organization)} of {count} claimed", flush=True)
    return began


def measure(smoke: bool) -> Outcome:
    count, outage_s, slow_rate = sizes(smoke)
    began = time.monotonic()
    with scratch_stack(CASE, REDIS) as (logs, children):
        flags = [*FAULTS, "--slow-rate", str(slow_rate), "--slow-ms", str(SLOW_MS), "--seed", "5"]
        children.append(
            start_sandbox(
                logs, port=SANDBOX_PORT, latency_ms=LATENCY_MS, callback_delay_ms=200, flags=flags
            )
        )
        organization = prepare(count, send_rate=SEND_RATE, name="Faults")
        children.append(web := start_web(logs, port=WEB_PORT, workers=3))
        children.append(start_worker(logs, queue="send", pool="threads", concurrency=16))
        children.append(
            start_worker(logs, queue="default", pool="prefork", concurrency=1, name="default")
        )
        children.append(start_beat(logs))

        outage_began = send_through_an_outage(organization, count, outage_s)
        time.sleep(max(0.0, outage_began + outage_s + 1 - time.monotonic()))
        if not get_json(f"{SANDBOX_URL}/sandbox/stats")["up"]:
            raise SystemExit("the sandbox did not come back after its outage")

        notes: list[str] = []

        def state() -> tuple[object, ...]:
            stats = get_json(f"{SANDBOX_URL}/sandbox/stats")
            return (tuple(sorted(statuses(organization).items())), stats["callbacks"]["posted"])

        recover(organization, state, passes=PASSES, notes=notes)
        messages, sent, lost, duplicated = counts(organization, SANDBOX_URL)
        stats = get_json(f"{SANDBOX_URL}/sandbox/stats")
        final = statuses(organization)
        attention = Message.objects.filter(organization=organization, needs_attention=True)
        given_up = gave_up(organization)
        settled_well = final.get(Status.DELIVERED, 0) + given_up == count
        stop(children)
        print_log_problems(children)
        answered_ok, answered_note = callbacks_answered_2xx(web)
        broken = tracebacks(children)
        faults = stats["faults"]
        notes += [
            f"sandbox faults: {dict(sorted(faults.items()))}, then a {outage_s:.0f} s outage",
            f"product events: {dict(sorted(product_events(organization).items()))}",
            f"statuses: {dict(sorted(final.items()))}; failed after {MAX_ATTEMPTS} attempts "
            f"(the retry limit): {given_up}",
            answered_note,
        ]
        notes += histories(organization, stats["creates"])
        if broken:
            notes.append(f"a Traceback in the log of: {', '.join(broken)} (logs in {logs})")
        checks = {
            f"every message delivered, or failed after its {MAX_ATTEMPTS} attempts": settled_well,
            "no message handed to a person": not attention.exists(),
            "every fault exercised (429, 500 created or not, slow)": all(
                faults.get(kind) for kind in ("429", "500-created", "500-not-created", "slow")
            ),
            "the web answered every status callback 2xx": answered_ok,
            "no Traceback in the product's logs": not broken,
        }
    return Outcome(
        case=CASE,
        title=TITLE,
        messages=messages,
        sent=sent,
        lost=lost,
        duplicated=duplicated,
        seconds=round(time.monotonic() - began, 1),
        notes=notes,
        checks=checks,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="200 sends, a 5-second outage")
    parser.add_argument("--out", type=Path, required=True, help="where the outcome is written")
    options = parser.parse_args()
    outcome = measure(options.smoke)
    outcome.write(options.out)
    report(outcome)


if __name__ == "__main__":
    main()
