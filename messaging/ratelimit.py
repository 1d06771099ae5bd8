"""Per-sender send rate, shared by every worker: the generic cell rate algorithm (GCRA).

Each sender has a budget (``tenants.ratelimit``, on Redis when ``REDIS_URL`` is set, else in
this process: the embedded development setup runs one sending worker). Sending ``cost``
segments at ``rate`` segments per second moves its "theoretical arrival time" ``cost / rate``
seconds on; a send is allowed when the new TAT is at most one second of burst ahead of now.
"""

from __future__ import annotations

import time

from tenants import ratelimit as gcra

BURST_SECONDS = 1.0


def _key(key: str) -> str:
    return f"ratelimit:{key}"


def take(key: str, *, rate: float, cost: int = 1) -> float:
    """Takes ``cost`` segments from ``key``'s budget: 0 when allowed now, else the seconds to
    wait before trying again (nothing is taken then)."""
    taken, wait = take_many(key, rate=rate, costs=[cost])
    return 0.0 if taken else wait


def take_many(key: str, *, rate: float, costs: list[int]) -> tuple[int, float]:
    """Takes slots for a batch of sends (``costs``: each one's segments), in order, as many as
    the budget allows now, in one round trip: how many were taken, and the seconds until the
    next would be allowed (0 when all were)."""
    intervals = [gcra.microseconds(max(cost, 1) / max(rate, 0.001)) for cost in costs]
    outcome = gcra.shared().take(
        _key(key),
        intervals=intervals,
        tolerance=gcra.microseconds(BURST_SECONDS),
        now=time.time(),
    )
    return outcome.taken, outcome.wait / gcra.MICROSECONDS


def reserve_many(key: str, *, rate: float, costs: list[int], horizon: float) -> tuple[int, float]:
    """Reserves slots for sends ``take_many`` refused, in order: the first's and those within
    a burst of it, unless the first is ``horizon`` seconds away or more. Returns how many were
    reserved (0 then) and the seconds until they may all go (or until the first could)."""
    outcome = gcra.shared().reserve(
        _key(key),
        intervals=[gcra.microseconds(max(cost, 1) / max(rate, 0.001)) for cost in costs],
        tolerance=gcra.microseconds(BURST_SECONDS),
        horizon=gcra.microseconds(horizon),
        now=time.time(),
    )
    return outcome.taken, outcome.wait / gcra.MICROSECONDS


def reset(key: str) -> None:
    """Forgets a sender's history (tests, and a changed send rate)."""
    gcra.shared().reset(_key(key))
