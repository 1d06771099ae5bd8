"""The product's busiest pages at 1,000,000 messages and 100,000 contacts, served by gunicorn.

Fills a scratch PostgreSQL database (``test_<name>_pages_at_scale`` next to ``DATABASE_URL``'s)
once, as ``bench.message_log`` and ``bench.dashboard`` do: one organization with the contacts,
five templates and the messages spread over a year (the rollup's triggers counting them as
they go in), 500 opt-outs from numbers it texted, a fifth of the contacts tagged ``vip``, a
Twilio connection (rows only) and an active automation "Welcome series" (send → wait a day →
an A/B split of two templates) that half the contacts went through, written set-wise: each
enrolment with its step ledger, the messages it sent taken from the log and attributed to it
(a fifth still waiting, a few exited, some skips). A second organization gets the same on a
thousandth of the data, to count its pages' queries against.

Then it starts gunicorn as docker-compose runs it (``DEBUG`` off, behind the TLS proxy's
headers: ``bench.stack.behind_proxy``) and asks it, as a signed-in owner, for the message log
(first page, tenth page through "Older", a status, a template), the contact list (first page, a
name search, a tag, page 100), the automation's page (its overview and its enrolments' page
10) and the dashboard (24 hours, 7 days, 30 days): median and p95 of ``--runs`` requests after
3 warm-ups, each answer checked (200 and a piece of its text). Each page's queries are counted
in this process (Django's test client, an execute wrapper), in both organizations: a count
higher in the large one grows with the data, and fails the run (a lower one is allowed: the
automation page reads a large funnel as last counted, one query fewer than counting a small
one). Targets: median under 100 ms for each page and 300 ms for the dashboard; no page whose
queries grow.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/smshub \\
        .venv/bin/python -m bench.pages_at_scale [--smoke] [--runs 15]
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

REDIS = "redis://127.0.0.1:6379/12"
os.environ["CELERY_BROKER_URL"] = os.environ["REDIS_URL"] = REDIS
os.environ["DEBUG"] = "false"
os.environ["ALLOWED_HOSTS"] = "127.0.0.1"

# isort: off
import bench.pages  # noqa: E402, F401 - sets Django up: before any model

# isort: on

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402

from automations.models import Automation  # noqa: E402
from automations.services.automations import automation_activate, automation_create  # noqa: E402
from bench.dashboard import median_p95, queries_of  # noqa: E402
from bench.message_log import fill, opt_outs, scale_options, tenth_page  # noqa: E402
from bench.pages import machine, signed_in  # noqa: E402
from bench.results import Figure, git_commit, write  # noqa: E402
from bench.stack import ROOT, free_port, print_log_problems, scratch_stack, start_web  # noqa: E402
from bench.twilio_rows import twilio_row  # noqa: E402
from contacts.models import Tag  # noqa: E402
from messaging.models import MessageRollup  # noqa: E402
from templates_sms.models import SmsTemplate  # noqa: E402
from tenants.models import Organization, User  # noqa: E402

PAGE_MS = 100.0
# The most queries each kind of page made when this benchmark was written: a page that makes
# more has gained a query (still constant, or the check below would fail).
QUERIES = {"message log": 7, "contact list": 9, "automation page": 17, "dashboard": 15}
DASHBOARD_MS = 300.0
WEB_WORKERS = 3  # docker-compose's web
SMALL = 1_000  # the second organization has this many times less of everything
AUTOMATION = "Welcome series"
TOKEN = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"  # the connection's, never used: nothing calls Twilio

# Every other contact went through the automation: its two newest outbound messages are the
# enrolment's two sends (a fifth of them still waiting after the first, the newest; one in a
# hundred exited on a reply), and one contact in twenty of the others was skipped. Run in one
# transaction: the temporary table goes with it.
ENROL_SQL = [
    """
    CREATE TEMPORARY TABLE bench_sent ON COMMIT DROP AS
    SELECT id, contact_id, created_at, status, rn FROM (
        SELECT id, contact_id, created_at, status,
               row_number() OVER (PARTITION BY contact_id ORDER BY created_at DESC) AS rn
        FROM messaging_message
        WHERE organization_id = %(org)s AND direction = 'outbound' AND mod(contact_id, 2) = 0
    ) AS newest WHERE rn <= 2
    """,
    """
    INSERT INTO automations_automationrun (
        public_id, organization_id, automation_id, version_id, contact_id, occurrence_key,
        event_key, state, step_id, due_at, reason, detail, source, variant_seed, created_at,
        updated_at, ended_at
    )
    SELECT gen_random_uuid(), %(org)s, %(automation)s, %(version)s, contact_id, 'once', 'bench',
        CASE WHEN mod(contact_id, 10) = 0 THEN 'waiting'
             WHEN mod(contact_id, 100) = 2 THEN 'exited' ELSE 'completed' END,
        CASE WHEN mod(contact_id, 10) = 0 THEN 's2' ELSE '' END,
        CASE WHEN mod(contact_id, 10) = 0 THEN now() + interval '1 day' END,
        CASE WHEN mod(contact_id, 100) = 2 THEN 'replied' ELSE '' END,
        '', 'system', mod(contact_id, 1000), created_at, created_at,
        CASE WHEN mod(contact_id, 10) <> 0 THEN created_at + interval '1 day' END
    FROM bench_sent WHERE rn = CASE WHEN mod(contact_id, 10) = 0 THEN 1 ELSE 2 END
    UNION ALL
    SELECT gen_random_uuid(), %(org)s, %(automation)s, %(version)s, id, 'skip:' || id, 'bench',
        'skipped', '', NULL, 'entry_rules', '', 'system', 0,
        now() - mod(id, 2000) * interval '1 hour', now() - mod(id, 2000) * interval '1 hour',
        now() - mod(id, 2000) * interval '1 hour'
    FROM contacts_contact WHERE organization_id = %(org)s AND mod(id, 20) = 1
    """,
    """
    INSERT INTO automations_runstep (run_id, step_id, outcome, message_id, variant, detail, at)
    SELECT run.id, step.id,
        CASE WHEN step.id = 's2' THEN 'waited'
             WHEN sent.status = 'suppressed' THEN 'suppressed' ELSE 'sent' END,
        CASE WHEN step.id <> 's2' THEN sent.id END,
        CASE WHEN step.id = 's3' THEN mod(run.contact_id / 2, 2) END,
        CASE WHEN step.id = 's2' THEN 'until ' || to_char(
            coalesce(run.due_at, run.created_at + interval '1 day') AT TIME ZONE 'UTC',
            'YYYY-MM-DD"T"HH24:MI:SS"+00:00"') ELSE '' END,
        coalesce(sent.created_at, run.created_at)
    FROM automations_automationrun AS run
    JOIN (VALUES ('s1'), ('s2'), ('s3')) AS step (id)
        ON step.id <> 's3' OR run.state = 'completed'
    LEFT JOIN bench_sent AS sent ON sent.contact_id = run.contact_id AND step.id <> 's2'
        AND sent.rn = CASE WHEN step.id = 's3' OR run.state = 'waiting' THEN 1 ELSE 2 END
    WHERE run.automation_id = %(automation)s AND run.state <> 'skipped'
    """,
    """
    UPDATE messaging_message AS message
    SET source = 'automation', source_ref = %(ref)s, template_id = CASE
        WHEN step.step_id = 's1' THEN %(first)s WHEN step.variant = 0 THEN %(a)s ELSE %(b)s END
    FROM automations_runstep AS step
    JOIN automations_automationrun AS run ON run.id = step.run_id
    WHERE run.automation_id = %(automation)s AND step.message_id = message.id
    """,
]


def enrolments(organization: Organization) -> Automation:
    """The automation, active, with its enrolments, their steps and their messages."""
    first, a, b = SmsTemplate.objects.filter(organization=organization).order_by("pk")[:3]
    twilio_row(
        organization,
        account_sid="AC" + "c" * 32,
        auth_token=TOKEN,
        phone_number="+14155550100",
        send_rate=1,
    )

    def send(template: SmsTemplate) -> dict[str, Any]:
        return {"template": str(template.public_id), "weight": 50}

    automation = automation_create(
        organization=organization,
        name=AUTOMATION,
        definition={
            "trigger": {"type": "tag_added", "tag": "new-lead"},
            "steps": [
                {"id": "s1", "type": "send_sms", **send(first), "respect_quiet_hours": False},
                {"id": "s2", "type": "wait", "duration": {"days": 1}},
                {"id": "s3", "type": "send_sms", "variants": [send(a), send(b)]},
            ],
        },
        complete=True,
    )
    automation = automation_activate(automation=automation)
    assert automation.live_version is not None
    values: dict[str, int | str] = {
        "org": organization.pk,
        "automation": automation.pk,
        "version": automation.live_version.pk,
        "ref": str(automation.public_id),
        "first": first.pk,
        "a": a.pk,
        "b": b.pk,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in ENROL_SQL:
            cursor.execute(statement, values)
    return automation


def tagged(organization: Organization, share: int = 5) -> None:
    """One contact in ``share`` tagged ``vip``."""
    vip = Tag.objects.create(organization=organization, name="vip")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO contacts_contacttag (contact_id, tag_id, created_at)"
            " SELECT id, %s, now() FROM contacts_contact"
            " WHERE organization_id = %s AND mod(id, %s) = 0",
            [vip.pk, organization.pk, share],
        )


@dataclass(frozen=True)
class Filled:
    owner: User
    organization: Organization
    automation: Automation


def filled(contacts: int, messages: int, opted_out: int, *, email: str, name: str) -> Filled:
    owner, organization = fill(contacts, messages, email=email, name=name)
    opt_outs(organization, opted_out)
    tagged(organization)
    return Filled(owner, organization, enrolments(organization))


def analyzed() -> None:
    """What the fills changed, vacuumed and analyzed (the attribution rewrote 9% of the
    messages: their old versions would cost the index scans visits to the heap)."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE messaging_message")
        cursor.execute("ANALYZE")


