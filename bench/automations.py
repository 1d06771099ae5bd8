"""Automations at volume on PostgreSQL: a bulk tag of N contacts to enrolments and pending
messages, then the engine advancing N due waits.

Creates a scratch database (``test_<name>`` next to ``DATABASE_URL``'s), fills one organization
with N contacts (1% opted out), connects it (rows only: nothing calls Twilio; the send batches
are counted where they would be published), and activates "tag new-lead → send → wait 1 day →
send". Then it times ``contacts_tag_bulk_add`` of the tag to every contact until its events
have enrolled them and their first messages are written (tasks run in this process, as an
eager worker would), and the engine advancing every wait once it is made due, with the
queries of each batch (the first of 20 enrolments, the others of 500). Figures go to
``bench/results/automations.json`` (``automations_smoke.json`` with ``--smoke``). Targets
(issue 12): under 10 s each for 10,000 contacts; queries per batch constant as it grows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/smshub \\
        .venv/bin/python -m bench.automations [--contacts 10000 | --smoke]
"""

from __future__ import annotations

import argparse
import time

# isort: off
import bench.pages  # noqa: F401 - sets Django up: before any model

# isort: on

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext, setup_databases, teardown_databases
from django.utils import timezone

from automations.models import AutomationRun, RunState
from automations.services import engine
from automations.services.automations import automation_activate, automation_create
from bench.contacts_list import fill

# bench.pages sets Django up: import it before any model.
from bench.fan_out import connect
from bench.pages import machine, require_postgresql
from bench.results import Figure, git_commit, write
from config.celery import app
from contacts.models import Contact
from contacts.services.tags import contacts_tag_bulk_add
from messaging.models import Message
from messaging.services import sending
from templates_sms.services import template_create
from tenants.models import Organization

SMOKE = 1_000
SMALL_BATCH = 20
SECONDS_PER_CONTACT = 10 / 10_000


def prepare(count: int) -> Organization:
    organization = Organization.objects.get(memberships__user=fill(count))
    connect(organization)
    first = template_create(organization=organization, name="Welcome", body="Hi {{ first_name }}!")
    later = template_create(organization=organization, name="Follow-up", body="Still there?")

    def step(step_id: str, template: object) -> dict[str, object]:
        public_id = template.template.public_id  # type: ignore[attr-defined]
        return {
            "id": step_id,
            "type": "send_sms",
            "template": str(public_id),
            "respect_quiet_hours": False,
        }

    automation = automation_create(
        organization=organization,
        name="Welcome new leads",
        definition={
            "trigger": {"type": "tag_added", "tag": "new-lead"},
            "steps": [
                step("s1", first),
                {"id": "s2", "type": "wait", "duration": {"days": 1}},
                step("s3", later),
            ],
        },
        complete=True,
    )
    automation_activate(automation=automation)
    return organization


def run(count: int) -> dict[str, float]:
    app.conf.task_always_eager = True
    sending.send_batches = lambda ids, *, total=None: None  # type: ignore[attr-defined, assignment]
    organization = prepare(count)
    contacts = Contact.objects.filter(organization=organization)
    started = time.perf_counter()
    with transaction.atomic():
        contacts_tag_bulk_add(
            organization=organization, contacts=contacts, name="new-lead", source="ui"
        )
    tagged = time.perf_counter() - started  # the events ran on commit, inside the block
    waiting = AutomationRun.objects.filter(state=RunState.WAITING).count()
    first_messages = Message.objects.count()

    AutomationRun.objects.filter(state=RunState.WAITING).update(due_at=timezone.now())
    per_batch: list[int] = []
    started = time.perf_counter()
    limit = SMALL_BATCH  # the first batch small, the rest full: their queries must not differ
    while True:
        with CaptureQueriesContext(connection) as queries:
            claimed = engine.runs_advance(limit=limit)
        if not claimed:
            break
        per_batch.append(len(queries.captured_queries))
        limit = engine.BATCH
    advanced = time.perf_counter() - started
    return {
        "tag_seconds": tagged,
        "enrolled": waiting,
        "first_messages": first_messages,
        "advance_seconds": advanced,
        "completed": AutomationRun.objects.filter(state=RunState.COMPLETED).count(),
        "messages": Message.objects.count(),
        "queries_min": min(per_batch),
        "queries_max": max(per_batch),
        "batches": len(per_batch),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--smoke", action="store_true", help=f"{SMOKE:,} contacts (CI)")
    options = parser.parse_args()
    count = SMOKE if options.smoke else options.contacts
    require_postgresql()
    databases = setup_databases(verbosity=0, interactive=False)
    try:
        about = machine()
        print(about)
        got = run(count)
        print(
            f"bulk tag of {count:,}: {got['tag_seconds']:.1f} s to {got['enrolled']:,} "
            f"enrolments waiting and {got['first_messages']:,} messages; advancing the waits: "
            f"{got['advance_seconds']:.1f} s for {got['completed']:,} completed "
            f"({got['messages']:,} messages in all), {got['batches']} batches of up to "
            f"{engine.BATCH} (the first of {SMALL_BATCH}), "
            f"{got['queries_min']}-{got['queries_max']} queries each"
        )
        target = round(count * SECONDS_PER_CONTACT, 1)
        write(
            "automations_smoke" if options.smoke else "automations",
            [
                Figure(
                    f"bulk tag {count:,} to enrolments and messages",
                    round(got["tag_seconds"], 2),
                    "s",
                    target=target,
                    higher_is_better=False,
                ),
                Figure(
                    f"advance {count:,} due waits",
                    round(got["advance_seconds"], 2),
                    "s",
                    target=target,
                    higher_is_better=False,
                ),
                Figure(
                    "queries per engine batch, largest (target: smallest)",
                    got["queries_max"],
                    "queries",
                    target=got["queries_min"],
                    higher_is_better=False,
                ),
            ],
            postgresql=about.rsplit("PostgreSQL ", 1)[-1],
            contacts=count,
            commit=git_commit(),
        )
    finally:
        teardown_databases(databases, verbosity=0)


if __name__ == "__main__":
    main()
