"""What an incoming webhook refuses before it writes: bad JSON and bad fields (400, naming
each field), a body over 64 KB (413), more posts than its rate (429 with Retry-After)."""

from __future__ import annotations

import io
import json

import pytest
from django.test import Client, RequestFactory, TestCase

from automations import webhooks
from automations.services.automations import automation_update
from messaging import ratelimit
from tests.automations.webhook_helpers import post, stored, webhook_automation, webhook_path

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connection", "enqueued")]

LIMIT = 64 * 1024
REAL_TAKE_MANY = ratelimit.take_many  # the enqueued fixture's sends never wait; these do


@pytest.fixture
def automation(personas):
    return webhook_automation(personas)


@pytest.mark.parametrize(
    "body",
    [
        "",
        "{",
        "{'phone': '+14155550101'}",
        '{"phone": "+14155550101",}',
        '{"phone": NaN}',
        b"\xff\xfe{}",
        "[" * 40 + "]" * 40,
    ],
)
def test_a_body_that_is_not_json_is_400_parse_error(automation, body):
    response = post(webhook_path(automation), body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "parse_error"
    assert error["message"]
    assert stored() == (0, 0, 0)


@pytest.mark.parametrize("body", ['["+14155550101"]', '"+14155550101"', "42", "null"])
def test_json_that_is_not_an_object_is_400(automation, body):
    response = post(webhook_path(automation), body)

    assert response.status_code == 400
    assert "must be a JSON object" in response.json()["error"]["message"]
    assert stored() == (0, 0, 0)


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({}, "phone", "phone number"),
        ({"phone": ""}, "phone", "phone number"),
        ({"phone": 14155550101}, "phone", "as text"),
        ({"phone": "call me"}, "phone", "only digits"),
        ({"phone": "+1415"}, "phone", "too short"),
        ({"phone": "+14155550101", "first_name": ["Ada"]}, "first_name", "as text"),
        ({"phone": "+14155550101", "first_name": "A" * 101}, "first_name", "100"),
        ({"phone": "+14155550101", "email": "ada@"}, "email", "not an email"),
        ({"phone": "+14155550101", "time_zone": "Mars/Olympus"}, "time_zone", "not a time zone"),
        ({"phone": "+14155550101", "time_zone": 5}, "time_zone", "as text"),
        ({"phone": "+14155550101", "custom_fields": ["plan"]}, "custom_fields", "an object"),
        ({"phone": "+14155550101", "custom_fields": {"Plan!": "x"}}, "custom_fields", "lower-case"),
        ({"phone": "+14155550101", "custom_fields": {"plan": 3}}, "custom_fields", "text"),
        ({"phone": "+14155550101", "tags": "vip"}, "tags", "a list"),
        ({"phone": "+14155550101", "tags": ["vip", 3]}, "tags", "a list"),
        ({"phone": "+14155550101", "tags": ["no/slash"]}, "tags", "tag names"),
        ({"phone": "+14155550101", "tags": [f"t{n}" for n in range(21)]}, "tags", "20"),
        ({"phone": "+14155550101", "event_id": "e" * 81}, "event_id", "80"),
        ({"phone": "+14155550101", "event_id": {"id": 1}}, "event_id", "as text"),
        ({"phone": "+14155550101", "firstName": "Ada"}, "firstName", "Not a field"),
        ({"phone": "+14155550101", "first_name": "Ada\x00"}, "first_name", "NUL"),
    ],
)
def test_a_bad_field_is_400_naming_it_and_stores_nothing(automation, body, field, words):
    response = post(webhook_path(automation), body)

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["fields"]) == [field]
    assert words in " ".join(error["fields"][field])
    assert stored() == (0, 0, 0)


def test_every_bad_field_is_named_at_once(automation):
    response = post(webhook_path(automation), {"email": "x", "tags": "vip", "event_id": []})

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"phone", "email", "tags", "event_id"}


