"""``Idempotency-Key``: the first answer is kept 24 hours and returned to a retry."""

from __future__ import annotations

import datetime

import pytest

from tenants.errors import ApplicationError, ConflictError
from tenants.idempotency import idempotency_keys_purge, idempotent
from tenants.models import IdempotencyKey
from tenants.tasks import purge_idempotency_keys
from tests.messaging.helpers import Clock

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 4, 1, 12, 0, tzinfo=datetime.UTC)
DATA = {"to": "+14155550123", "body": "Hi"}


class Handler:
    """Stands for the API view: counts its runs and answers with a new body each time."""

    def __init__(self, status: int = 201) -> None:
        self.runs = 0
        self.status = status

    def __call__(self) -> tuple[int, dict]:
        self.runs += 1
        return self.status, {"id": f"message-{self.runs}", "status": "pending"}


def call(organization, handler, *, key: str = "key-1", data=DATA) -> tuple[int, dict]:
    return idempotent(organization=organization, key=key, data=data, run=handler)


def stored(organization) -> list[tuple]:
    return list(
        IdempotencyKey.objects.filter(organization=organization).values_list(
            "key", "response_status", "response_body"
        )
    )


def test_it_runs_the_first_request_and_keeps_its_answer(personas):
    handler = Handler()

    answer = call(personas.org, handler)

    assert answer == (201, {"id": "message-1", "status": "pending"})
    assert handler.runs == 1
    assert stored(personas.org) == [("key-1", 201, {"id": "message-1", "status": "pending"})]


def test_it_answers_a_retry_with_the_first_answer_without_running_again(personas):
    handler = Handler()
    first = call(personas.org, handler)

    retry = call(personas.org, handler, data={"body": "Hi", "to": "+14155550123"})  # same data

    assert retry == first == (201, {"id": "message-1", "status": "pending"})
    assert handler.runs == 1
    assert IdempotencyKey.objects.count() == 1


def test_it_keeps_an_error_answer_too(personas):
    handler = Handler(status=400)
    call(personas.org, handler)

    assert call(personas.org, handler) == (400, {"id": "message-1", "status": "pending"})
    assert handler.runs == 1


def test_it_refuses_the_same_key_with_different_data(personas):
    handler = Handler()
    call(personas.org, handler)

    with pytest.raises(ConflictError) as caught:
        call(personas.org, handler, data={**DATA, "body": "Something else"})

    assert caught.value.code == "idempotency_key_reused"
    assert caught.value.status == 409
    assert handler.runs == 1
    assert stored(personas.org) == [("key-1", 201, {"id": "message-1", "status": "pending"})]


def test_it_runs_again_once_the_key_is_over_24_hours_old(personas, monkeypatch):
    clock = Clock(monkeypatch, T0)
    handler = Handler()
    call(personas.org, handler)

    clock.advance(hours=23, minutes=59)
    assert call(personas.org, handler) == (201, {"id": "message-1", "status": "pending"})
    assert handler.runs == 1

    clock.advance(minutes=2)  # 24 h 1 min after the first request
    answer = call(personas.org, handler, data={**DATA, "body": "New day"})

    assert answer == (201, {"id": "message-2", "status": "pending"})
    assert handler.runs == 2
    assert list(IdempotencyKey.objects.values_list("key", "created_at", "response_body")) == [
        (
            "key-1",
            T0 + datetime.timedelta(hours=24, minutes=1),
            {"id": "message-2", "status": "pending"},
        )
    ]


def test_it_keeps_keys_per_organization(personas):
    handler = Handler()
    call(personas.org, handler)

    answer = call(personas.other_org, handler, data={"something": "else"})

    assert answer == (201, {"id": "message-2", "status": "pending"})
    assert handler.runs == 2
    assert len(stored(personas.org)) == len(stored(personas.other_org)) == 1


def test_it_forgets_a_key_whose_request_failed(personas):
    def failing() -> tuple[int, dict]:
        raise ApplicationError("Something was wrong with the request.")

    with pytest.raises(ApplicationError):
        call(personas.org, failing)

    assert not IdempotencyKey.objects.exists()
    handler = Handler()
    assert call(personas.org, handler) == (201, {"id": "message-1", "status": "pending"})
    assert handler.runs == 1


def test_it_purges_keys_older_than_24_hours(personas, monkeypatch):
    clock = Clock(monkeypatch, T0)
    call(personas.org, Handler(), key="old")
    clock.advance(hours=20)
    call(personas.org, Handler(), key="recent")
    clock.advance(hours=4, seconds=1)

    assert idempotency_keys_purge() == 1
    assert [k for k, *_ in stored(personas.org)] == ["recent"]
    clock.advance(hours=20)
    assert purge_idempotency_keys.delay().get() == 1
    assert not IdempotencyKey.objects.exists()
