"""What the benchmarks of real send workers share (``bench.send_pipeline``,
``bench.send_memory``, ``bench.event_to_twilio``): an organization connected to the Twilio
sandbox through the connect flow with its contacts, the text to all of them, the database's
session count, the messages still on their way, and the sandbox's duplicate creates.

Imported once Django is set up (``bench.pages``), after the benchmark has set its environment.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import connection

from connections.services.connections import twilio_connect, twilio_set_send_rate
from contacts.models import Contact
from messaging.models import Message, Status
from messaging.services.sending import message_send_many
from sandbox.state import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_NUMBERS
from tenants.actor import Actor
from tenants.models import Membership, Organization, User
from tenants.services.organizations import organization_create

BODY = "Our spring sale starts today. Reply STOP to opt out."  # GSM-7, one segment
BUSY = [str(Status.PENDING), str(Status.SUBMITTING)]  # not yet handed to Twilio


def connected_organization(name: str, send_rate: Decimal) -> tuple[Organization, User]:
    """An organization called ``name`` and its owner, connected to the sandbox through the
    connect flow, its sender limited to ``send_rate`` segments per second."""
    owner = User.objects.create_user(f"{name.lower()}@example.com", "bench-password-123")
    organization = organization_create(name=name, owner=owner)
    by = Actor.for_membership(Membership.objects.get(organization=organization, user=owner))
    row = twilio_connect(
        organization=organization,
        by=by,
        account_sid=DEFAULT_ACCOUNT_SID,
        auth_token=DEFAULT_AUTH_TOKEN,
        phone_number=DEFAULT_NUMBERS[0],
    )
    twilio_set_send_rate(connection=row, send_rate=send_rate, by=by)
    return organization, owner


def prepare(
    count: int, *, send_rate: Decimal, name: str = "Bench", first_phone: int = 0
) -> Organization:
    """``connected_organization`` with ``count`` contacts whose numbers run from +1 415 200
    0000 + ``first_phone`` (two organizations' recipients kept apart, so the sandbox's
    arrivals per recipient tell them apart)."""
    organization, _owner = connected_organization(name, send_rate)
    for begin in range(0, count, 5000):
        contacts = []
        for n in range(begin, min(begin + 5000, count)):
            contact = Contact(
                organization=organization,
                phone=f"+1415{2000000 + first_phone + n:07d}",
                first_name="Ann",
                last_name=f"Person {n}",
                time_zone="America/Los_Angeles",
            )
            contact.search = contact.search_text()
            contacts.append(contact)
        Contact.objects.bulk_create(contacts)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return organization


def send_to_all(organization: Organization) -> int:
    """``message_send_many`` to every contact, each chunk committed (and its send batches
    enqueued) on its own, as a launch sends; returns how many messages it created."""
    return message_send_many(
        organization=organization,
        contacts=Contact.objects.filter(organization=organization).order_by("pk"),
        body=BODY,
        source="automation",
        commit_each_chunk=True,
    ).created


def sessions_opened() -> int:
    """Sessions ever opened on this database (PostgreSQL 14 and later)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        row = cursor.fetchone()
        return int(row[0]) if row else 0


def left(organization: Organization, statuses: list[str]) -> int:
    """The organization's messages in one of ``statuses``."""
    return Message.objects.filter(organization=organization, status__in=statuses).count()


def created_twice(stats: dict[str, Any]) -> int:
    """Messages the sandbox created more than once (``/sandbox/stats``: creates per status
    callback URL, which names one message), counted once for each extra create."""
    return sum(int(n) - 1 for n in stats["creates"].values() if int(n) > 1)
