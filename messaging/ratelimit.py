"""Per-sender send rate, shared by every worker: the generic cell rate algorithm (GCRA).

Each sender has a "theoretical arrival time" (TAT). Sending ``cost`` segments at ``rate``
segments per second moves the TAT ``cost / rate`` seconds on; a send is allowed when the new
TAT is at most one second of burst ahead of now. On Redis (``REDIS_URL``) one Lua script does
this atomically for all workers; without it, a lock guards the same arithmetic in this
process (the embedded development setup runs one sending worker).
"""

from __future__ import annotations

import threading
import time

import redis
from django.conf import settings
from redis.commands.core import Script

BURST_SECONDS = 1.0

# Takes as many of ARGV[4..] (each a send's interval) as fit now, in order; returns how many it
# took and, when it stopped early, the seconds until the next one would fit.
_SCRIPT = """
local now = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local taken = 0
local wait = 0
for i = 3, #ARGV do
  local interval = tonumber(ARGV[i])
  local new_tat = tat + interval
  local allow_at = new_tat - math.max(burst, interval)
  if allow_at > now then
    wait = allow_at - now
    break
  end
  tat = new_tat
  taken = taken + 1
end
if taken > 0 then
  redis.call('SET', KEYS[1], tostring(tat), 'PX', math.ceil((tat - now + 1) * 1000))
end
return {taken, tostring(wait)}
"""

_local_lock = threading.Lock()
_local_tat: dict[str, float] = {}
_redis_script: Script | None = None


def _redis(url: str) -> Script:
    global _redis_script
    if _redis_script is None:
        client = redis.Redis.from_url(url, socket_timeout=2)
        _redis_script = client.register_script(_SCRIPT)
    return _redis_script


def take(key: str, *, rate: float, cost: int = 1) -> float:
    """Takes ``cost`` segments from ``key``'s budget: 0 when allowed now, else the seconds to
    wait before trying again (nothing is taken then)."""
    taken, wait = take_many(key, rate=rate, costs=[cost])
    return 0.0 if taken else wait


def take_many(key: str, *, rate: float, costs: list[int]) -> tuple[int, float]:
    """Takes slots for a batch of sends (``costs``: each one's segments), in order, as many as
    the budget allows now, in one round trip: how many were taken, and the seconds until the
    next would be allowed (0 when all were)."""
    intervals = [max(cost, 1) / max(rate, 0.001) for cost in costs]
    now = time.time()
    if settings.REDIS_URL:
        script = _redis(settings.REDIS_URL)
        taken, wait = script(keys=[f"ratelimit:{key}"], args=[now, BURST_SECONDS, *intervals])
        return int(taken), max(float(wait), 0.0)
    with _local_lock:
        tat = max(_local_tat.get(key, now), now)
        taken = 0
        for interval in intervals:
            allow_at = tat + interval - max(BURST_SECONDS, interval)
            if allow_at > now:
                _local_tat[key] = tat
                return taken, allow_at - now
            tat += interval
            taken += 1
        _local_tat[key] = tat
        return taken, 0.0


def reset(key: str) -> None:
    """Forgets a sender's history (tests, and a changed send rate)."""
    with _local_lock:
        _local_tat.pop(key, None)
    if settings.REDIS_URL:
        redis.Redis.from_url(settings.REDIS_URL).delete(f"ratelimit:{key}")
