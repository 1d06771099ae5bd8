"""``message_send_many`` enqueues the send batches of a chunked fan-out sized by the whole
audience (counted once), not by each chunk: a large launch is about as many broker messages as
one send of that size, each chunk's enqueued when it commits."""

from __future__ import annotations

import pytest
from django.db import connection

from contacts.models import Contact
from messaging import tasks
from messaging.models import Message, MessageEvent, Status
from messaging.services import sending
from messaging.services.dispatch import batches
from messaging.services.sending import message_send_many

pytestmark = pytest.mark.usefixtures("unlimited_slots", "connection")

AUDIENCE = 2_500  # chunks of 1,000, 1,000 and 500


def audience(personas, n: int = AUDIENCE) -> None:
    Contact.objects.bulk_create(
        Contact(organization=personas.org, phone=f"+1415{2000000 + i:07d}", time_zone="UTC")
        for i in range(n)
    )


@pytest.fixture
def published(monkeypatch) -> list[list[int]]:
    """Each broker message the send service publishes (its batch of ids), in order; each
    checked, as it is published, to be committed and stamped ``enqueued_at``."""
    sent: list[list[int]] = []

    def delay(message_ids: list[int]) -> None:
        rows = Message.objects.filter(
            pk__in=message_ids, status=Status.PENDING, enqueued_at__isnull=False
        )
        assert rows.count() == len(message_ids)
        sent.append(list(message_ids))

    monkeypatch.setattr(tasks.send_messages, "delay", delay)
    return sent


def send(personas, contacts) -> sending.SendManyResult:
    return message_send_many(
        organization=personas.org,
        contacts=contacts,
        body="Spring sale",
        source="automation",
        commit_each_chunk=True,
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("given", ["queryset", "list"])
def test_a_chunked_fan_out_enqueues_batches_sized_by_the_whole_audience(personas, published, given):
    audience(personas)
    contacts = Contact.objects.filter(organization=personas.org).order_by("pk")

    result = send(personas, contacts if given == "queryset" else list(contacts))

    assert result.created == AUDIENCE
    assert result.statuses == {"pending": AUDIENCE}
    # As many broker messages as one send of the whole audience gets, all of one size...
    whole = batches(list(range(AUDIENCE)))
    assert [len(b) for b in published] == [len(b) for b in whole]
    # ...not what each chunk would get on its own (more, and smaller, batches).
    alone = [len(b) for n in (1000, 1000, 500) for b in batches(list(range(n)))]
    assert len(alone) > len(published)
    # Every message once, chunk by chunk in the audience's order.
    assert [pk for batch in published for pk in batch] == result.message_ids
    assert MessageEvent.objects.filter(status=Status.PENDING).count() == AUDIENCE


@pytest.mark.django_db(transaction=True)
def test_an_audience_that_cannot_be_counted_is_batched_chunk_by_chunk(personas, published):
    audience(personas)
    contacts = Contact.objects.filter(organization=personas.org).order_by("pk")

    result = send(personas, (contact for contact in contacts))

    assert result.created == AUDIENCE
    alone = [len(b) for n in (1000, 1000, 500) for b in batches(list(range(n)))]
    assert [len(b) for b in published] == alone
    assert [pk for batch in published for pk in batch] == result.message_ids


@pytest.mark.django_db(transaction=True)
def test_the_audience_is_counted_once(personas, published):
    audience(personas)
    contacts = Contact.objects.filter(organization=personas.org).order_by("pk")
    sql: list[str] = []

    def record(execute, statement, params, many, context):
        sql.append(statement)
        return execute(statement, params, many, context)

    with connection.execute_wrapper(record):
        send(personas, contacts)

    assert len([s for s in sql if "COUNT(" in s.upper() and 'FROM "contacts_contact"' in s]) == 1
    assert contacts._result_cache is None  # counted and read, never held whole
