"""The send rule about dedupe keys: one message per key and organization, freed when unsent."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from messaging.models import DedupeKey, Status, SuppressedReason
from messaging.services.sending import message_send
from tests.connections.helpers import connect
from tests.messaging.helpers import (
    expected_form,
    forms,
    make_contact,
    messages_create,
    messages_refuse,
    send_now,
)
from tests.messaging.send_helpers import (
    ALICE,
    assert_suppressed,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unlimited_slots")]


# --- Dedupe key -----------------------------------------------------------------------------


def test_it_suppresses_a_dedupe_key_already_used_by_a_sent_message(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect(personas)
    alice = make_contact(personas, ALICE)
    messages_create(rsps)
    first = send_now(
        django_capture_on_commit_callbacks, personas, contact=alice, body="Hi", dedupe_key="welcome"
    )
    assert first.status == Status.QUEUED
    assert list(DedupeKey.objects.values_list("organization", "key", "message")) == [
        (personas.org.pk, "welcome", first.pk)
    ]

    second = send_now(
        django_capture_on_commit_callbacks, personas, contact=alice, body="Hi", dedupe_key="welcome"
    )

    assert_suppressed(second, SuppressedReason.DUPLICATE)
    assert len(forms(rsps)) == 1


def test_it_suppresses_a_dedupe_key_held_by_a_message_still_on_its_way(personas, rsps):
    connect(personas)
    alice = make_contact(personas, ALICE)
    later = datetime.timedelta(hours=1)

    first = message_send(
        organization=personas.org,
        contact=alice,
        body="Hi",
        dedupe_key="welcome",
        send_after=timezone.now() + later,
        source="test",
    )
    assert first.status == Status.PENDING

    second = message_send(
        organization=personas.org, contact=alice, body="Hi", dedupe_key="welcome", source="test"
    )

    assert_suppressed(second, SuppressedReason.DUPLICATE)


def test_it_does_not_use_up_a_dedupe_key_of_a_suppressed_message(
    personas, rsps, django_capture_on_commit_callbacks
):
    first = send_now(
        django_capture_on_commit_callbacks, personas, to=ALICE, body="Hi", dedupe_key="welcome"
    )
    assert first.suppressed_reason == SuppressedReason.NO_CONNECTION
    connect(personas)
    messages_create(rsps)

    second = send_now(
        django_capture_on_commit_callbacks, personas, to=ALICE, body="Hi", dedupe_key="welcome"
    )

    assert second.status == Status.QUEUED
    assert forms(rsps) == [expected_form(second, to=ALICE, body="Hi")]
    assert list(DedupeKey.objects.values_list("key", "message")) == [("welcome", second.pk)]


def test_it_does_not_use_up_a_dedupe_key_of_a_message_that_failed_permanently(
    personas, rsps, django_capture_on_commit_callbacks
):
    connect(personas)
    messages_refuse(rsps, 21612, 400, "The 'To' phone number is not currently reachable.")
    messages_create(rsps)
    first = send_now(
        django_capture_on_commit_callbacks, personas, to=ALICE, body="Hi", dedupe_key="welcome"
    )
    assert (first.status, first.error_code) == (Status.FAILED, 21612)
    assert not DedupeKey.objects.exists()

    second = send_now(
        django_capture_on_commit_callbacks, personas, to=ALICE, body="Hi", dedupe_key="welcome"
    )

    assert second.status == Status.QUEUED
    assert len(forms(rsps)) == 2
    assert list(DedupeKey.objects.values_list("key", "message")) == [("welcome", second.pk)]


def test_it_keeps_dedupe_keys_per_organization(personas, rsps, django_capture_on_commit_callbacks):
    connect(personas)
    connect(personas, "outsider")  # organization B, on the same Twilio account
    messages_create(rsps)
    send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="Hi", dedupe_key="k")

    other = message_send(
        organization=personas.other_org, to=ALICE, body="Hi", dedupe_key="k", source="test"
    )

    assert (other.status, other.suppressed_reason) == (Status.PENDING, "")