@dataclass(frozen=True)
class Page:
    kind: str
    variant: str
    url: str
    expect: str  # a piece of text the answer must contain
    paged: bool = False  # a later page of the kind's first: the same queries as it


def pages(client: Client, data: Filled) -> list[Page]:
    """Every page measured, for ``data``'s organization (``client`` signed in to it)."""
    template = SmsTemplate.objects.filter(organization=data.organization).order_by("pk")[1]
    detail = f"/automations/{data.automation.public_id}/"
    log, contacts, automation = "message log", "contact list", "automation page"
    return [
        Page(log, "first page", "/messages/", "Hi there, your order"),
        Page(log, "tenth page", tenth_page(client, "/messages/"), "Hi there, your", paged=True),
        Page(log, "failed", "/messages/?status=failed", "The carrier filtered the message."),
        Page(log, "a template", f"/messages/?template={template.public_id}", "Hi there, your"),
        Page(contacts, "first page", "/contacts/", "Person"),
        Page(contacts, "a name search", "/contacts/?q=person+12", "Person"),
        Page(contacts, "a tag", "/contacts/?tag=vip", "Person"),
        Page(contacts, "page 100", "/contacts/?page=100", "Person", paged=True),
        Page(automation, "overview", detail, "A/B split at step 3"),
        Page(automation, "enrolments, page 10", f"{detail}?page=10", "A/B split", paged=True),
        Page("dashboard", "24 hours", "/?period=24h", AUTOMATION),
        Page("dashboard", "7 days", "/?period=7d", AUTOMATION),
        Page("dashboard", "30 days", "/?period=30d", AUTOMATION),
    ]


