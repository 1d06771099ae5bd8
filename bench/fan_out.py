"""``message_send_many`` to a whole organization on PostgreSQL: time, queries, memory, batches.

Creates a scratch database (``test_<name>`` next to ``DATABASE_URL``'s), fills one organization
with N contacts (1% opted out), connects it (rows only: nothing calls Twilio), then sends one
text to every contact with ``commit_each_chunk`` as a launch would, and prints the time of the
call (which includes each chunk's commit), the queries, the peak of Python allocations during
the call, and the send batches it enqueued on commit with their JSON size. The broker itself
is not measured: the batches are counted where they would be published, sized as
``send_batches`` sizes them (by the whole send's ``total``). The figures also go to
``bench/results/fan_out.json`` (``fan_out_smoke.json`` with ``--smoke``).
Targets (issue 11): under 10 s for 100,000 contacts, a few hundred broker messages, memory
under 150 MB and flat from 10,000 to 100,000.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/smshub \\
        .venv/bin/python -m bench.fan_out [--contacts 10000 100000 | --smoke]
"""

from __future__ import annotations

import argparse
import json
import os
import time
import tracemalloc

from django.db import connection
from django.test.utils import CaptureQueriesContext, setup_databases, teardown_databases

from bench.contacts_list import fill

# bench.pages sets Django up: import it before any model.
from bench.pages import machine, require_postgresql
from bench.results import Figure, git_commit, write
from bench.twilio_rows import twilio_row
from contacts.models import Contact
from messaging.models import Message, MessageEvent
from messaging.services import sending
from messaging.services.dispatch import batches
from tenants.models import Organization, User

ACCOUNT_SID = "AC" + "0" * 32
SMOKE = [1_000, 10_000]
# Issue 11's targets: 10 s for 100,000 contacts (scaled for other sizes), at most 500 broker
# messages (a few hundred) and 150 MB whatever the size. The peak grows only by the ids the
# call returns (36 bytes each); queries: at most 7 per chunk of 1,000.
SECONDS_PER_CONTACT = 10 / 100_000
BATCHES = 500
QUERIES_PER_CHUNK = 7  # the facts (2, or 4 with dedupe keys), two inserts, the commit
PEAK_MB = 150


def connect(organization: Organization) -> None:
    twilio_row(
        organization,
        account_sid=ACCOUNT_SID,
        auth_token="0" * 32,  # a stand-in; nothing calls Twilio
        phone_number="+14155550100",
        send_rate=100,
    )


def send(organization: Organization, audience: object) -> sending.SendManyResult:
    return sending.message_send_many(
        organization=organization,
        contacts=audience,  # type: ignore[arg-type]
        body="Our spring sale starts today. Reply STOP to opt out.",
        source="automation",
        commit_each_chunk=True,
    )


def run(count: int) -> dict[str, float]:
    Message.objects.all().delete()
    Contact.objects.all().delete()
    Organization.objects.all().delete()
    User.objects.all().delete()
    owner = fill(count)
    organization = Organization.objects.get(memberships__user=owner)
    connect(organization)
    published: list[int] = []  # bytes of each send batch's arguments, as JSON

    def count_batches(message_ids: list[int], *, total: int | None = None) -> None:
        published.extend(len(json.dumps([batch])) for batch in batches(message_ids, total=total))

    sending.send_batches = count_batches  # type: ignore[attr-defined]
    audience = Contact.objects.filter(organization=organization).order_by("pk")
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        result = send(organization, audience)
    elapsed = time.perf_counter() - started
    assert result.created == count == Message.objects.count() == MessageEvent.objects.count()
    # Memory in a second pass: tracemalloc slows Python down, so it is not on while timing.
    Message.objects.all().delete()
    published.clear()
    tracemalloc.start()
    send(organization, audience)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "seconds": elapsed,
        "queries": len(queries.captured_queries),
        "peak_mb": peak / 1e6,
        "batches": len(published),
        "batch_kb": sum(published) / 1e3,
        "suppressed": result.statuses.get("suppressed", 0),
    }


def figures(count: int, measured: dict[str, float]) -> list[Figure]:
    audience = f"{count:,}"
    chunks = -(-count // sending.BATCH)
    return [
        Figure(
            f"fan-out {audience} contacts",
            round(measured["seconds"], 2),
            "s",
            target=round(count * SECONDS_PER_CONTACT, 2),
            higher_is_better=False,
        ),
        Figure(
            f"fan-out {audience} queries",
            measured["queries"],
            "queries",
            target=chunks * QUERIES_PER_CHUNK + 2,
            higher_is_better=False,
        ),
        Figure(
            f"fan-out {audience} peak memory",
            round(measured["peak_mb"], 1),
            "MB",
            target=PEAK_MB,
            higher_is_better=False,
        ),
        Figure(
            f"send batches for {audience}",
            measured["batches"],
            "messages",
            target=BATCHES,
            higher_is_better=False,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument(
        "--smoke", action="store_true", help=f"{SMOKE[0]:,} and {SMOKE[1]:,} contacts (CI)"
    )
    options = parser.parse_args()
    counts = SMOKE if options.smoke else options.contacts
    require_postgresql()
    databases = setup_databases(verbosity=0, interactive=False)
    try:
        about = machine()
        print(about)
        load = os.getloadavg()[0]
        measured: dict[int, dict[str, float]] = {}
        for count in counts:
            got = measured[count] = run(count)
            print(
                f"{count:>7,} contacts: {got['seconds']:6.1f} s in the call (chunks "
                f"committed), {got['queries']:,} queries, peak Python allocations "
                f"{got['peak_mb']:.0f} MB, {got['batches']:,} send batches "
                f"({got['batch_kb']:,.0f} KB), {got['suppressed']:,.0f} suppressed"
            )
        rows = [figure for count in counts for figure in figures(count, measured[count])]
        write(
            "fan_out_smoke" if options.smoke else "fan_out",
            rows,
            postgresql=about.rsplit("PostgreSQL ", 1)[-1],
            contacts=counts,
            commit=git_commit(),
            load_average_at_start=round(load, 2),
        )
    finally:
        teardown_databases(databases, verbosity=0)


if __name__ == "__main__":
    main()
