"""The contact list page at 100,000 contacts on PostgreSQL: time to render and queries.

Creates a scratch database (``test_<name>`` next to ``DATABASE_URL``'s), fills one organization
with N contacts (a fifth tagged, 1% opted out), then renders ``/contacts/`` with common
filters through Django's test client and prints the median time and the number of queries.
Target: under 200 ms with a constant number of queries.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/smshub \\
        .venv/bin/python -m bench.contacts_list [--contacts 100000]
"""

from __future__ import annotations

import argparse
import time

from django.db import connection
from django.test.utils import setup_databases, teardown_databases

# bench.pages sets Django up: import it before any model.
from bench.pages import report, require_postgresql, signed_in
from contacts.models import ConsentSource, ConsentState, Contact, ContactTag, Tag
from contacts.services.tags import reserved_tag
from tenants.models import User
from tenants.services.organizations import organization_create

FIRST = ["Ann", "Ben", "Cara", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivan", "Jo"]
LAST = ["Smith", "Jones", "Garcia", "Chen", "Okafor", "Novak", "Silva", "Kim", "Patel", "Berg"]
PAGES = [
    ("newest first", "/contacts/"),
    ("search a name", "/contacts/?q=garcia"),
    ("search digits", "/contacts/?q=4152001"),
    ("filter a tag", "/contacts/?tag=vip"),
    ("opted out", "/contacts/?opted_out=yes"),
    ("by name, page 100", "/contacts/?sort=name&page=100"),
]


def fill(count: int) -> User:
    owner = User.objects.create_user("bench@example.com", "bench-password-123")
    organization = organization_create(name="Bench", owner=owner)
    vip = Tag.objects.create(organization=organization, name="vip")
    stop = reserved_tag(organization)
    batch = 5000
    for start in range(0, count, batch):
        contacts = []
        for n in range(start, min(start + batch, count)):
            contact = Contact(
                organization=organization,
                phone=f"+1415{2000000 + n:07d}",
                first_name=FIRST[n % 10],
                last_name=LAST[(n // 10) % 10],
                email=f"person{n}@example.com",
                time_zone="America/Los_Angeles",
            )
            contact.search = contact.search_text()
            contacts.append(contact)
        created = Contact.objects.bulk_create(contacts)
        ContactTag.objects.bulk_create(
            [ContactTag(contact=c, tag=vip) for i, c in enumerate(created) if i % 5 == 0]
        )
        opted = [c for i, c in enumerate(created) if i % 100 == 0]
        ConsentState.objects.bulk_create(
            [
                ConsentState(
                    organization=organization,
                    phone=c.phone,
                    opted_out=True,
                    opt_out_source=ConsentSource.INBOUND_KEYWORD,
                )
                for c in opted
            ]
        )
        ContactTag.objects.bulk_create([ContactTag(contact=c, tag=stop) for c in opted])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return owner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    options = parser.parse_args()
    require_postgresql()
    databases = setup_databases(verbosity=0, interactive=False)
    try:
        started = time.perf_counter()
        owner = fill(options.contacts)
        print(f"filled {options.contacts:,} contacts in {time.perf_counter() - started:.1f} s")
        with signed_in(owner) as client:
            report(client, PAGES, options.runs, target_ms=200)
    finally:
        teardown_databases(databases, verbosity=0)


if __name__ == "__main__":
    main()
