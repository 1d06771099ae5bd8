"""The message log at 1,000,000 messages and 100,000 contacts on PostgreSQL.

Creates a scratch database (``test_<name>`` next to ``DATABASE_URL``'s), fills one
organization with N contacts and M messages spread over a year (nine in ten outbound; mostly
delivered, some sent, queued, failed, undelivered, suppressed; a third from templates; a few
needing attention) with ``INSERT … SELECT generate_series`` (bulk_create would take most of
the run), then renders ``/messages/`` through Django's test client: the first page, the tenth
page (following each page's "Older" link), and filtered pages. Prints the median render time
and the number of queries of each. Target: each under 100 ms with a constant number of
queries. The counts fragment is measured too; it loads on its own, so it has no target.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/smshub \\
        .venv/bin/python -m bench.message_log [--messages 1000000] [--contacts 100000]
"""

from __future__ import annotations

import argparse
import datetime
import re
import time

from django.db import connection
from django.test import Client
from django.test.utils import setup_databases, teardown_databases

# bench.pages sets Django up: import it before any model.
from bench.pages import measure, report, require_postgresql, signed_in
from contacts.models import ConsentEvent, ConsentKind, ConsentSource, Contact
from templates_sms.models import SmsTemplate
from tenants.models import Organization, User
from tenants.services.organizations import organization_create

OLDER = re.compile(r'href="\?([^"]*older=[A-Za-z0-9_-]+)"')

# Statuses by the message number modulo 100; a tenth are inbound ("received").
FILL_SQL = """
INSERT INTO messaging_message (
    public_id, organization_id, direction, contact_id, template_id, "to", from_number,
    messaging_service_sid, body, media_url, segments, encoding, sid, status,
    suppressed_reason, needs_attention, error_code, error_message, source, source_ref,
    dedupe_key, attempts, created_at, updated_at, submitted_at
)
SELECT
    gen_random_uuid(), %(org)s,
    CASE WHEN mod(n, 10) = 0 THEN 'inbound' ELSE 'outbound' END,
    %(first_contact)s + (mod(n, %(contacts)s)),
    CASE WHEN mod(n, 3) = 1 THEN %(first_template)s + (mod(n, 5)) END,
    '+1415' || lpad((2000000 + mod(n, %(contacts)s))::text, 7, '0'), '+14155550100', '',
    'Hi there, your order ' || n || ' has shipped. Track it at https://example.com/t/' || n,
    '', 1, 'GSM-7', 'SM' || md5(%(org)s || ':' || n), CASE
    WHEN mod(n, 10) = 0 THEN 'received'
    WHEN mod(n, 100) < 3 THEN 'failed'
    WHEN mod(n, 100) < 5 THEN 'undelivered'
    WHEN mod(n, 100) < 7 THEN 'suppressed'
    WHEN mod(n, 100) < 12 THEN 'sent'
    WHEN mod(n, 100) < 14 THEN 'queued'
    ELSE 'delivered' END,
    CASE WHEN mod(n, 100) IN (5, 6) AND mod(n, 10) <> 0 THEN 'opted_out' ELSE '' END,
    mod(n, 10000) = 1,
    CASE WHEN mod(n, 100) < 3 AND mod(n, 10) <> 0 THEN 30007
         WHEN mod(n, 100) IN (3, 4) THEN 30003 END,
    CASE WHEN mod(n, 100) < 3 AND mod(n, 10) <> 0 THEN 'The carrier filtered the message.'
         WHEN mod(n, 100) IN (3, 4) THEN 'The handset is unreachable.' ELSE '' END,
    'api', '', '', 1,
    now() - (n * interval '31.5 seconds'),
    now() - (n * interval '31.5 seconds'),
    now() - (n * interval '31.5 seconds')
FROM generate_series(%(start)s, %(end)s) AS n
"""


