"""Budgets shared by every process: the generic cell rate algorithm (GCRA).

A budget is one number per key, its "theoretical arrival time" (TAT): the moment by which
everything taken so far is paid for at the steady rate. Taking an item whose *interval* is
``cost / rate`` seconds moves the TAT that far on; it is allowed when the new TAT is at most
``tolerance`` seconds ahead of now (or the item's own interval, when that is longer: an item
dearer than the whole burst still goes through an idle budget). A burst of N at a rate of r a
second is a tolerance of N / r seconds: from an idle budget, N items go at once, then one every
1 / r seconds. Nothing else is stored: no window, no counter, no clean-up (the key expires when
the budget is whole again).

Time is counted in whole microseconds, so that the arithmetic is exact in Lua and in Python
(a burst of 100 at 20 a second is exactly 100, never 99 by a rounding). "Now" comes from the
caller, which keeps the tests exact without sleeping.

On Redis one Lua script does this atomically for every process and worker that uses the same
URL; without one (the embedded development setup, one web process), a lock guards the same
arithmetic in this process. Users: the send rate of each sender (``messaging.ratelimit``) and
the API's rate limit per key (``tenants.api_ratelimit``).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import redis
from django.conf import settings
from redis.commands.core import Script

MICROSECONDS = 1_000_000

# KEYS[1]: the budget's TAT in microseconds. ARGV[1]: now, ARGV[2]: the tolerance, ARGV[3..]:
# each item's interval, all in whole microseconds. Takes as many items as fit now, in order;
# returns how many it took, the microseconds until the first one not taken would fit (0 when
# all were), and how far the TAT is ahead of now afterwards.
_SCRIPT = """
local now = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now) or now
if tat < now then tat = now end
local taken = 0
local wait = 0
for i = 3, #ARGV do
  local interval = tonumber(ARGV[i])
  local allow_at = tat + interval - math.max(tolerance, interval)
  if allow_at > now then
    wait = allow_at - now
    break
  end
  tat = tat + interval
  taken = taken + 1
end
if taken > 0 then
  redis.call('SET', KEYS[1], string.format('%d', tat), 'PX',
             math.floor((tat - now) / 1000) + 1000)
end
return {taken, wait, tat - now}
"""


# The same KEYS and ARGV, then ARGV[3] the horizon: reserves, in order, the first item's slot
# and those of the items whose slots come less than one tolerance after it (a burst, to go
# together), unless the first's is a horizon or more away; returns how many it reserved, the
# microseconds until the last of them is allowed (all may go then), and how far the TAT is
# ahead of now afterwards.
_RESERVE_SCRIPT = """
local now = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local horizon = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or now) or now
if tat < now then tat = now end
local first = nil
local last = now
local reserved = 0
for i = 4, #ARGV do
  local interval = tonumber(ARGV[i])
  local allow_at = math.max(tat + interval - math.max(tolerance, interval), now)
  if first == nil then
    first = allow_at
    if first - now >= horizon then
      return {0, first - now, tat - now}
    end
  end
  if allow_at >= first + tolerance and reserved > 0 then break end
  tat = tat + interval
  last = allow_at
  reserved = reserved + 1
end
if reserved > 0 then
  redis.call('SET', KEYS[1], string.format('%d', tat), 'PX',
             math.floor((tat - now) / 1000) + 1000)
