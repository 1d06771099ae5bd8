"""The GCRA budgets (``tenants.ratelimit``): exact arithmetic in this process, and one budget
for every process on Redis.

The in-process tests always run. The Redis ones need ``REDIS_URL`` (skipped locally without
it, failed under CI); each uses keys of its own and deletes them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings

from tenants import api_ratelimit
from tenants.api_ratelimit import api_key_budget_key
from tenants.ratelimit import Gcra, Outcome
from tests.conftest import require_service
from tests.tenants.test_api_rate_limit import BASE, ORGANIZATION, FakeTime, key, limits

ROOT = Path(__file__).resolve().parents[2]
T = 50_000  # 20 a second, in microseconds
BURST_100 = 100 * T


def test_a_burst_of_100_at_20_a_second_is_exactly_100_then_one_every_50_ms():
    limiter = Gcra(None)

    answers = [limiter.take("k", intervals=[T], tolerance=BURST_100, now=BASE) for _ in range(101)]

    assert [a.taken for a in answers] == [1] * 100 + [0]
    assert answers[0] == Outcome(taken=1, wait=0, ahead=T)
    assert answers[99] == Outcome(taken=1, wait=0, ahead=BURST_100)
    assert answers[100] == Outcome(taken=0, wait=T, ahead=BURST_100)
    assert limiter.take("k", intervals=[T], tolerance=BURST_100, now=BASE + 0.05).taken == 1


def test_it_takes_a_batch_in_order_as_far_as_it_fits():
    limiter = Gcra(None)

    outcome = limiter.take("k", intervals=[T] * 150, tolerance=BURST_100, now=BASE)

    assert outcome == Outcome(taken=100, wait=T, ahead=BURST_100)


def test_an_item_dearer_than_the_burst_goes_through_an_idle_budget():
    limiter = Gcra(None)

    first = limiter.take("k", intervals=[3_000_000], tolerance=1_000_000, now=BASE)
    second = limiter.take("k", intervals=[1], tolerance=1_000_000, now=BASE)

    assert first == Outcome(taken=1, wait=0, ahead=3_000_000)
    assert second == Outcome(taken=0, wait=2_000_001, ahead=3_000_000)


def test_in_process_budgets_are_per_instance_and_forgotten_on_reset():
    one, other = Gcra(None), Gcra(None)
    one.take("k", intervals=[T] * 100, tolerance=BURST_100, now=BASE)

    assert one.take("k", intervals=[T], tolerance=BURST_100, now=BASE).taken == 0
    assert other.take("k", intervals=[T], tolerance=BURST_100, now=BASE).taken == 1
    one.reset("k")
    assert one.take("k", intervals=[T], tolerance=BURST_100, now=BASE).ahead == T
    one.forget_local()
    assert one.take("k", intervals=[T], tolerance=BURST_100, now=BASE).ahead == T


# --- On Redis -------------------------------------------------------------------------------


@pytest.fixture
def redis_url() -> str:
    url = settings.REDIS_URL
    answers = False
    if url:
        try:
            answers = bool(redis.Redis.from_url(url, socket_timeout=2).ping())
        except redis.RedisError:
            answers = False
    require_service("Redis (REDIS_URL)", answers)
    return str(url)


@pytest.fixture
def budget_key(redis_url: str) -> Iterator[str]:
    name = f"ratelimit:test:{uuid.uuid4()}"
    yield name
    redis.Redis.from_url(redis_url).delete(name)


def take_in_a_subprocess(url: str, name: str, *, count: int, now: float) -> list[dict[str, int]]:
    """Another process (a second web worker) taking ``count`` requests' worth from ``name``."""
    code = (
        "import json, sys\n"
        "from tenants.ratelimit import Gcra\n"
        "url, name, count, now, t, tolerance = sys.argv[1:]\n"
        "limiter = Gcra(url)\n"
        "answers = [limiter.take(name, intervals=[int(t)], tolerance=int(tolerance),"
        " now=float(now)).__dict__ for _ in range(int(count))]\n"
        "print(json.dumps(answers))\n"
    )
    args = [url, name, str(count), repr(now), str(T), str(BURST_100)]
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    answers: list[dict[str, int]] = json.loads(done.stdout)
    return answers


