"""``message_send_many`` to a whole organization on PostgreSQL: time, queries, memory, batches.

Creates a scratch database (``test_<name>`` next to ``DATABASE_URL``'s), fills one organization
with N contacts (1% opted out), connects it (rows only: nothing calls Twilio), then sends one
text to every contact with ``commit_each_chunk`` as a launch would, and prints the time of the
call (which includes each chunk's commit), the queries, the peak of Python allocations during
the call, and the send batches it enqueued on commit with their JSON size. The broker itself
is not measured: the batches are counted where they would be published.
Targets (issue 11): under 10 s for 100,000 contacts, a few hundred broker messages, memory
under 150 MB and flat from 10,000 to 100,000.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/smshub \\
        .venv/bin/python -m bench.fan_out [--contacts 10000 100000]
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc

from django.db import connection
from django.test.utils import CaptureQueriesContext, setup_databases, teardown_databases

from bench.contacts_list import fill

# bench.pages sets Django up: import it before any model.
from bench.pages import machine, require_postgresql
from connections.crypto import encrypt
from connections.models import Connection, ConnectionKind, SenderType, TwilioCredentials
from contacts.models import Contact
from messaging.models import Message, MessageEvent
from messaging.services import sending
from messaging.services.submit import batches
from tenants.models import Organization, User

ACCOUNT_SID = "AC" + "0" * 32


def connect(organization: Organization) -> None:
    row = Connection.objects.create(organization=organization, kind=ConnectionKind.TWILIO)
    TwilioCredentials.objects.create(
        connection=row,
        account_sid=ACCOUNT_SID,
        auth_token_encrypted=encrypt("0" * 32),
        auth_token_last4="0000",  # noqa: S106 - a stand-in; nothing calls Twilio
        phone_number="+14155550100",
        sender_type=SenderType.LOCAL,
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

    def count_batches(message_ids: list[int]) -> None:
        published.extend(len(json.dumps([batch])) for batch in batches(message_ids))

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, nargs="+", default=[10_000, 100_000])
    options = parser.parse_args()
    require_postgresql()
    databases = setup_databases(verbosity=0, interactive=False)
    try:
        print(machine())
        for count in options.contacts:
            figures = run(count)
            print(
                f"{count:>7,} contacts: {figures['seconds']:6.1f} s in the call (chunks "
                f"committed), {figures['queries']:,} queries, peak Python allocations "
                f"{figures['peak_mb']:.0f} MB, {figures['batches']:,} send batches "
                f"({figures['batch_kb']:,.0f} KB), {figures['suppressed']:,.0f} suppressed"
            )
    finally:
        teardown_databases(databases, verbosity=0)


if __name__ == "__main__":
    main()
