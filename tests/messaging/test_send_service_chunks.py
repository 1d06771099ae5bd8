"""``message_send_many`` in chunks: each chunk its own transaction when asked (a launch), a
failed chunk leaving the others intact, and a queryset of contacts read chunk by chunk."""

from __future__ import annotations

import pytest
from django.db import transaction

from contacts.models import Contact
from messaging.models import Message, MessageEvent, Status
from messaging.services import bulk_insert, sending
from messaging.services.sending import message_send_many
from tenants.errors import ApplicationError
from tests.messaging.helpers import forms, make_contact, messages_create

pytestmark = pytest.mark.usefixtures("unlimited_slots", "connection")


def numbers(n: int) -> list[str]:
    return [f"+1415555{1000 + i}" for i in range(n)]


@pytest.fixture(autouse=True)
def _chunks_of_three(monkeypatch):
    monkeypatch.setattr(sending, "BATCH", 3)


def sent_to() -> list[str]:
    return sorted(Message.objects.values_list("to", flat=True))


@pytest.mark.django_db(transaction=True)
def test_each_chunk_commits_and_is_sent_on_its_own_and_a_refused_chunk_keeps_the_others(
    personas, rsps
):
    messages_create(rsps)
    ours = [make_contact(personas, phone) for phone in numbers(7)]
    theirs = Contact.objects.create(
        organization=personas.other_org, phone="+14155559999", time_zone="UTC"
    )

    with pytest.raises(ApplicationError) as caught:
        message_send_many(
            organization=personas.org,
            contacts=[*ours, theirs],  # chunks: 3, 3, then the 7th with the foreign contact
            body="Sale",
            source="automation",
            commit_each_chunk=True,
        )

    assert caught.value.fields == {"contacts": [f"No such contact: {theirs.public_id}."]}
    # The first two chunks committed, and their messages went out as each committed.
    assert sent_to() == sorted(c.phone for c in ours[:6])
    assert set(Message.objects.values_list("status", flat=True)) == {Status.QUEUED}
    assert sorted(f["To"][0] for f in forms(rsps)) == sorted(c.phone for c in ours[:6])


@pytest.mark.django_db(transaction=True)
def test_a_chunk_that_fails_to_write_leaves_the_chunks_before_it(personas, rsps, monkeypatch):
    messages_create(rsps)
    ours = [make_contact(personas, phone) for phone in numbers(6)]
    real = bulk_insert.events_insert
    calls = []

    def second_fails(rows):
        # The second chunk's messages are written, then its events fail.
        calls.append(len(rows))
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real(rows)

    monkeypatch.setattr(sending, "events_insert", second_fails)

    with pytest.raises(RuntimeError, match="the database went away"):
        message_send_many(
            organization=personas.org,
            contacts=ours,
            body="Sale",
            source="automation",
            commit_each_chunk=True,
        )

    assert calls == [3, 3]
    assert sent_to() == sorted(c.phone for c in ours[:3])  # the second chunk left nothing
    assert MessageEvent.objects.filter(message__to__in=[c.phone for c in ours[3:]]).count() == 0
    assert sorted(f["To"][0] for f in forms(rsps)) == sorted(c.phone for c in ours[:3])


@pytest.mark.django_db
def test_by_default_a_refused_contact_refuses_every_chunk(personas, rsps):
    ours = [make_contact(personas, phone) for phone in numbers(5)]
    theirs = Contact.objects.create(
        organization=personas.other_org, phone="+14155559999", time_zone="UTC"
    )

    with pytest.raises(ApplicationError):
        message_send_many(
            organization=personas.org, contacts=[*ours, theirs], body="Sale", source="api"
        )

    assert not Message.objects.exists()
    assert forms(rsps) == []


@pytest.mark.django_db
def test_it_refuses_chunk_commits_inside_a_transaction(personas):
    alice = make_contact(personas, numbers(1)[0])

    with transaction.atomic(), pytest.raises(RuntimeError, match="outside a transaction"):
        message_send_many(
            organization=personas.org,
            contacts=[alice],
            body="Sale",
            source="api",
            commit_each_chunk=True,
        )

    assert not Message.objects.exists()


@pytest.mark.django_db
def test_it_reads_a_queryset_of_contacts_chunk_by_chunk_without_keeping_it(
    personas, rsps, django_capture_on_commit_callbacks
):
    messages_create(rsps)
    for phone in numbers(7):
        make_contact(personas, phone)
    audience = Contact.objects.filter(organization=personas.org).order_by("phone")

    with django_capture_on_commit_callbacks(execute=True):
        result = message_send_many(
            organization=personas.org, contacts=audience, body="Sale", source="api"
        )

    assert result.created == 7
    assert audience._result_cache is None  # never evaluated whole
    assert len(forms(rsps)) == 7