def test_two_clients_of_one_redis_share_a_budget(redis_url, budget_key):
    one, other = Gcra(redis_url), Gcra(redis_url)

    taken = [
        limiter.take(budget_key, intervals=[T], tolerance=BURST_100, now=BASE).taken
        for limiter in [one, other] * 51
    ]

    assert taken == [1] * 100 + [0, 0]
    assert one._client is not other._client
    # The same numbers as in this process: whole microseconds, exact in Lua.
    assert other.take(budget_key, intervals=[T], tolerance=BURST_100, now=BASE) == Outcome(
        taken=0, wait=T, ahead=BURST_100
    )
    assert one.take(budget_key, intervals=[T], tolerance=BURST_100, now=BASE + 0.05).taken == 1
    ttl = int(redis.Redis.from_url(redis_url).pttl(budget_key))  # type: ignore[arg-type]
    assert 0 < ttl <= 6_000  # it expires once the budget is whole again (5 s), plus 1 s
    one.reset(budget_key)
    assert other.take(budget_key, intervals=[T], tolerance=BURST_100, now=BASE).ahead == T


def test_another_process_takes_from_the_same_budget(redis_url, budget_key):
    mine = Gcra(redis_url)
    assert mine.take(budget_key, intervals=[T] * 40, tolerance=BURST_100, now=BASE).taken == 40

    answers = take_in_a_subprocess(redis_url, budget_key, count=61, now=BASE)

    assert [a["taken"] for a in answers] == [1] * 60 + [0]
    assert answers[59]["ahead"] == BURST_100
    assert mine.take(budget_key, intervals=[T], tolerance=BURST_100, now=BASE).taken == 0


@pytest.mark.django_db
def test_an_api_key_is_limited_across_processes(redis_url, personas, monkeypatch):
    """Another web process answers 60 of a key's requests; this one has 40 left, then 429."""
    monkeypatch.setattr(api_ratelimit, "time", FakeTime(BASE))
    api_key, client = key(personas.org)

    answers = take_in_a_subprocess(redis_url, api_key_budget_key(api_key), count=60, now=BASE)
    assert all(a["taken"] for a in answers)

    mine = [client.get(ORGANIZATION) for _ in range(41)]

    assert [limits(r)[1] for r in mine[:3]] == [39, 38, 37]
    assert [r.status_code for r in mine] == [200] * 40 + [429]
    assert mine[-1]["Retry-After"] == "1"
    redis.Redis.from_url(redis_url).delete(api_key_budget_key(api_key))


# --- Reserving the slots of items that must wait ----------------------------------------------

TENTH = 100_000  # 10 a second
SECOND = 1_000_000


def reservations(limiter: Gcra, name: str) -> list[Outcome]:
    """At 10 a second with a burst of one second: a burst taken, then what three batches of
    waiting items reserve at the same instant, and what a take finds after them."""
    assert limiter.take(name, intervals=[TENTH] * 15, tolerance=SECOND, now=BASE).taken == 10
    batches = [
        limiter.reserve(
            name, intervals=[TENTH] * n, tolerance=SECOND, horizon=60 * SECOND, now=BASE
        )
        for n in (15, 4, 30)
    ]
    after = limiter.take(name, intervals=[TENTH], tolerance=SECOND, now=BASE)
    return [*batches, after]


EXPECTED_RESERVATIONS = [
    # The first batch: the next burst (slots due 0.1 s … 1.0 s from now), all due in 1 s.
    Outcome(taken=10, wait=10 * TENTH, ahead=2 * SECOND),
    # The second: its 4 after those (1.1 s … 1.4 s), due in 1.4 s; no batch shares a slot.
    Outcome(taken=4, wait=14 * TENTH, ahead=24 * TENTH),
    # The third: a burst from 1.5 s (1.5 s … 2.4 s).
    Outcome(taken=10, wait=24 * TENTH, ahead=34 * TENTH),
    # And a take now finds every one of those slots held: its own comes at 2.5 s.
    Outcome(taken=0, wait=25 * TENTH, ahead=34 * TENTH),
]


def test_waiting_items_reserve_their_next_burst_each_after_the_last_reservation():
    assert reservations(Gcra(None), "k") == EXPECTED_RESERVATIONS


def test_the_same_reservations_on_redis(redis_url, budget_key):
    assert reservations(Gcra(redis_url), budget_key) == EXPECTED_RESERVATIONS


def test_nothing_is_reserved_past_the_horizon(redis_url, budget_key):
    for limiter, name in [(Gcra(None), "k"), (Gcra(redis_url), budget_key)]:
        # One item dear enough to hold the budget for 70 s (a long MMS at 1 a second, say).
        limiter.take(name, intervals=[70 * SECOND], tolerance=SECOND, now=BASE)

        outcome = limiter.reserve(
            name, intervals=[SECOND] * 3, tolerance=SECOND, horizon=60 * SECOND, now=BASE
        )

        assert outcome == Outcome(taken=0, wait=70 * SECOND, ahead=70 * SECOND)
        assert limiter.take(name, intervals=[1], tolerance=SECOND, now=BASE).ahead == 70 * SECOND
