"""The contacts CSV export of 1,000,000 contacts on PostgreSQL: time, rows per second, and
whether the process's memory stays flat while it streams.

Creates a scratch database (``test_<name>`` next to ``DATABASE_URL``'s) and fills one
organization with N contacts (``bench.contacts_list.fill``: a fifth tagged, 1% opted out),
a quarter of them with a ``plan`` custom field and a tenth with ``renewal``. Then a fresh
process (``--export``, so that its peak RSS is the export's, not the fill's) signs in, warms up
with an export matching no one, and downloads ``/contacts/export/`` through Django's test
client, reading the streamed pieces as a browser would: the time to the first piece and to the
last, the rows, the queries, and its peak RSS (``ru_maxrss``) above the warmed-up process at
10 % and at 100 % of the rows. Flat memory means those two are about the same. Figures go to
``bench/results/contacts_export.json`` (``contacts_export_smoke.json`` with ``--smoke``).
This benchmark's own targets: 10,000 rows a second (a million in under 100 s), the first
piece within 5 s, at most 64 MB of growth (a chunk of 2,000 contacts with their tags, and
the pieces) and at most 16 MB more at 100 % than at 10 %.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/exportbench \\
        .venv/bin/python -m bench.contacts_export [--contacts 1000000 | --smoke]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, cast

# isort: off
import bench.pages  # noqa: F401 - sets Django up: before any model

# isort: on

from django.db import connection
from django.db.models import F
from django.http import StreamingHttpResponse
from django.test import Client
from django.test.utils import setup_databases, teardown_databases

from bench.contacts_list import fill
from bench.pages import machine, require_postgresql, signed_in
from bench.results import Figure, git_commit, write
from bench.stack import ROOT, database_url
from contacts.models import Contact
from tenants.models import User

SMOKE = 20_000
EXPORT = "/contacts/export/"
ROWS_PER_SECOND = 10_000.0
FIRST_PIECE_SECONDS = 5.0
WORKING_SET_MB = 64.0
FLAT_MB = 16.0


def prepare(count: int) -> User:
    """N contacts, some of them with custom fields, so that the file has custom columns."""
    owner = fill(count)
    contacts = Contact.objects.alias(r4=F("pk") % 4, r10=F("pk") % 10)
    contacts.filter(r4=0).update(custom_fields={"plan": "gold"})
    contacts.filter(r10=5).update(custom_fields={"renewal": "2027-01-31"})
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE contacts_contact")
    return owner


def peak_mb() -> float:
    """The process's peak resident memory so far (Linux gives kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def counting_queries() -> tuple[list[int], Callable[..., Any]]:
    """A query counter that keeps no SQL (a list of captured queries would grow with the
    prefetches and be measured as the export's memory)."""
    count = [0]

    def wrapper(execute: Callable[..., Any], *args: Any) -> Any:
        count[0] += 1
        return execute(*args)

    return count, wrapper


def download(client: Client, query: dict[str, str]) -> Iterator[bytes]:
    """The export's pieces, as the server sends them."""
    response = cast(StreamingHttpResponse, client.get(EXPORT, query))
    return cast(Iterator[bytes], response.streaming_content)


def export(email: str, count: int) -> None:
    """The child's part: one warm-up, then the download, read to its end."""
    with signed_in(User.objects.get(email=email)) as client:
        b"".join(download(client, {"q": "nobody matches this"}))
        base = peak_mb()
        queries, wrapper = counting_queries()
        tenth = count // 10
        rows = -1  # the header is not a row
        first: float | None = None
        at_tenth: float | None = None
        with connection.execute_wrapper(wrapper):
            began = time.perf_counter()
            for piece in download(client, {}):
                if first is None:
                    first = time.perf_counter() - began
                rows += piece.count(b"\n")
                if at_tenth is None and rows >= tenth:
                    at_tenth = peak_mb() - base
            seconds = time.perf_counter() - began
    figures = {
        "rows": rows,
        "seconds": seconds,
        "first_piece_seconds": first,
        "queries": queries[0],
        "growth_at_tenth_mb": at_tenth,
        "growth_at_end_mb": peak_mb() - base,
        "base_mb": base,
    }
    print(json.dumps(figures))


def exported(owner: User, count: int) -> dict[str, float]:
    child = subprocess.run(
        [sys.executable, "-m", "bench.contacts_export", "--export", owner.email, str(count)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url()},
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, float] = json.loads(child.stdout.strip().splitlines()[-1])
    return figures


def figures_of(got: dict[str, float]) -> list[Figure]:
    rows = int(got["rows"])
    return [
        Figure(
            f"export of {rows:,} contacts",
            round(got["seconds"], 1),
            "s",
            target=round(rows / ROWS_PER_SECOND, 1),
            higher_is_better=False,
        ),
        Figure("rows per second", round(rows / got["seconds"]), "rows/s", target=ROWS_PER_SECOND),
        Figure(
            "first piece of the file",
            round(got["first_piece_seconds"], 2),
            "s",
            target=FIRST_PIECE_SECONDS,
            higher_is_better=False,
        ),
        Figure(
            "peak RSS growth at 10 % of the rows",
            round(got["growth_at_tenth_mb"], 1),
            "MB",
            target=WORKING_SET_MB,
            higher_is_better=False,
        ),
        Figure(
            "peak RSS growth at 100 % of the rows",
            round(got["growth_at_end_mb"], 1),
            "MB",
            target=WORKING_SET_MB,
            higher_is_better=False,
        ),
        Figure(
            "peak RSS growth from 10 % to 100 %",
            round(got["growth_at_end_mb"] - got["growth_at_tenth_mb"], 1),
            "MB",
            target=FLAT_MB,
            higher_is_better=False,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--smoke", action="store_true", help=f"{SMOKE:,} contacts (CI)")
    parser.add_argument("--export", nargs=2, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.export:
        return export(options.export[0], int(options.export[1]))
    count = SMOKE if options.smoke else options.contacts
    require_postgresql()
    databases = setup_databases(verbosity=0, interactive=False)
    try:
        about = machine()
        print(about)
        started = time.perf_counter()
        owner = prepare(count)
        filled = time.perf_counter() - started
        print(f"filled {count:,} contacts in {filled:.1f} s")
        got = exported(owner, count)
        print(
            f"exported {got['rows']:,} rows in {got['seconds']:.1f} s "
            f"({got['rows'] / got['seconds']:,.0f} rows/s), first piece after "
            f"{got['first_piece_seconds']:.2f} s, {got['queries']} queries; peak RSS "
            f"{got['base_mb']:.0f} MB warmed up, +{got['growth_at_tenth_mb']:.1f} MB at 10 %, "
            f"+{got['growth_at_end_mb']:.1f} MB at 100 %"
        )
        write(
            "contacts_export_smoke" if options.smoke else "contacts_export",
            figures_of(got),
            postgresql=about.rsplit("PostgreSQL ", 1)[-1],
            contacts=count,
            fill_seconds=round(filled, 1),
            export=got,
            commit=git_commit(),
        )
    finally:
        teardown_databases(databases, verbosity=0)


if __name__ == "__main__":
    main()
