"""Date triggers at volume on PostgreSQL: the schedule of 100,000 contacts, and the beat's
pass over it.

Creates a scratch database (``test_<name>`` next to ``DATABASE_URL``'s), fills one organization
with N contacts, each with a ``custom.birthday`` spread over the year and one of 12 time zones
from UTC+13 to UTC-8, connects it (rows only: nothing calls Twilio; the send batches are
counted where they would be published) and activates a yearly birthday automation (09:00, one
Twilio SMS). The clock is fixed at 1 January 00:00 UTC. Two groups have their birthday on
1 January: 275 contacts in Asia/Kolkata (due together at 03:30 UTC: about one day's birthdays
of 100,000 people, due in the same minute when they share a zone) and 10,000 (a tenth of
the contacts at most) in UTC (due together at 09:00 UTC: the worst case); nobody else is due
before 2 January.

It times the activation (the publish, then the schedule built for every contact by the task
after the commit, run in this process as an eager worker would), ``schedule_rebuild`` from an
empty schedule and again with nothing changed (a new version publishing), ``schedule_contacts``
for 1,000 contacts (an import's chunk), and ``dates_enrol_due`` for each due group: the pass
claims the due rows, checks them, enrols the contacts and moves the rows to next year, then
runs their first step (the messages, the larger part; shown apart). Figures go to
``bench/results/dates.json`` (``dates_smoke.json`` with ``--smoke``). Target (the issue): the
date-trigger pass over 100,000 contacts under 5 s.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/smshub \\
        .venv/bin/python -m bench.dates [--contacts 100000 | --smoke]
"""

from __future__ import annotations

import argparse
import datetime
import random
import time
from collections.abc import Callable
from typing import Any

# isort: off
import bench.pages  # noqa: F401 - sets Django up: before any model

# isort: on

from django.db import connection
from django.test.utils import setup_databases, teardown_databases
from django.utils import timezone

from automations.models import Automation, AutomationRun, DateSchedule, RunState
from automations.services import date_pass, dates, engine
from automations.services.automations import automation_activate, automation_create
from bench.fan_out import connect
from bench.pages import machine, require_postgresql
from bench.results import Figure, git_commit, write
from config.celery import app
from contacts.models import Contact
from messaging.models import Message
from messaging.services import sending
from templates_sms.services import template_create
from tenants.models import Organization, User
from tenants.services.organizations import organization_create

SMOKE = 10_000
TARGET_SECONDS = 5.0
NOW = datetime.datetime(2027, 1, 1, 0, 0, tzinfo=datetime.UTC)
ZONES = [
    "Pacific/Auckland",
    "Australia/Sydney",
    "Asia/Tokyo",
    "Asia/Singapore",
    "Asia/Dubai",
    "Europe/Moscow",
    "Europe/Paris",
    "Europe/London",
    "America/Sao_Paulo",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
]
DAY_GROUP = ("Asia/Kolkata", 275)  # 09:00 IST is 03:30 UTC
WORST_GROUP = ("UTC", 10_000)
BIRTHDAY = {
    "type": "date_field",
    "field": "custom.birthday",
    "offset_days": 0,
    "time": "09:00",
    "recurrence": "yearly",
}


