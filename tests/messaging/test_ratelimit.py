"""The per-sender send rate (GCRA), shared by every worker, and how the send task honours it.

The limiter reads ``time.time`` in ``messaging.ratelimit``; these tests replace that clock, so
they are exact and never sleep (on Redis too: the script takes "now" from the caller).
"""

from __future__ import annotations

import datetime
import math
import threading
from collections import Counter

import pytest

from messaging import ratelimit
from messaging.models import Message, Status
from messaging.services.dispatch import messages_enqueue_due
from messaging.tasks import send_messages
from tests.connections.helpers import connect
from tests.messaging.helpers import (
    Clock,
    expected_form,
    forms,
    limiter,
    messages_create,
    send_now,
)

ALICE = "+14155550123"
BASE = 1_700_000_000.0  # a whole second; steps of 1/8 s stay exact in binary
T0 = datetime.datetime(2026, 4, 1, 12, 0, tzinfo=datetime.UTC)


class FakeTime:
    def __init__(self, now: float = BASE) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture
def fake_time(monkeypatch):
    clock = FakeTime()
    monkeypatch.setattr(ratelimit, "time", clock)
    return clock


@pytest.fixture
def key():
    name = "sender:test-limiter"
    ratelimit.reset(name)
    yield name
    ratelimit.reset(name)


def test_it_allows_a_burst_of_one_second_then_the_rate(fake_time, key):
    answers = [ratelimit.take(key, rate=2) for _ in range(3)]

    assert answers == [0.0, 0.0, 0.5]  # two at once (one second of burst), then wait 0.5 s
    fake_time.now += 0.25
    assert ratelimit.take(key, rate=2) == 0.25
    fake_time.now += 0.25
    assert ratelimit.take(key, rate=2) == 0.0
    assert ratelimit.take(key, rate=2) == 0.5


def test_it_takes_nothing_when_it_says_wait(fake_time, key):
    assert [ratelimit.take(key, rate=1) for _ in range(5)] == [0.0, 1.0, 1.0, 1.0, 1.0]
    fake_time.now += 1
    assert ratelimit.take(key, rate=1) == 0.0


def test_it_charges_each_segment(fake_time, key):
    assert ratelimit.take(key, rate=2, cost=3) == 0.0
    # Three segments at 2/s hold the budget 1.5 s; one more fits once 1 s of burst is left.
    assert ratelimit.take(key, rate=2, cost=1) == 1.0
    fake_time.now += 1.0
    assert ratelimit.take(key, rate=2, cost=1) == 0.0
    assert ratelimit.take(key, rate=2, cost=2) == 1.0


def test_it_keeps_one_budget_per_sender(fake_time, key):
    other = "sender:test-limiter-other"
    ratelimit.reset(other)
    assert ratelimit.take(key, rate=1) == 0.0
    assert ratelimit.take(key, rate=1) == 1.0

    assert ratelimit.take(other, rate=1) == 0.0
    ratelimit.reset(other)


def test_it_holds_the_rate_across_two_worker_threads(fake_time, key):
    """Two workers ask three times each every 1/8 s for 10 simulated seconds at 2/s: only
    two a second go (plus the one-second burst at the start), whoever asks."""
    ticks = 80
    step = 0.125
    barrier = threading.Barrier(2, action=lambda: setattr(fake_time, "now", fake_time.now + step))
    lock = threading.Lock()
    allowed: list[float] = []
    waits: list[tuple[float, float]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(ticks):
                for _ in range(3):
                    now = fake_time.now
                    wait = ratelimit.take(key, rate=2)
                    with lock:
                        (waits.append((now - BASE, wait)) if wait else allowed.append(now - BASE))
                barrier.wait(timeout=10)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sorted(allowed) == [0.0, 0.0] + [0.5 * n for n in range(1, 20)]
    per_second = Counter(int(t) for t in allowed)
    assert [per_second[s] for s in range(10)] == [3] + [2] * 9
    assert len(waits) == 2 * 3 * ticks - len(allowed)
    # Every refusal names the exact moment of the next free slot (slots come every 0.5 s).
    for asked, wait in waits:
        assert asked + wait == (math.floor(asked / 0.5) + 1) * 0.5


# --- The send task honours it ---------------------------------------------------------------


@pytest.mark.django_db
def test_it_defers_a_send_to_the_beat_when_the_wait_is_long(
    personas, rsps, monkeypatch, django_capture_on_commit_callbacks
):
    clock = Clock(monkeypatch, T0)
    connection = connect(personas)
    asked: list[tuple[str, float, int]] = []

    def take(key: str, *, rate: float, cost: int = 1) -> float:
        asked.append((key, rate, cost))
        return 120.0

    limiter(monkeypatch, take)
    body = "x" * 161  # two GSM-7 segments

    message = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body=body)

    assert asked == [(f"sender:{connection.pk}", 1.0, 2)]  # a local number: 1 segment/s
    assert message.status == Status.PENDING
    assert message.send_after == T0 + datetime.timedelta(seconds=120)
    assert message.enqueued_at is None  # left to the beat task
    assert (message.attempts, message.submitted_at) == (0, None)
    assert forms(rsps) == []

    limiter(monkeypatch, lambda key, *, rate, cost=1: 0.0)
    clock.advance(seconds=119)
    assert messages_enqueue_due() == 0
    messages_create(rsps)
    clock.advance(seconds=1)
    assert messages_enqueue_due() == 1
    assert forms(rsps) == [expected_form(message, to=ALICE, body=body)]
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.QUEUED, 1)


@pytest.mark.django_db
def test_it_defers_a_short_wait_with_a_countdown_and_no_sleep(
    personas, rsps, monkeypatch, fake_time, django_capture_on_commit_callbacks
):
    """Two messages at once to a 1 segment/s sender: the second waits one second, re-enqueued
    with a countdown and its slot reserved; its row says when, and the beat leaves it alone."""
    clock = Clock(monkeypatch, T0)
    connect(personas)
    messages_create(rsps)
    later: list[tuple[tuple, dict | None, float]] = []
    enqueue = send_messages.apply_async

    def apply_async(args=None, kwargs=None, *, countdown=None, **options):
        if countdown is None:  # enqueued now: runs eagerly, as usual
            return enqueue(args, kwargs, **options)
        later.append((tuple(args), kwargs, countdown))  # a countdown: what the worker gets
        return None

    monkeypatch.setattr(send_messages, "apply_async", apply_async)

    first = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="One")
    second = send_now(django_capture_on_commit_callbacks, personas, to=ALICE, body="Two")

    assert first.status == Status.QUEUED
    assert second.status == Status.PENDING
    assert second.send_after == T0 + datetime.timedelta(seconds=1)
    assert second.enqueued_at == second.send_after
    assert later == [(([second.pk],), {"reserved": [second.pk]}, 1.0)]
    assert forms(rsps) == [expected_form(first, to=ALICE, body="One")]

    clock.advance(seconds=1)
    assert messages_enqueue_due() == 0  # it is already on its way with a countdown
    fake_time.now += 1
    assert send_messages.delay([second.pk], reserved=[second.pk]).get() == {"submitted": 1}
    assert forms(rsps)[1] == expected_form(second, to=ALICE, body="Two")
    assert Message.objects.get(pk=second.pk).status == Status.QUEUED