def test_an_idempotency_key_over_80_characters_is_400_naming_the_header(automation):
    response = post(
        webhook_path(automation), {"phone": "+14155550101"}, HTTP_IDEMPOTENCY_KEY="k" * 81
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["Idempotency-Key"]
    assert stored() == (0, 0, 0)


def test_an_event_id_may_be_a_number(automation):
    response = post(webhook_path(automation), {"phone": "+14155550101", "event_id": 1234})

    assert response.status_code == 200
    assert response.json()["enrolled"] is True


# Size


def padded(size: int) -> str:
    """A valid body of exactly ``size`` bytes."""
    start = '{"phone": "+14155550101", "first_name": "Ada"'
    body = start + " " * (size - len(start) - 1) + "}"
    assert len(body.encode()) == size
    json.loads(body)
    return body


def test_a_body_of_64_kb_is_taken(automation):
    response = post(webhook_path(automation), padded(LIMIT))

    assert response.status_code == 200, response.content
    assert response.json()["enrolled"] is True


def test_a_body_of_64_kb_and_one_byte_is_413_and_stores_nothing(automation):
    response = post(webhook_path(automation), padded(LIMIT + 1))

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert stored() == (0, 0, 0)


def test_a_big_form_post_gets_the_webhooks_own_json_413(automation):
    """Not the 400 page Django's form parsing gives a form over 2.5 MB elsewhere."""
    body = "phone=%2B14155550101&note=" + "x" * (3 * 1024 * 1024)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = Client(HTTP_X_FORWARDED_PROTO="https").post(
            webhook_path(automation), body, content_type="application/x-www-form-urlencoded"
        )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert stored() == (0, 0, 0)


def test_a_body_longer_than_it_said_is_413_by_the_bytes_read(automation):
    """Without a Content-Length (a chunked body through ASGI), the bytes read decide."""
    request = RequestFactory().post(webhook_path(automation), "{}", content_type="application/json")
    del request.META["CONTENT_LENGTH"]
    request._stream = io.BytesIO(padded(LIMIT + 1).encode())

    response = webhooks.incoming(request, str(automation.public_id), automation.webhook_secret)

    assert response.status_code == 413
    assert stored() == (0, 0, 0)


def test_a_huge_declared_body_is_413_before_anything_is_read(automation, monkeypatch):
    looked_up = []
    monkeypatch.setattr(webhooks, "_automation", lambda *args: looked_up.append(args))
    request = RequestFactory().post(webhook_path(automation), "{}", content_type="application/json")
    request.META["CONTENT_LENGTH"] = str(50 * 1024 * 1024)

    response = webhooks.incoming(request, str(automation.public_id), automation.webhook_secret)

    assert response.status_code == 413
    assert looked_up == []


# Rate


def test_posts_over_the_automations_rate_are_429_with_retry_after(personas, monkeypatch):
    monkeypatch.setattr(ratelimit, "take_many", REAL_TAKE_MANY)
    automation = webhook_automation(personas, trigger={"rate_per_second": 1})
    first = post(webhook_path(automation), {"phone": "+14155550101"})

    refused = post(webhook_path(automation), {"phone": "+14155550102"})

    assert first.status_code == 200
    assert refused.status_code == 429
    assert refused["Retry-After"] == "1"
    error = refused.json()["error"]
    assert error["code"] == "rate_limited"
    assert "1 requests a second" in error["message"]
    assert stored() == (1, 1, 0)  # only the first contact and its enrolment


def test_the_rate_is_50_a_second_per_automation_unless_set(personas, monkeypatch):
    taken: list[tuple[str, float]] = []

    def take(key: str, *, rate: float) -> float:
        taken.append((key, rate))
        return 0.0

    monkeypatch.setattr(ratelimit, "take", take)
    plain = webhook_automation(personas, name="Plain")
    fast = webhook_automation(personas, name="Fast", trigger={"rate_per_second": 200})

    for automation in (plain, fast):
        assert post(webhook_path(automation), {"phone": "+14155550101"}).status_code == 200

    assert taken == [(f"webhook:{plain.public_id}", 50), (f"webhook:{fast.public_id}", 200)]


def test_the_rate_follows_the_live_version(personas, monkeypatch):
    taken: list[float] = []

    def take(key: str, *, rate: float) -> float:
        taken.append(rate)
        return 0.0

    monkeypatch.setattr(ratelimit, "take", take)
    automation = webhook_automation(personas)
    draft = {**automation.draft, "trigger": {"type": "incoming_webhook", "rate_per_second": 5}}
    automation_update(automation=automation, definition=draft)

    post(webhook_path(automation), {"phone": "+14155550101"})

    assert taken == [50]  # the draft's 5 counts once published
