"""Launches at volume on PostgreSQL and Redis: the preflight for N contacts, and a manual
launch from its confirmation to every message pending and its send task on the broker, for
N / 10 and N contacts (is the cost linear?), the worker's peak memory measured.

Creates a scratch database (``test_<name>`` next to ``DATABASE_URL``'s) with one organization
of N contacts (1% opted out, a fifth tagged vip; numbers in the US), connected (rows only:
nothing calls Twilio; its US prices are put in the cache as a day's cache would hold them) and
a `manual` automation "Run now → send Hi {{ first_name }}!" (quiet hours off, re-entry every
time, so both launches enrol everyone). The launch is created in this process, as the
confirmation's POST does; its ``launches.WORKERS`` tasks run in as many fresh worker processes
side by side (``--work``), as the `default` worker's processes would run ``work_launch``, each
timed from its own start (a worker is up before the launch) and publishing the send batches
to Redis (``CELERY_BROKER_URL``, default ``redis://127.0.0.1:6379/7``; the queue is emptied
afterwards, nothing sends them).
Figures go to ``bench/results/launches.json`` (``launches_smoke.json`` with ``--smoke``).
Targets (issue 13): preflight for 100,000 under 2 s; launch of 100,000 under 30 s; the
worker under 300 MB; 10 times the contacts at most 1.3 times the cost per contact.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/smshub \\
        .venv/bin/python -m bench.launches [--contacts 100000 | --smoke]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

# isort: off
import bench.pages  # noqa: F401 - sets Django up: before any model

# isort: on

from django.core.cache import cache
from django.test.utils import setup_databases, teardown_databases

from automations.models import Automation
from automations.services.automations import automation_activate, automation_create
from automations.services.launches import WORKERS, launch_create, launch_preflight, launch_work
from bench.contacts_list import fill
from bench.fan_out import ACCOUNT_SID, connect
from bench.pages import machine, require_postgresql
from bench.results import Figure, git_commit, write
from bench.stack import peak_mb, worker_part
from connections.services.pricing import CACHE_SECONDS, _cache_key
from connections.twilio_prices import MessagingPrices, OutboundSmsPrice
from contacts.models import Contact, ContactTag, Tag
from messaging.models import Message, Status
from templates_sms.services import template_create
from tenants.models import Organization

SMOKE = 10_000  # a tenth of the full run
BROKER = "redis://127.0.0.1:6379/7"
PREFLIGHT_SECONDS = 2.0 / 100_000
LAUNCH_SECONDS = 30.0 / 100_000
WORKER_MB = 300.0
LINEAR = 1.3


def prepare(count: int) -> Automation:
    organization = Organization.objects.get(memberships__user=fill(count))
    connect(organization)
    tenth = Tag.objects.create(organization=organization, name="tenth")
    contacts = (
        Contact.objects.filter(organization=organization)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    ContactTag.objects.bulk_create(
        ContactTag(contact_id=pk, tag=tenth) for n, pk in enumerate(contacts) if n % 10 == 0
    )
    price = OutboundSmsPrice("AT&T", "310", "410", "local", Decimal("0.0079"), Decimal("0.0083"))
    prices = MessagingPrices("US", "United States", "USD", (price,))
    cache.set(_cache_key(ACCOUNT_SID, "US"), prices, CACHE_SECONDS)
    welcome = template_create(
        organization=organization, name="Welcome", body="Hi {{ first_name }}!"
    )
    automation = automation_create(
        organization=organization,
        name="Spring sale",
        definition={
            "trigger": {"type": "manual"},
            "steps": [
                {
                    "id": "s1",
                    "type": "send_sms",
                    "template": str(welcome.template.public_id),
                    "respect_quiet_hours": False,
                }
            ],
            "reentry": {"policy": "every_time"},
        },
        complete=True,
    )
    return automation_activate(automation=automation)


def work(launch_id: int) -> None:
    """The worker's part, in its own process: the launch's task until it is done."""
    began = time.perf_counter()
    launch_work(launch_id, budget_seconds=float("inf"))
    print(json.dumps({"seconds": time.perf_counter() - began, "peak_mb": peak_mb()}))


def launched(automation: Automation, audience: dict[str, object]) -> dict[str, float]:
    """A launch from its confirmation (the preflight's figures sent back) to every message
    pending and enqueued, its tasks in worker processes side by side."""
    import redis

    broker = redis.Redis.from_url(os.environ["CELERY_BROKER_URL"])
    broker.flushdb()
    before = Message.objects.count()
    figures = launch_preflight(automation=automation, audience=audience).as_dict()
    started = time.perf_counter()
    launch = launch_create(automation=automation, audience=audience, preflight=figures)
    created = time.perf_counter() - started
    # A worker is already up in production: its start (Python, Django) is not counted.
    with ThreadPoolExecutor(WORKERS) as pool:
        parts = list(
            pool.map(
                lambda _: worker_part("bench.launches", "--work", str(launch.pk)), range(WORKERS)
            )
        )
    worker = {
        "seconds": max(p["seconds"] for p in parts),
        "peak_mb": max(p["peak_mb"] for p in parts),
    }
    seconds = created + worker["seconds"]
    launch.refresh_from_db()
    pending = Message.objects.filter(status=Status.PENDING).count()
    queued = broker.llen("send")
    broker.flushdb()
    Message.objects.filter(status=Status.PENDING).update(status=Status.SUPPRESSED)
    return {
        "contacts": launch.total,
        "enrolled": launch.enrolled,
        "messages": Message.objects.count() - before,
        "pending": pending,
        "queued_tasks": queued,
        "seconds": seconds,
        "create_seconds": created,
        "worker_seconds": worker["seconds"],
        "peak_mb": worker["peak_mb"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--smoke", action="store_true", help=f"{SMOKE:,} contacts (CI)")
    parser.add_argument("--work", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.work:
        return work(options.work)
    os.environ.setdefault("CELERY_BROKER_URL", BROKER)
    count = SMOKE if options.smoke else options.contacts
    require_postgresql()
    databases = setup_databases(verbosity=0, interactive=False)
    try:
        about = machine()
        print(about)
        automation = prepare(count)
        runs = []
        for _ in range(3):
            began = time.perf_counter()
            preflight = launch_preflight(automation=automation, audience={"all": True})
            runs.append(time.perf_counter() - began)
        preflight_s = statistics.median(runs)
        print(
            f"preflight of {preflight.audience:,}: {preflight_s:.2f} s (runs "
            + ", ".join(f"{r:.2f}" for r in runs)
            + f"); {preflight.eligible:,} would enter, {preflight.excluded}, "
            f"{preflight.segments:,} segments, ${preflight.cost.total:.2f}"
        )
        small = launched(automation, {"has_any_tags": ["tenth"]})
        big = launched(automation, {"all": True})
        for got in (small, big):
            print(
                f"launch to {got['contacts']:,}: {got['seconds']:.1f} s from confirmation to "
                f"{got['pending']:,} pending ({got['enrolled']:,} enrolled, "
                f"{got['queued_tasks']} send tasks on the broker): created in "
                f"{got['create_seconds']:.2f} s, worked in {got['worker_seconds']:.1f} s, "
                f"worker peak {got['peak_mb']:.0f} MB"
            )
        growth = (big["seconds"] / big["contacts"]) / (small["seconds"] / small["contacts"])
        print(f"cost per contact at {big['contacts']:,} / at {small['contacts']:,}: {growth:.2f}")
        write(
            "launches_smoke" if options.smoke else "launches",
            [
                Figure(
                    f"preflight of {count:,} contacts",
                    round(preflight_s, 2),
                    "s",
                    target=round(count * PREFLIGHT_SECONDS, 2),
                    higher_is_better=False,
                ),
                Figure(
                    f"launch to {count:,}: confirmation to every message pending and enqueued",
                    round(big["seconds"], 1),
                    "s",
                    target=round(count * LAUNCH_SECONDS, 1),
                    higher_is_better=False,
                ),
                Figure(
                    "launch worker's peak memory",
                    round(big["peak_mb"]),
                    "MB",
                    target=WORKER_MB,
                    higher_is_better=False,
                ),
                Figure(
                    "cost per contact, 10x the contacts vs 1x",
                    round(growth, 2),
                    "ratio",
                    target=LINEAR,
                    higher_is_better=False,
                ),
            ],
            postgresql=about.rsplit("PostgreSQL ", 1)[-1],
            contacts=count,
            small=small,
            big=big,
            commit=git_commit(),
        )
    finally:
        teardown_databases(databases, verbosity=0)


if __name__ == "__main__":
    main()
