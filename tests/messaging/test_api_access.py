"""``/api/v1/messages/``: what each key may reach, and the answer without a key."""

from __future__ import annotations

import pytest

from messaging.models import Message
from tests.messaging.api_helpers import (
    MESSAGES,
    error,
    ids,
    log_entry,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unlimited_slots")]


# --- Who may do what ------------------------------------------------------------------------


def test_a_viewer_key_may_not_send(personas, connection, contact, rsps):
    response = personas.api("viewer").post(
        MESSAGES, {"contact": str(contact.public_id), "body": "Hi"}, "json"
    )

    assert response.status_code == 403, response.content
    assert error(response)["code"] == "permission_denied"
    assert not Message.objects.exists()
    assert len(rsps.calls) == 0


def test_it_lets_a_viewer_key_read(personas, contact):
    message = log_entry(personas.org, contact=contact)
    api = personas.api("viewer")

    listed = api.get(MESSAGES)
    one = api.get(f"{MESSAGES}{message.public_id}/")

    assert listed.status_code == 200, listed.content
    assert ids(listed) == [str(message.public_id)]
    assert one.status_code == 200, one.content
    assert one.json()["id"] == str(message.public_id)


def test_an_outsider_key_gets_404_for_a_message_of_another_organization(personas, contact):
    message = log_entry(personas.org, contact=contact)

    response = personas.api("outsider").get(f"{MESSAGES}{message.public_id}/")

    assert response.status_code == 404, response.content
    assert error(response)["code"] == "not_found"


@pytest.mark.parametrize("message_id", ["5f0c3a1e-8d2b-4c7a-9e61-0b4d2f8a7c35", "not-a-uuid"])
def test_it_answers_404_for_an_unknown_message(personas, message_id):
    response = personas.api("viewer").get(f"{MESSAGES}{message_id}/")

    assert response.status_code == 404, response.content


@pytest.mark.parametrize("method", ["get", "post"])
def test_it_answers_401_without_a_key(personas, contact, method):
    from rest_framework.test import APIClient

    api = APIClient(HTTP_X_FORWARDED_PROTO="https")
    message = log_entry(personas.org, contact=contact)

    if method == "get":
        responses_ = [api.get(MESSAGES), api.get(f"{MESSAGES}{message.public_id}/")]
    else:
        responses_ = [api.post(MESSAGES, {"contact": str(contact.public_id), "body": "Hi"}, "json")]

    for response in responses_:
        assert response.status_code == 401, response.content
        assert error(response)["code"] == "not_authenticated"
        assert "results" not in response.json()
    assert Message.objects.count() == 1