@dataclass(frozen=True)
class Row:
    page: Page
    median: float  # ms, through gunicorn
    p95: float
    queries: int  # in this process
    small_queries: int  # the same page of the small organization


def queries(client: Client, page: Page) -> int:
    """The queries of one render of ``page`` in this process, once warmed up."""

    def render() -> None:
        response = client.get(page.url)
        if response.status_code != 200:
            raise SystemExit(f"{page.url} answered {response.status_code} in-process")

    render()
    return queries_of(render)


def served(port: int, cookie: str, page: Page, runs: int) -> tuple[float, float]:
    """Median and p95 milliseconds of ``runs`` requests to gunicorn after 3 warm-ups, each
    answer checked."""
    times = []
    for n in range(3 + runs):
        web = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        began = time.perf_counter()
        web.request("GET", page.url, headers={"Cookie": cookie})
        response = web.getresponse()
        body = response.read().decode()
        elapsed = (time.perf_counter() - began) * 1000
        web.close()
        if response.status != 200 or page.expect not in body:
            raise SystemExit(
                f"{page.kind}, {page.variant}: {page.url} answered {response.status}"
                f" without {page.expect!r}"
            )
        if n >= 3:
            times.append(elapsed)
    return median_p95(times)


def collected_static() -> None:
    """The static files and their manifest, as the image's build collects them: without them
    a page with DEBUG off cannot name its stylesheet."""
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "true"},
        check=True,
    )


