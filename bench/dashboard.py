"""The dashboard at 1,000,000 messages and 100,000 contacts on PostgreSQL.

Fills a scratch database (``test_<name>`` next to ``DATABASE_URL``'s) as ``bench.message_log``
does (one organization, messages spread over a year, 30 days holding about 82,000 of them;
the rollup's triggers count them as they are inserted, a third from five templates) and
opt-outs from numbers it texted, then times each panel's selector and the whole page for
each period: median and p95 of ``--runs`` calls after 3 warm-ups, and the queries of one.
Target: every panel and the page under 300 ms with the same number of queries for every period.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/smshub \\
        .venv/bin/python -m bench.dashboard [--messages 1000000] [--contacts 100000]
"""

from __future__ import annotations

import datetime
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import connection
from django.test.utils import setup_databases, teardown_databases

from bench.message_log import fill, opt_outs, scale_options

# bench.pages sets Django up: import it before any model.
from bench.pages import machine, require_postgresql, signed_in
from bench.results import Figure, git_commit, write
from connections.services.usage import spend
from messaging.models import MessageRollup
from reports.health import connection_health
from reports.selectors import PERIODS, overview, period_of

TARGET_MS = 300.0


def queries_of(call: Callable[[], Any]) -> int:
    """The statements one call sends to the database."""
    statements = 0

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    # Not CaptureQueriesContext: the test client's request_started resets its log.
    with connection.execute_wrapper(count):
        call()
    return statements


def median_p95(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def timed(call: Callable[[], Any], runs: int) -> tuple[float, float, int]:
    """Median and p95 milliseconds of ``runs`` calls after 3 warm-ups, and one call's queries."""
    for _ in range(3):
        call()
    queries = queries_of(call)
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        times.append((time.perf_counter() - began) * 1000)
    median, p95 = median_p95(times)
    return median, p95, queries


def page(client: Any, key: str) -> None:
    response = client.get(f"/?period={key}")
    if response.status_code != 200:
        raise SystemExit(f"the dashboard answered {response.status_code}")


def main() -> None:
    options = scale_options(__doc__.splitlines()[0])
    require_postgresql()
    databases = setup_databases(verbosity=0, interactive=False)
    try:
        started = time.perf_counter()
        owner, organization = fill(options.contacts, options.messages)
        opt_outs(organization, options.opt_outs)
        fill_s = time.perf_counter() - started
        rollup_rows = MessageRollup.objects.filter(organization=organization).count()
        print(
            f"{machine()}; filled {options.contacts:,} contacts, {options.messages:,} messages "
            f"and {options.opt_outs} opt-outs in {fill_s:.1f} s; {rollup_rows:,} rollup rows"
        )
        figures: list[Figure] = []
        print(f"{'panel':<34} {'median':>9} {'p95':>9} {'queries':>8}")
        with signed_in(owner) as client:
            for key, label in PERIODS.items():
                period = period_of(key, organization)
                today = datetime.datetime.now(datetime.UTC).date()
                panels: list[tuple[str, Callable[[], Any]]] = [
                    ("messages, failures, funnels", partial(overview, organization, period)),
                    ("connection health", partial(connection_health, organization)),
                    ("spend", partial(spend, organization, start=period.start.date(), end=today)),
                    ("the whole page", partial(page, client, key)),
                ]
                for name, call in panels:
                    median, p95, queries = timed(call, options.runs)
                    print(f"{label + ': ' + name:<34} {median:7.1f}ms {p95:7.1f}ms {queries:>8}")
                    figures.append(
                        Figure(f"{key} {name}, median", round(median, 1), "ms", TARGET_MS, False)
                    )
                    figures.append(
                        Figure(f"{key} {name}, p95", round(p95, 1), "ms", TARGET_MS, False)
                    )
                    figures.append(Figure(f"{key} {name}, queries", queries, "queries", 10, False))
        write(
            "dashboard_smoke" if options.smoke else "dashboard",
            figures,
            postgresql=machine().rsplit("PostgreSQL ", 1)[-1],
            messages=options.messages,
            contacts=options.contacts,
            rollup_rows=rollup_rows,
            commit=git_commit(),
        )
    finally:
        teardown_databases(databases, verbosity=0)


if __name__ == "__main__":
    main()