end
return {reserved, last - now, tat - now}
"""


@dataclass(frozen=True)
class Outcome:
    taken: int
    """How many of the items were taken, in order (the first refusal stops the rest)."""
    wait: int
    """Microseconds until the first item not taken would be allowed; 0 when all were."""
    ahead: int
    """Microseconds the TAT is ahead of now afterwards: 0 when the budget is whole, and the
    budget is whole again after this long without taking anything."""


def microseconds(seconds: float) -> int:
    return round(seconds * MICROSECONDS)


class Gcra:
    """GCRA budgets on one Redis (``redis_url``), or in this process when it is None.

    Two instances on the same URL (two processes, or two clients in one) share every budget;
    each in-process instance keeps its own.
    """

    def __init__(self, redis_url: str | None) -> None:
        self.redis_url = redis_url or None
        self._lock = threading.Lock()
        self._tat: dict[str, int] = {}
        self._client: redis.Redis | None = None
        self._script: Script | None = None
        self._reserve_script: Script | None = None

    def _redis(self, url: str) -> tuple[redis.Redis, Script]:
        if self._client is None or self._script is None:
            self._client = redis.Redis.from_url(url, socket_timeout=2)
            self._script = self._client.register_script(_SCRIPT)
            self._reserve_script = self._client.register_script(_RESERVE_SCRIPT)
        return self._client, self._script

    def take(self, key: str, *, intervals: Sequence[int], tolerance: int, now: float) -> Outcome:
        """Takes as many of ``intervals`` (each an item's interval in microseconds) as fit in
        ``key``'s budget at ``now`` (a Unix time in seconds), in order, in one round trip."""
        now_us = microseconds(now)
        steps = [max(int(interval), 1) for interval in intervals]
        tolerance = max(int(tolerance), 0)
        if self.redis_url:
            _client, script = self._redis(self.redis_url)
            taken, wait, ahead = script(keys=[key], args=[now_us, tolerance, *steps])
            return Outcome(int(taken), max(int(wait), 0), max(int(ahead), 0))
        with self._lock:
            tat = max(self._tat.get(key, now_us), now_us)
            taken, wait = 0, 0
            for interval in steps:
                allow_at = tat + interval - max(tolerance, interval)
                if allow_at > now_us:
                    wait = allow_at - now_us
                    break
                tat += interval
                taken += 1
            if tat > now_us:
                self._tat[key] = tat
            else:
                self._tat.pop(key, None)
            return Outcome(taken, wait, tat - now_us)

    def reserve(
        self, key: str, *, intervals: Sequence[int], tolerance: int, horizon: int, now: float
    ) -> Outcome:
        """Reserves future slots for items that must wait (``take`` refused the first): the
        first's, and those that come less than one ``tolerance`` after it, so that they can go
        together when the last of them is allowed; ``Outcome.taken`` says how many and
        ``wait`` the microseconds until then. Nothing is reserved when the first slot is
        ``horizon`` microseconds away or more (``wait`` says how far). Whoever holds the
        reservation sends them without asking again: the budget has paid for them."""
        now_us = microseconds(now)
        steps = [max(int(interval), 1) for interval in intervals]
        tolerance, horizon = max(int(tolerance), 0), max(int(horizon), 0)
        if self.redis_url:
            self._redis(self.redis_url)
            assert self._reserve_script is not None  # noqa: S101 - registered with the client
            reserved, wait, ahead = self._reserve_script(
                keys=[key], args=[now_us, tolerance, horizon, *steps]
            )
            return Outcome(int(reserved), max(int(wait), 0), max(int(ahead), 0))
        with self._lock:
            tat = max(self._tat.get(key, now_us), now_us)
            first: int | None = None
            last, reserved = now_us, 0
            for interval in steps:
                allow_at = max(tat + interval - max(tolerance, interval), now_us)
                if first is None:
                    first = allow_at
                    if first - now_us >= horizon:
                        return Outcome(0, first - now_us, tat - now_us)
                if allow_at >= first + tolerance and reserved:
                    break
                tat += interval
                last, reserved = allow_at, reserved + 1
            if reserved:
                self._tat[key] = tat
            return Outcome(reserved, last - now_us, tat - now_us)

    def reset(self, key: str) -> None:
        """Forgets a budget's history: it is whole again."""
        with self._lock:
            self._tat.pop(key, None)
        if self.redis_url:
            client, _script = self._redis(self.redis_url)
            client.delete(key)

    def forget_local(self) -> None:
        """Forgets every in-process budget (between tests; Redis is flushed with the cache)."""
        with self._lock:
            self._tat.clear()


_shared: dict[str | None, Gcra] = {}
_shared_lock = threading.Lock()


def shared() -> Gcra:
    """This process's limiter for ``settings.REDIS_URL`` (one Redis client per process)."""
    url = settings.REDIS_URL or None
    limiter = _shared.get(url)
    if limiter is None:
        with _shared_lock:
            limiter = _shared.setdefault(url, Gcra(url))
    return limiter