def main() -> None:
    options = scale_options(__doc__.splitlines()[0])
    with scratch_stack("pages_at_scale", REDIS) as (logs, children):
        started = time.perf_counter()
        big = filled(
            options.contacts,
            options.messages,
            options.opt_outs,
            email="big@example.com",
            name="Big",
        )
        small = filled(
            max(options.contacts // SMALL, 100),
            max(options.messages // SMALL, 1_000),
            2,
            email="small@example.com",
            name="Small",
        )
        analyzed()
        fill_s = time.perf_counter() - started
        rollup_rows = MessageRollup.objects.filter(organization=big.organization).count()
        print(
            f"{machine()}; filled {options.contacts:,} contacts, {options.messages:,} messages, "
            f"{big.automation.runs.count():,} enrolments and a small organization in "
            f"{fill_s:.1f} s; {rollup_rows:,} rollup rows"
        )
        collected_static()
        port = free_port()
        children.append(start_web(logs, port=port, workers=WEB_WORKERS))
        with signed_in(small.owner) as client:
            small_counts = [queries(client, page) for page in pages(client, small)]
        with signed_in(big.owner) as client:
            measured = pages(client, big)
            counts = [queries(client, page) for page in measured]
            session = client.cookies[settings.SESSION_COOKIE_NAME].value
            cookie = f"{settings.SESSION_COOKIE_NAME}={session}"
        print(f"{'page':<40} {'median':>9} {'p95':>9} {'queries':>8} {'small org':>10}")
        rows = []
        for page, count, small_count in zip(measured, counts, small_counts, strict=True):
            median, p95 = served(port, cookie, page, options.runs)
            rows.append(Row(page, round(median, 1), round(p95, 1), count, small_count))
            label = f"{page.kind}: {page.variant}"
            print(f"{label:<40} {median:7.1f}ms {p95:7.1f}ms {count:>8} {small_count:>10}")
        print_log_problems(children)
        figures, differing = figures_of(rows)
        write(
            "pages_at_scale_smoke" if options.smoke else "pages_at_scale",
            figures,
            postgresql=machine().rsplit("PostgreSQL ", 1)[-1],
            messages=options.messages,
            contacts=options.contacts,
            fill_seconds=round(fill_s, 1),
            web_workers=WEB_WORKERS,
            commit=git_commit(),
        )
        if differing:
            raise SystemExit("queries that grow with the data: " + "; ".join(differing))


def figures_of(rows: list[Row]) -> tuple[list[Figure], list[str]]:
    """Per page kind: the slowest variant's median, the worst p95 and the most queries; and
    the pages with more queries than the small organization's, or than their first page's."""
    figures = []
    differing = []
    for kind in dict.fromkeys(row.page.kind for row in rows):
        mine = [row for row in rows if row.page.kind == kind]
        target = DASHBOARD_MS if kind == "dashboard" else PAGE_MS
        slowest = max(mine, key=lambda row: row.median)
        figures += [
            Figure(f"{kind}, median ({slowest.page.variant})", slowest.median, "ms", target, False),
            Figure(f"{kind}, p95", max(row.p95 for row in mine), "ms", target, False),
            Figure(
                f"{kind}, queries",
                max(row.queries for row in mine),
                "queries",
                QUERIES[kind],
                False,
            ),
        ]
        for row in mine:
            if row.queries > row.small_queries:
                differing.append(
                    f"{kind}, {row.page.variant}: {row.queries} queries, "
                    f"{row.small_queries} at {SMALL:,} times less data"
                )
            elif row.page.paged and row.queries > mine[0].queries:
                differing.append(
                    f"{kind}, {row.page.variant}: {row.queries} queries, "
                    f"{mine[0].queries} on the {mine[0].page.variant}"
                )
    figures.append(
        Figure("pages whose queries grow with the data", len(differing), "pages", 0, False)
    )
    return figures, differing


if __name__ == "__main__":
    main()
