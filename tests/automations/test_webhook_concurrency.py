"""Incoming webhooks posted at the same time, as a sender's retries and parallel senders do:
one event still enrols once, and one new number is still one contact."""

from __future__ import annotations

import json
import threading

import pytest
from django.test import Client

from automations.models import AutomationRun
from contacts.models import Contact
from tests.automations.webhook_helpers import webhook_automation, webhook_path
from tests.concurrency import run_together

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("connection", "enqueued"),
]

BODY = {"phone": "+14155550101", "first_name": "Ada", "custom_fields": {"plan": "pro"}}


def together(*paths_and_bodies: tuple[str, dict]) -> list[tuple[int, dict]]:
    barrier = threading.Barrier(len(paths_and_bodies), timeout=10)

    def poster(path: str, body: dict):
        def post() -> tuple[int, dict]:
            barrier.wait()
            client = Client(HTTP_X_FORWARDED_PROTO="https")
            response = client.post(path, json.dumps(body), content_type="application/json")
            return response.status_code, response.json()

        return post

    return run_together(*(poster(path, body) for path, body in paths_and_bodies))


def test_one_event_posted_twice_at_once_enrols_once_and_both_get_its_answer(personas):
    automation = webhook_automation(personas)
    body = {**BODY, "event_id": "signup-1"}

    answers = together((webhook_path(automation), body), (webhook_path(automation), body))

    assert [status for status, _ in answers] == [200, 200]
    assert answers[0][1] == answers[1][1]
    assert AutomationRun.objects.count() == 1
    assert Contact.objects.count() == 1


def test_one_new_number_posted_to_two_automations_at_once_is_one_contact(personas):
    one = webhook_automation(personas, name="One")
    two = webhook_automation(personas, name="Two")

    answers = together(
        (webhook_path(one), {**BODY, "custom_fields": {"plan": "pro"}}),
        (webhook_path(two), {**BODY, "custom_fields": {"source": "ads"}}),
    )

    assert [(status, answer["enrolled"]) for status, answer in answers] == [
        (200, True),
        (200, True),
    ]
    ada = Contact.objects.get()
    assert {answer["contact"] for _, answer in answers} == {str(ada.public_id)}
    assert ada.custom_fields == {"plan": "pro", "source": "ads"}
    assert AutomationRun.objects.count() == 2
