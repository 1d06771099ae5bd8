"""``POST /api/v1/messages/`` with an ``Idempotency-Key``: one message per key and organization."""

from __future__ import annotations

import pytest

from messaging.models import Message
from tenants.models import IdempotencyKey
from tests.messaging.api_helpers import (
    MESSAGES,
    PHONE,
    error,
)
from tests.messaging.helpers import forms as forms_posted
from tests.messaging.helpers import messages_create as mock_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unlimited_slots")]


# --- Idempotency-Key ------------------------------------------------------------------------


def test_it_answers_a_retry_with_the_same_key_with_the_first_response(
    personas, connection, contact, rsps, django_capture_on_commit_callbacks
):
    mock_create(rsps)
    api = personas.api("marketer")
    payload = {"contact": str(contact.public_id), "body": "Only once"}

    with django_capture_on_commit_callbacks(execute=True):
        first = api.post(MESSAGES, payload, "json", HTTP_IDEMPOTENCY_KEY="order-42")
    with django_capture_on_commit_callbacks(execute=True):
        again = api.post(MESSAGES, payload, "json", HTTP_IDEMPOTENCY_KEY="order-42")

    assert first.status_code == 202, first.content
    assert again.status_code == 202, again.content
    assert again.json() == first.json()
    assert Message.objects.count() == 1
    assert str(Message.objects.get().public_id) == first.json()["id"]
    assert len(forms_posted(rsps)) == 1


def test_it_refuses_the_same_key_with_a_different_request_with_409(
    personas, connection, contact, rsps, django_capture_on_commit_callbacks
):
    mock_create(rsps)
    api = personas.api("marketer")

    with django_capture_on_commit_callbacks(execute=True):
        first = api.post(
            MESSAGES,
            {"contact": str(contact.public_id), "body": "First"},
            "json",
            HTTP_IDEMPOTENCY_KEY="k-1",
        )
    with django_capture_on_commit_callbacks(execute=True):
        other = api.post(
            MESSAGES,
            {"contact": str(contact.public_id), "body": "Second"},
            "json",
            HTTP_IDEMPOTENCY_KEY="k-1",
        )

    assert first.status_code == 202, first.content
    assert other.status_code == 409, other.content
    assert error(other)["code"] == "idempotency_key_reused"
    assert list(Message.objects.values_list("body", flat=True)) == ["First"]
    assert len(forms_posted(rsps)) == 1


def test_it_keeps_idempotency_keys_per_organization(
    personas, connection, contact, rsps, django_capture_on_commit_callbacks
):
    mock_create(rsps)
    payload = {"to": PHONE, "body": "Same words"}

    with django_capture_on_commit_callbacks(execute=True):
        mine = personas.api("marketer").post(MESSAGES, payload, "json", HTTP_IDEMPOTENCY_KEY="k")
    with django_capture_on_commit_callbacks(execute=True):
        theirs = personas.api("outsider").post(MESSAGES, payload, "json", HTTP_IDEMPOTENCY_KEY="k")

    assert mine.status_code == 202, mine.content
    assert theirs.status_code == 202, theirs.content
    assert mine.json()["id"] != theirs.json()["id"]
    assert Message.objects.get(public_id=mine.json()["id"]).organization == personas.org
    assert Message.objects.get(public_id=theirs.json()["id"]).organization == personas.other_org
    assert Message.objects.count() == 2
    # Organization B has no Twilio connection: its message is suppressed, never posted.
    assert theirs.json()["status"] == "suppressed"
    assert theirs.json()["suppressed_reason"] == "no_connection"
    assert len(forms_posted(rsps)) == 1


def test_it_does_not_keep_the_key_of_a_failed_request(
    personas, connection, rsps, django_capture_on_commit_callbacks
):
    mock_create(rsps)
    api = personas.api("marketer")

    with django_capture_on_commit_callbacks(execute=True):
        failed = api.post(
            MESSAGES, {"to": "12", "body": "Hi"}, "json", HTTP_IDEMPOTENCY_KEY="retry-me"
        )
    assert failed.status_code == 400, failed.content
    assert not IdempotencyKey.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        fixed = api.post(
            MESSAGES, {"to": PHONE, "body": "Hi"}, "json", HTTP_IDEMPOTENCY_KEY="retry-me"
        )

    assert fixed.status_code == 202, fixed.content
    assert Message.objects.get().to == PHONE
    assert len(forms_posted(rsps)) == 1
