"""Case 1: ``kill -9`` the send worker in the middle of 2,000 sends from an automation, and
restart it.

On a private PostgreSQL and Redis (``bench.faults.services``), with the sandbox as Twilio
(50 ms a create, 30% of them answered 2 s after they are stored; status callbacks to the web,
held back until the sweeper has run), gunicorn, a ``default`` worker, a ``send``
worker (16 threads) and beat: N contacts (2,000; ``--smoke`` 200) who opted in, and the
automation "tag ``fault-drill`` added → send one SMS" (published, active, quiet hours off).
The tag is added to every contact at once through the contacts service (as a bulk tag from the
contacts page does), which fires ``tag_added`` for all of them.

Once the sandbox has created 30-50% of the messages, the send worker is killed with SIGKILL
(its whole process) and a new one started. What the product must do by itself: the killed
batch's unclaimed rows are ``pending`` with a task no worker will run (the broker gives an
unacknowledged task back only after its visibility timeout) and the rows caught mid-call are
``submitting``: the sweeper re-enqueues the first after two minutes and, after five, asks
Twilio for the second and adopts the message Twilio already has instead of sending it again.
To stand for those minutes passing (``bench.faults.world.settle``, once the stack is quiet): a
``pending`` row's ``enqueued_at`` is shifted back three minutes and the sweeper run; with none
left pending, the sweeper is run as beat would run it six minutes later (its own ``now``).

Counted over the automation's messages: sent and duplicated from the sandbox's creates per
message, lost from the rows (not final, suppressed or needs_attention at the end).
Checks: one message per contact; the kill came in the middle (some sent, some not).

    .venv/bin/python -m bench.faults.send_worker_killed [--smoke] --out var/bench/x.json
"""

from __future__ import annotations

import time

from bench.faults.common import case_options, fault_stack, finish, kill9, wait_until
from bench.faults.outcome import Outcome

CASE = "send_worker_killed"
FULL, SMOKE = 2000, 200
TAG = "fault-drill"
KILL_AT = 0.4  # of the messages created by the sandbox
LATENCY_MS = 50
# A share of creates that Twilio stores at once but answers late (inside the read timeout): most
# calls in flight at any moment are such, so the kill leaves messages Twilio has and the rows
# do not know of, which the sweeper must adopt, not send again. Their status callbacks are held
# until the sweeper has run: one would otherwise name the message and settle it first.
SLOW = ("--slow-rate", "0.3", "--slow-ms", "2000")


def main() -> None:
    options = case_options(__doc__.splitlines()[0])
    count = SMOKE if options.smoke else FULL
    began = time.perf_counter()
    with fault_stack(CASE) as stack:
        from bench.faults import world as w
        from contacts.models import Contact
        from contacts.services.tags import contacts_tag_bulk_add

        stack.sandbox(*SLOW, "--hold-callbacks", latency_ms=LATENCY_MS)
        world = w.world_create(count)
        automation = w.sms_automation(world, trigger={"type": "tag_added", "tag": TAG})
        messages = w.messages_of(automation)
        stack.web()
        stack.default_worker()
        send = stack.send_worker()
        stack.beat()

        contacts_tag_bulk_add(
            organization=world.organization,
            contacts=Contact.objects.filter(organization=world.organization),
            name=TAG,
            source="api",
        )
        if not wait_until(lambda: len(stack.creates()) >= count * KILL_AT, seconds=120, every=0.05):
            raise SystemExit(f"the sandbox did not see {KILL_AT:.0%} of the messages in 120 s")
        kill9(send)
        created_at_kill = len(stack.creates())
        print(f"killed the send worker at {created_at_kill} of {count} created", flush=True)
        time.sleep(1.0)  # the rows as the dead worker left them
        left = w.by_status(messages)
        stack.send_worker(name="send-2")
        passes = w.settle(messages, stack)
        held = stack.release_callbacks()
        w.wait_settled(messages)
        counted = w.count(messages, stack.creates())
        faults = stack.stats().get("faults", {})

    outcome = Outcome(
        case=CASE,
        title="kill -9 the send worker in the middle of an automation's sends",
        messages=counted.messages,
        sent=counted.sent,
        lost=counted.lost,
        duplicated=counted.duplicated,
        seconds=round(time.perf_counter() - began, 1),
        notes=[
            f"killed at {created_at_kill} of {count} created; left then: "
            f"{left.get('submitting', 0)} submitting, {left.get('pending', 0)} pending",
            *passes,
            f"status callbacks held until then (so the sweeper, not a callback, finds the dead "
            f"worker's messages Twilio has): {held}",
            f"the sandbox's slow creates (stored, answered 2 s later): {faults.get('slow', 0)}",
            counted.note(),
        ],
        checks={
            "one message per contact": counted.messages == count,
            "killed in the middle": 0 < created_at_kill < count,
        },
    )
    finish(outcome, options.out)


if __name__ == "__main__":
    main()
