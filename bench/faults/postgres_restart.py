"""Case 4: PostgreSQL restarted during sends and callbacks: web and workers recover by
themselves; callbacks refused meanwhile are made good by Twilio's retry or the sweeper.

On a private PostgreSQL and Redis, with the sandbox as Twilio (50 ms a create, a status
callback every 200 ms of each message's way: queued, sent, delivered), gunicorn, a
``default`` worker, a ``send`` worker and beat: N contacts (2,000; ``--smoke`` 300) and the
automation "tag ``restart-drill`` added → send one SMS", fired for all of them at once through
the contacts service. Once the sandbox has created a third of the messages, PostgreSQL is
stopped (``pg_ctl stop -m fast``: every session is cut) and started again 10 s later
(``--smoke`` 3 s) while sends and callbacks are in flight. Nothing is restarted but
PostgreSQL: gunicorn, the workers and beat must find a working connection again by themselves
(Django's ``CONN_HEALTH_CHECKS`` per request and, in the workers, before each task); as in
docker-compose (``restart: unless-stopped``), one that exits is started again, and the notes
name it.

The sandbox does not post a callback again (as Twilio, which retries only when asked to in the
callback URL): a callback the web refused meanwhile leaves its message short of its final
status, and the sweeper's day-old status fetch makes it good. To stand for that day, the
sweeper is run as beat would run it 25 hours later (its own ``now``), once the stack is quiet.

Counted over the automation's messages: sent and duplicated at the sandbox, lost from the rows.
Checks: one message per contact; the web answers after the restart; the workers and beat are
still running.

    .venv/bin/python -m bench.faults.postgres_restart [--smoke] --out var/bench/x.json
"""

from __future__ import annotations

import time
import urllib.request

from bench.faults.common import case_options, fault_stack, finish, wait_until
from bench.faults.outcome import Outcome

CASE = "postgres_restart"
FULL, SMOKE = 2000, 300
TAG = "restart-drill"
RESTART_AT = 1 / 3
# Down for this long between stop and start, as a restart of a busy server takes (its
# checkpoint, its recovery), so that callbacks come while nothing answers.
DOWN_S, SMOKE_DOWN_S = 10.0, 3.0


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=10) as answer:  # noqa: S310
            return bool(answer.status == 200)
    except OSError:
        return False


def main() -> None:
    options = case_options(__doc__.splitlines()[0])
    count = SMOKE if options.smoke else FULL
    down = SMOKE_DOWN_S if options.smoke else DOWN_S
    began = time.perf_counter()
    with fault_stack(CASE) as stack:
        from bench.faults import world as w
        from contacts.models import Contact
        from contacts.services.tags import contacts_tag_bulk_add

        stack.sandbox()
        world = w.world_create(count)
        automation = w.sms_automation(world, trigger={"type": "tag_added", "tag": TAG})
        messages = w.messages_of(automation)
        stack.web()
        stack.default_worker()
        stack.send_worker()
        stack.beat()
        stack.watch()

        contacts_tag_bulk_add(
            organization=world.organization,
            contacts=Contact.objects.filter(organization=world.organization),
            name=TAG,
            source="api",
        )
        if not wait_until(
            lambda: len(stack.creates()) >= count * RESTART_AT, seconds=180, every=0.05
        ):
            raise SystemExit("the sandbox did not see a third of the messages in 180 s")
        created_at_restart = len(stack.creates())
        restart_began = time.perf_counter()
        stack.services.postgres.stop(mode="fast")
        time.sleep(down)
        stack.services.postgres.start()
        restart_s = time.perf_counter() - restart_began
        print(f"PostgreSQL restarted in {restart_s:.1f} s at {created_at_restart} created")
        from django.db import connection

        connection.close()  # this process's session was cut too
        web_back = wait_until(lambda: healthy(stack.web_url), seconds=60)

        passes = w.settle(messages, stack, seconds=180)
        w.wait_settled(messages, seconds=30)
        fetched = w.fetch_stale(messages)
        counted = w.count(messages, stack.creates())
        callbacks = stack.stats()["callbacks"]
        running = [child.name for child in stack.children if child.process.poll() is None]

    answers = ", ".join(f"{code}: {n}" for code, n in sorted(callbacks["answers"].items()))
    outcome = Outcome(
        case=CASE,
        title="PostgreSQL restarted during sends and callbacks",
        messages=counted.messages,
        sent=counted.sent,
        lost=counted.lost,
        duplicated=counted.duplicated,
        seconds=round(time.perf_counter() - began, 1),
        notes=[
            f"stopped (-m fast) and started again {restart_s:.1f} s later, at "
            f"{created_at_restart} of {count} created",
            f"status callbacks posted {callbacks['posted']}, answered: {answers}",
            *stack.restarted,
            *passes,
            fetched,
            counted.note(),
        ],
        checks={
            "one message per contact": counted.messages == count,
            "the web answers /healthz after the restart": web_back,
            "web, workers and beat still running": set(running)
            >= {"sandbox", "web", "default", "send", "beat"},
        },
    )
    finish(outcome, options.out)


if __name__ == "__main__":
    main()
