"""Case 3: Redis stopped for 30 seconds while automations fire and the API is used: the web
keeps answering (rows stored, sends wait), and everything goes out after Redis returns.

On a private PostgreSQL and Redis (Redis is the broker, the cache, the rate limiter and the
idempotency keys), with the sandbox as Twilio, gunicorn, a ``default`` worker, a ``send``
worker and beat: N contacts (600; ``--smoke`` 150) and the automation "tag ``outage-drill``
added → send one SMS". A client adds the tag to one contact after another through the REST
API (``POST /api/v1/contacts/<id>/tags/``, 10 a second, each on its own thread) and reads the
contact list (``GET /api/v1/contacts/``) every second. A fifth of the way in, Redis is shut
down (SIGTERM, as ``docker compose stop`` does) for 30 s (``--smoke`` 5 s), then started again
on its port with its append-only file.

As in docker-compose (``restart: unless-stopped``), a process that exits by itself is started
again (``Stack.watch``); the notes name any that did.

What a user may expect: every request answered (2xx, or a clear error that changed nothing:
then the contact is not tagged and nothing is owed), each tag that was stored fires its
automation once, and its message goes out once after Redis is back. The product recovers by
itself; only its sweepers are run ahead, as they would run minutes later, once the stack is
quiet (``bench.faults.world.settle``), and a day later for a final status callback that could
not be taken meanwhile (``fetch_stale``).

Counted per contact whose tag was stored: a message created, sent (the sandbox's creates),
duplicated, or lost (no message at all, or one left unsettled). Checks: every request got an
answer, no answer was a 5xx other than a clear 503, no refused tag was stored.

    .venv/bin/python -m bench.faults.redis_outage [--smoke] --out var/bench/x.json
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass

from bench.faults.common import case_options, fault_stack, finish
from bench.faults.outcome import Outcome

CASE = "redis_outage"
FULL, SMOKE = 600, 150
OUTAGE_S, SMOKE_OUTAGE_S = 30.0, 5.0
INTERVAL_S = 0.1  # tag adds: 10 a second
TAG = "outage-drill"


@dataclass
class Answer:
    what: str  # "tag" or "list"
    contact: str = ""
    status: int = 0  # 0: no answer at all
    body: str = ""


def call(url: str, key: str, into: Answer, payload: dict[str, str] | None = None) -> None:
    request = urllib.request.Request(  # noqa: S310 - our own gunicorn
        url,
        data=json.dumps(payload).encode() if payload is not None else None,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST" if payload is not None else "GET",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            into.status = answer.status
    except urllib.error.HTTPError as error:
        into.status, into.body = error.code, error.read()[:300].decode(errors="replace")
    except OSError as error:
        into.body = str(error)


def load(web_url: str, key: str, contacts: list[str], answers: list[Answer]) -> None:
    """A tag add every ``INTERVAL_S`` and a list read every second, each on its own thread,
    whatever the answers so far (open loop)."""
    threads = []
    begin = time.monotonic()
    for i, contact in enumerate(contacts):
        delay = begin + i * INTERVAL_S - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        jobs: list[tuple[Answer, dict[str, str] | None, str]] = [
            (Answer("tag", contact), {"name": TAG}, f"contacts/{contact}/tags/")
        ]
        if i % 10 == 0:
            jobs.append((Answer("list"), None, "contacts/"))
        for answer, payload, path in jobs:
            answers.append(answer)
            thread = threading.Thread(
                target=call,
                args=(f"{web_url}/api/v1/{path}", key, answer, payload),
                daemon=True,
            )
            thread.start()
            threads.append(thread)
    for thread in threads:
        thread.join(timeout=60)


def main() -> None:
    options = case_options(__doc__.splitlines()[0])
    count = SMOKE if options.smoke else FULL
    outage = SMOKE_OUTAGE_S if options.smoke else OUTAGE_S
    began = time.perf_counter()
    with fault_stack(CASE) as stack:
        from django.db.models import Count

        from bench.faults import world as w
        from contacts.models import Contact

        stack.sandbox()
        world = w.world_create(count)
        automation = w.sms_automation(world, trigger={"type": "tag_added", "tag": TAG})
        messages = w.messages_of(automation)
        key = w.api_secret(world)
        stack.web()
        stack.default_worker()
        stack.send_worker()
        stack.beat()
        stack.watch()

        answers: list[Answer] = []
        ids = [str(contact.public_id) for contact in world.contacts]
        client = threading.Thread(target=load, args=(stack.web_url, key, ids, answers))
        client.start()
        time.sleep(count * INTERVAL_S / 5)
        stack.services.redis.stop()
        down_from = len(answers)
        print(f"Redis stopped after {down_from} requests, for {outage:.0f} s", flush=True)
        time.sleep(outage)
        stack.services.redis.start()
        back_at = len(answers)
        print(f"Redis back after {back_at} requests", flush=True)
        client.join()

        passes = w.settle(messages, stack, seconds=180)
        w.wait_settled(messages, seconds=60)
        fetched = w.fetch_stale(messages)  # a callback the web could not take meanwhile
        tagged = set(
            Contact.objects.filter(organization=world.organization, tags__name=TAG)
            .values_list("public_id", flat=True)
            .distinct()
        )
        tagged_ids = {str(public_id) for public_id in tagged}
        counted = w.count(messages, stack.creates())
        with_message = set(
            messages.values_list("contact__public_id", flat=True).annotate(n=Count("pk"))
        )
        missing = len(tagged_ids - {str(public_id) for public_id in with_message})
        refused_but_stored = sum(
            1 for a in answers if a.what == "tag" and a.status >= 400 and a.contact in tagged_ids
        )

    by_status = Counter(a.status for a in answers)
    during = Counter(a.status for a in answers[down_from:back_at])
    unclear = [a for a in answers if a.status >= 500 and a.status != 503]
    outcome = Outcome(
        case=CASE,
        title=f"Redis stopped for {outage:.0f} s while automations fire and the API is used",
        messages=len(tagged_ids),
        sent=counted.sent,
        lost=counted.lost + missing,
        duplicated=counted.duplicated,
        seconds=round(time.perf_counter() - began, 1),
        notes=[
            "web answers by status: " + shown(by_status),
            "of them while Redis was down: " + shown(during),
            f"contacts tagged {len(tagged_ids)} of {count}; messages {counted.messages}; "
            f"tagged contacts without a message {missing}",
            *stack.restarted,
            *passes,
            fetched,
            counted.note(),
            *(f"first {a.status}: {a.body[:160]}" for a in unclear[:1]),
        ],
        checks={
            "every request answered": not by_status.get(0),
            "no 5xx but a clear 503": not unclear,
            "no refused tag stored": not refused_but_stored,
        },
    )
    finish(outcome, options.out)


def shown(counts: Counter[int]) -> str:
    return ", ".join(f"{status or 'no answer'}: {n}" for status, n in sorted(counts.items()))


if __name__ == "__main__":
    main()
