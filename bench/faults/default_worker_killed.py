"""Case 2: ``kill -9`` the default worker in the middle of a 20,000-contact launch and of a
20,000-row import.

On a private PostgreSQL and Redis, with the sandbox as Twilio (50 ms a create), gunicorn, a
``default`` worker (prefork, 2 processes), a ``send`` worker (16 threads) and beat.

1. **The launch**: N contacts (20,000; ``--smoke`` 2,000) who opted in and a manual automation
   "Run now → send one SMS" (active, quiet hours off), launched to everyone as the
   confirmation's POST does (``launch_create``). Once a third of its contacts are done, the
   default worker is killed with SIGKILL (its main process and its pool processes) and a new
   one started.
2. **The import**: a CSV file of N new numbers, uploaded and started as the import page does
   (``import_upload``, ``import_start``); the worker is killed again once a third of the rows
   are read, and another started.

What the product must do by itself: a launch or an import that no worker touches for two
minutes is started again by its sweeper (``launches_resume``, ``imports_resume``, on beat every
minute), from the chunk it had reached; a chunk is one transaction, so it happened once or not
at all. To stand for those minutes, each sweeper is called as it would run three minutes later
(its own ``now``) once the work has stopped moving; the messages' sweeper gets lost tasks'
rows with their ``enqueued_at`` shifted back three minutes (``bench.faults.world.settle``).

Counted over the launch's messages: sent and duplicated at the sandbox, lost from the rows.
Checks: the launch and the import completed; one enrolment and one message per contact of the
launch; one contact per row of the import, each counted once as created.

    .venv/bin/python -m bench.faults.default_worker_killed [--smoke] --out var/bench/x.json
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable

from bench.faults.common import case_options, fault_stack, finish, kill9, wait_until
from bench.faults.common import wait_for_quiet as quiet
from bench.faults.outcome import Outcome
from bench.stack import Child

CASE = "default_worker_killed"
FULL, SMOKE = 20_000, 2_000
KILL_AT = 1 / 3
# Past the two minutes after which a launch's or an import's sweeper takes it for abandoned.
RESUME_AHEAD = datetime.timedelta(minutes=3)
IMPORT_FIRST_PHONE = 500_000  # the imported numbers, apart from the launch's contacts


def kill_when(default: Child, reached: Callable[[], bool], what: str) -> None:
    if not wait_until(reached, seconds=600, every=0.1):
        raise SystemExit(f"the {what} did not reach a third in 600 s")
    kill9(default)
    print(f"killed the default worker a third into the {what}", flush=True)


def resume(
    progress: Callable[[], object],
    finished: Callable[[], bool],
    sweep: Callable[[datetime.datetime], int],
    seconds: float,
) -> list[int]:
    """Waits while the work moves by itself; when it stops short of the end, runs its sweeper
    ahead (``RESUME_AHEAD``) and waits again. Returns what each sweeper pass restarted."""
    from django.utils import timezone

    restarted = []
    deadline = time.monotonic() + seconds
    while not finished() and time.monotonic() < deadline:
        quiet(progress, quiet_s=5.0, seconds=max(deadline - time.monotonic(), 1))
        if finished():
            break
        restarted.append(sweep(timezone.now() + RESUME_AHEAD))
        print(f"sweeper run ahead: {restarted[-1]} restarted", flush=True)
    return restarted


def main() -> None:
    options = case_options(__doc__.splitlines()[0])
    count = SMOKE if options.smoke else FULL
    began = time.perf_counter()
    with fault_stack(CASE) as stack:
        from django.core.files.uploadedfile import SimpleUploadedFile
        from django.db.models import Count

        from automations.models import OPEN_LAUNCH_STATES, AutomationRun, Launch, LaunchState
        from automations.services.launches import launch_create, launches_resume
        from bench.faults import world as w
        from contacts.imports.run import imports_resume
        from contacts.imports.services import import_start, import_upload
        from contacts.models import OPEN_IMPORT_STATES, Contact, ContactImport, ImportState

        stack.sandbox()
        world = w.world_create(count)
        automation = w.sms_automation(world, trigger={"type": "manual"}, name="Spring sale")
        messages = w.messages_of(automation)
        stack.web()
        default = stack.default_worker()
        stack.send_worker()
        stack.beat()

        # 1. The launch.
        launch = launch_create(automation=automation, audience={"all": True}, by=world.owner)
        row = Launch.objects.filter(pk=launch.pk)
        third = count * KILL_AT
        kill_when(default, lambda: row.values_list("done", flat=True)[0] >= third, "launch")
        launch_done_at_kill = row.values_list("done", flat=True)[0]
        default = stack.default_worker(name="default-2")
        launch_restarts = resume(
            lambda: row.values_list("done", "state")[0],
            lambda: row.values_list("state", flat=True)[0] not in OPEN_LAUNCH_STATES,
            lambda now: launches_resume(now=now),
            seconds=600,
        )
        passes = w.settle(messages, stack, seconds=300)
        w.wait_settled(messages, seconds=120)
        launch.refresh_from_db()
        runs = AutomationRun.objects.filter(automation=automation)
        runs_twice = runs.values("contact_id").annotate(n=Count("pk")).filter(n__gt=1).count()
        messages_twice = (
            messages.values("contact_id").annotate(n=Count("pk")).filter(n__gt=1).count()
        )
        counted = w.count(messages, stack.creates())

        # 2. The import.
        lines = ["phone,first_name"] + [
            f"{w.phone(IMPORT_FIRST_PHONE + n)},Ben" for n in range(count)
        ]
        upload = SimpleUploadedFile(
            "contacts.csv", ("\n".join(lines) + "\n").encode(), content_type="text/csv"
        )
        contact_import = import_upload(organization=world.organization, file=upload, by=world.owner)
        import_start(contact_import=contact_import)
        imported = ContactImport.objects.filter(pk=contact_import.pk)
        kill_when(default, lambda: imported.values_list("cursor", flat=True)[0] >= third, "import")
        import_cursor_at_kill = imported.values_list("cursor", flat=True)[0]
        stack.default_worker(name="default-3")
        import_restarts = resume(
            lambda: imported.values_list("cursor", "state")[0],
            lambda: imported.values_list("state", flat=True)[0] not in OPEN_IMPORT_STATES,
            lambda now: imports_resume(now=now),
            seconds=600,
        )
        contact_import.refresh_from_db()
        phones = [w.phone(IMPORT_FIRST_PHONE + n) for n in range(count)]
        contacts_of_rows = Contact.objects.filter(
            organization=world.organization, phone__in=phones
        ).count()
        enrolments = runs.count()

    outcome = Outcome(
        case=CASE,
        title="kill -9 the default worker in the middle of a launch and of an import",
        messages=counted.messages,
        sent=counted.sent,
        lost=counted.lost,
        duplicated=counted.duplicated,
        seconds=round(time.perf_counter() - began, 1),
        notes=[
            f"launch: killed at {launch_done_at_kill} of {count} contacts done; "
            f"its sweeper restarted it {sum(launch_restarts)} time(s); {launch.state}, "
            f"{launch.done} done, {launch.enrolled} enrolled",
            *passes,
            counted.note(),
            f"import: killed at row {import_cursor_at_kill} of {count}; its sweeper restarted "
            f"it {sum(import_restarts)} time(s); {contact_import.state}, "
            f"{contact_import.created} created, {contact_import.errors} errors",
        ],
        checks={
            "launch completed": launch.state == LaunchState.COMPLETED,
            "launch: one enrolment per contact": enrolments == count and not runs_twice,
            "launch: one message per contact": counted.messages == count and not messages_twice,
            "import completed": contact_import.state == ImportState.COMPLETED,
            "import: one contact per row": contacts_of_rows == count,
            "import: every row counted once": contact_import.created == count,
            "killed in the middle": 0 < launch_done_at_kill < count
            and 0 < import_cursor_at_kill < count,
        },
    )
    finish(outcome, options.out)


if __name__ == "__main__":
    main()