def fill(count: int) -> Organization:
    owner = User.objects.create_user("bench@example.com", "bench-password-123")
    organization = organization_create(name="Bench", owner=owner)
    rng = random.Random(7)
    groups = [DAY_GROUP, (WORST_GROUP[0], min(WORST_GROUP[1], count // 10))]
    fixed = [zone for zone, size in groups for _ in range(size)]
    batch = 5000
    for start in range(0, count, batch):
        contacts = []
        for n in range(start, min(start + batch, count)):
            if n < len(fixed):
                zone, birthday = fixed[n], datetime.date(1980 + n % 30, 1, 1)
            else:  # from 3 January on: nobody else is due before 2 January, whatever the zone
                zone = ZONES[n % len(ZONES)]
                birthday = datetime.date(1950 + n % 55, 1, 3) + datetime.timedelta(
                    days=rng.randrange(363)
                )
            contact = Contact(
                organization=organization,
                phone=f"+1415{2000000 + n:07d}",
                first_name="Ann",
                time_zone=zone,
                custom_fields={"birthday": birthday.isoformat()},
            )
            contact.search = contact.search_text()
            contacts.append(contact)
        Contact.objects.bulk_create(contacts)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return organization


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def run(count: int) -> dict[str, float]:
    app.conf.task_always_eager = True
    sending.send_batches = lambda ids, *, total=None: None  # type: ignore[attr-defined, assignment]
    clock = {"now": NOW}
    timezone.now = lambda: clock["now"]  # the bench's fixed clock, as the tests' Clock
    organization = fill(count)
    connect(organization)
    text = template_create(organization=organization, name="Birthday", body="Happy birthday!")
    automation = automation_create(
        organization=organization,
        name="Birthdays",
        definition={
            "trigger": BIRTHDAY,
            "steps": [
                {
                    "id": "s1",
                    "type": "send_sms",
                    "template": str(text.template.public_id),
                    "respect_quiet_hours": False,
                }
            ],
        },
        complete=True,
    )
    got: dict[str, float] = {}
    got["activate"], _ = timed(lambda: automation_activate(automation=automation))
    got["scheduled"] = DateSchedule.objects.filter(automation=automation).count()
    automation = Automation.objects.select_related("live_version").get(pk=automation.pk)
    DateSchedule.objects.all().delete()
    got["rebuild_empty"], _ = timed(lambda: dates.schedule_rebuild(automation=automation))
    got["rebuild_same"], _ = timed(lambda: dates.schedule_rebuild(automation=automation))
    some = list(Contact.objects.order_by("-pk").values_list("pk", flat=True)[:1000])
    got["contacts_1000"], _ = timed(
        lambda: dates.schedule_contacts(organization_id=organization.pk, contact_ids=some)
    )

    advancing = {"seconds": 0.0}
    advance = engine.runs_advance_ids

    def advance_timed(run_ids: list[int]) -> int:
        seconds, advanced = timed(lambda: advance(run_ids))
        advancing["seconds"] += seconds
        return int(advanced)

    setattr(dates, "runs_advance_ids", advance_timed)  # noqa: B010 - the pass's first steps, timed
    for name, at in (("day", (3, 30)), ("worst", (9, 0))):
        clock["now"] = NOW.replace(hour=at[0], minute=at[1], second=20)
        advancing["seconds"] = 0.0
        due = DateSchedule.objects.filter(due_at__lte=clock["now"]).count()
        got[f"{name}_seconds"], enrolled = timed(lambda: date_pass.dates_enrol_due())
        got[f"{name}_due"], got[f"{name}_enrolled"] = due, enrolled
        got[f"{name}_first_steps"] = advancing["seconds"]
    got["runs"] = AutomationRun.objects.filter(state=RunState.COMPLETED).count()
    got["messages"] = Message.objects.count()
    got["left_due"] = DateSchedule.objects.filter(due_at__lte=clock["now"]).count()
    return got


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
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
            f"{count:,} contacts, {got['scheduled']:,.0f} scheduled: activation (publish and "
            f"schedule) {got['activate']:.2f} s; schedule_rebuild from empty "
            f"{got['rebuild_empty']:.2f} s, unchanged {got['rebuild_same']:.2f} s; "
            f"schedule_contacts of 1,000 {got['contacts_1000']:.3f} s"
        )
        for name in ("day", "worst"):
            print(
                f"pass with {got[f'{name}_due']:,.0f} due: {got[f'{name}_seconds']:.2f} s for "
                f"{got[f'{name}_enrolled']:,.0f} enrolled, of which first steps (messages) "
                f"{got[f'{name}_first_steps']:.2f} s"
            )
        print(
            f"{got['runs']:,.0f} enrolments completed, {got['messages']:,.0f} messages, "
            f"{got['left_due']:,.0f} rows left due"
        )

        def seconds(name: str, value: float) -> Figure:
            return Figure(name, round(value, 3), "s", target=TARGET_SECONDS, higher_is_better=False)

        day, worst = int(got["day_due"]), int(got["worst_due"])
        write(
            "dates_smoke" if options.smoke else "dates",
            [
                seconds(f"schedule_rebuild of {count:,}, from empty", got["rebuild_empty"]),
                seconds(f"schedule_rebuild of {count:,}, unchanged", got["rebuild_same"]),
                seconds(f"activation of {count:,} (publish + schedule)", got["activate"]),
                seconds("schedule_contacts of 1,000", got["contacts_1000"]),
                seconds(f"pass, {day:,} due, with first steps", got["day_seconds"]),
                seconds(
                    f"pass, {day:,} due, without first steps",
                    got["day_seconds"] - got["day_first_steps"],
                ),
                seconds(f"pass, {worst:,} due, with first steps", got["worst_seconds"]),
                seconds(
                    f"pass, {worst:,} due, without first steps",
                    got["worst_seconds"] - got["worst_first_steps"],
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