def fill(
    contacts: int, messages: int, *, email: str = "bench@example.com", name: str = "Bench"
) -> tuple[User, Organization]:
    """An organization ``name`` owned by ``email`` with ``contacts`` contacts, five templates
    and ``messages`` messages 31.5 s apart back from now; vacuumed and analyzed."""
    owner = User.objects.create_user(email, "bench-password-123")
    organization = organization_create(name=name, owner=owner)
    batch = 10_000
    for start in range(0, contacts, batch):
        Contact.objects.bulk_create(
            Contact(
                organization=organization,
                phone=f"+1415{2000000 + n:07d}",
                first_name="Person",
                last_name=str(n),
                time_zone="America/Los_Angeles",
                search=f"person {n} +1415{2000000 + n:07d}",
            )
            for n in range(start, min(start + batch, contacts))
        )
    templates = SmsTemplate.objects.bulk_create(
        SmsTemplate(organization=organization, name=f"Template {n}", body=f"Hello {n}")
        for n in range(5)
    )
    first_contact = Contact.objects.filter(organization=organization).order_by("pk").first()
    assert first_contact is not None
    with connection.cursor() as cursor:
        for start in range(0, messages, 250_000):
            cursor.execute(
                FILL_SQL,
                {
                    "start": start + 1,
                    "end": min(start + 250_000, messages),
                    "org": organization.pk,
                    "first_contact": first_contact.pk,
                    "contacts": contacts,
                    "first_template": templates[0].pk,
                },
            )
        cursor.execute("VACUUM ANALYZE messaging_message")
        cursor.execute("ANALYZE")
    return owner, organization


def opt_outs(organization: Organization, count: int) -> None:
    """Opt-outs an hour apart back from now, from numbers that were texted (so that the
    dashboard's attribution has work), written to ``organization``'s consent ledger."""
    now = datetime.datetime.now(datetime.UTC)
    ConsentEvent.objects.bulk_create(
        ConsentEvent(
            organization=organization,
            phone=f"+1415{2000000 + n * 37:07d}",
            kind=ConsentKind.OPT_OUT,
            source=ConsentSource.INBOUND_KEYWORD,
        )
        for n in range(count)
    )
    events = ConsentEvent.objects.filter(organization=organization)
    for n, pk in enumerate(events.values_list("pk", flat=True)):
        ConsentEvent.objects.filter(pk=pk).update(created_at=now - datetime.timedelta(hours=n))


def scale_options(description: str) -> argparse.Namespace:
    """The command line of the benchmarks filled by ``fill`` and ``opt_outs`` at scale
    (``bench.dashboard``, ``bench.pages_at_scale``); ``--smoke`` is a tenth of the data."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--opt-outs", type=int, default=500)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--smoke", action="store_true", help="a tenth: 100,000 messages")
    options = parser.parse_args()
    if options.smoke:
        options.messages, options.contacts = options.messages // 10, options.contacts // 10
    return options


def tenth_page(client: Client, url: str) -> str:
    """The URL of the tenth page, found by following "Older →" nine times."""
    for _ in range(9):
        found = OLDER.search(client.get(url).content.decode())
        if found is None:
            raise SystemExit(f"no older page after {url}")
        url = "/messages/?" + found.group(1).replace("&amp;", "&")
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    options = parser.parse_args()
    require_postgresql()
    databases = setup_databases(verbosity=0, interactive=False)
    try:
        started = time.perf_counter()
        owner, organization = fill(options.contacts, options.messages)
        print(
            f"filled {options.contacts:,} contacts and {options.messages:,} messages "
            f"in {time.perf_counter() - started:.1f} s"
        )
        contact = Contact.objects.filter(organization=organization).order_by("pk")[7]
        template = SmsTemplate.objects.filter(organization=organization).order_by("pk")[1]
        with signed_in(owner) as client:
            pages = [
                ("first page", "/messages/"),
                ("tenth page", tenth_page(client, "/messages/")),
                ("failed", "/messages/?status=failed"),
                ("failed, tenth page", tenth_page(client, "/messages/?status=failed")),
                ("inbound", "/messages/?direction=inbound"),
                ("a template", f"/messages/?template={template.public_id}"),
                ("a contact", f"/messages/?contact={contact.public_id}"),
                ("a month", "/messages/?since=2026-03-01&until=2026-03-31"),
                ("needs attention", "/messages/?attention=on"),
                ("delivered in a month", "/messages/?status=delivered&since=2026-06-01"),
            ]
            report(client, pages, options.runs, target_ms=100)
            for label, url in [
                ("counts, all", "/messages/counts/"),
                ("counts, inbound", "/messages/counts/?direction=inbound"),
            ]:
                median, queries = measure(client, url, 5)
                print(f"{label:<22} {median:7.1f} ms  {queries} queries (fragment, no target)")
    finally:
        teardown_databases(databases, verbosity=0)


if __name__ == "__main__":
    main()
