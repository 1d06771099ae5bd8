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

_SCRIPT = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - burst
if allow_at > now then return tostring(allow_at - now) end
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil((new_tat - now + 1) * 1000))
return '0'
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
    interval = max(cost, 1) / max(rate, 0.001)
    burst = max(BURST_SECONDS, interval)
    now = time.time()
    if settings.REDIS_URL:
        script = _redis(settings.REDIS_URL)
        wait = float(script(keys=[f"ratelimit:{key}"], args=[now, interval, burst]))
        return max(wait, 0.0)
    with _local_lock:
        tat = max(_local_tat.get(key, now), now)
        new_tat = tat + interval
        allow_at = new_tat - burst
        if allow_at > now:
            return allow_at - now
        _local_tat[key] = new_tat
        return 0.0


def reset(key: str) -> None:
    """Forgets a sender's history (tests, and a changed send rate)."""
    with _local_lock:
        _local_tat.pop(key, None)
    if settings.REDIS_URL:
        redis.Redis.from_url(settings.REDIS_URL).delete(f"ratelimit:{key}")
