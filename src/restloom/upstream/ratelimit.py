"""The upstream's rate budget, spent evenly: each call waits for its turn instead of a 429.

A budget of N requests per S seconds becomes one request every S/N seconds
per upstream credential (a GCRA with no burst). Even spacing is what keeps a
sliding-window limiter like the upstream's happy: a burst followed by spacing
is not. Each caller reserves the next free slot and sleeps until it; a slot
further away than the request's deadline is not taken, and the caller fails
with RATE_LIMITED instead.

With Redis the slots live in Redis (one key per upstream and credential,
updated by a Lua script using Redis' own clock), so every gateway instance
draws from the same budget; without it, from a per-process table.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Protocol

import redis.asyncio as redis
from redis.exceptions import RedisError

from restloom.upstream.profile import RateLimitSpec

log = logging.getLogger("restloom.ratelimit")

# A request sent on its slot can reach the upstream late (event-loop scheduling on a
# busy host, the network), and the upstream counts arrivals: if one of N requests
# lands later than the slack N spaced slots leave, N + 1 arrivals fit in one window.
# The slots are widened so that the slack over a window is at least this share of
# the window, and at least ARRIVAL_JITTER seconds.
SAFETY = 0.05
ARRIVAL_JITTER = 0.25

# The longest a 429 may hold a credential back (the `max_retry_after` default). The
# client already caps what it passes with the setting; this bounds it here as well,
# so that no caller of `hold_off` can park a credential for a day.
MAX_HOLD_OFF = 60.0
# What a 429 costs when the given time is not a usable number.
DEFAULT_HOLD_OFF = 1.0


def hold_off_seconds(seconds: float, cap: float = MAX_HOLD_OFF) -> float:
    """`seconds` as a 429 penalty: finite, non-negative, at most `cap`."""
    if not math.isfinite(seconds) or seconds < 0:
        return min(DEFAULT_HOLD_OFF, cap)
    return min(seconds, cap)


@dataclass(frozen=True)
class Turn:
    granted: bool  # False: the slot was further away than the caller could wait; none taken
    wait: float  # seconds until the slot


class RateBudget(Protocol):
    async def reserve(self, key: str, max_wait: float) -> Turn:
        """The next slot on `key`, taken only if it comes within `max_wait` seconds."""
        ...

    async def hold_off(self, key: str, seconds: float) -> None:
        """The upstream said 429: nobody on `key` goes for `seconds`."""
        ...

    async def close(self) -> None: ...


def interval_of(spec: RateLimitSpec) -> float:
    slack = max(SAFETY * spec.per_seconds, ARRIVAL_JITTER)
    return (spec.per_seconds + slack) / spec.requests


@dataclass
class MemoryBudget:
    """Slots per key in this process (one gateway instance)."""

    interval: float
    max_hold_off: float = MAX_HOLD_OFF
    # key -> the earliest time (time.monotonic) the next call on that key may go.
    _next: dict[str, float] = field(default_factory=dict)

    async def reserve(self, key: str, max_wait: float) -> Turn:
        now = time.monotonic()
        start = max(now, self._next.get(key, now))
        wait = start - now
        if wait > max_wait:
            return Turn(False, wait)
        self._next[key] = start + self.interval
        if len(self._next) > 10_000:
            self._forget_idle(now)
        return Turn(True, wait)

    async def hold_off(self, key: str, seconds: float) -> None:
        seconds = hold_off_seconds(seconds, self.max_hold_off)
        now = time.monotonic()
        self._next[key] = max(self._next.get(key, now), now + seconds)

    async def close(self) -> None:
        return None

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, t in self._next.items() if t < now]:
            del self._next[key]


# KEYS[1]: the slot key. ARGV[1]: interval ms, ARGV[2]: max wait ms.
# Returns {1, wait_ms} when a slot was reserved, {0, wait_ms} when it is too far away.
# Numbers go back as strings: Redis would truncate a Lua float to an integer.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local start = tonumber(redis.call('GET', KEYS[1]) or '0')
if start < now then start = now end
local wait = start - now
if wait > tonumber(ARGV[2]) then return {0, tostring(wait)} end
local after = start + tonumber(ARGV[1])
redis.call('SET', KEYS[1], tostring(after), 'PX', math.ceil(after - now) + 1000)
return {1, tostring(wait)}
"""

# KEYS[1]: the slot key. ARGV[1]: hold-off ms.
_HOLD_OFF = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local after = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if after > current then
  redis.call('SET', KEYS[1], tostring(after), 'PX', math.ceil(after - now) + 1000)
end
return 1
"""


class RedisBudget:
    """Slots shared by every instance through Redis; per process while Redis is down."""

    def __init__(
        self,
        client: redis.Redis,
        interval: float,
        namespace: str,
        max_hold_off: float = MAX_HOLD_OFF,
    ) -> None:
        self._client = client
        self._interval = interval
        self._max_hold_off = max_hold_off
        self._namespace = namespace
        self._reserve = client.register_script(_RESERVE)
        self._hold_off = client.register_script(_HOLD_OFF)
        # Availability over strictness: without Redis each instance keeps to the whole
        # budget on its own, and a 429 that this lets through is still waited out.
        self._fallback = MemoryBudget(interval, max_hold_off)
        self._last_warning = 0.0

    def _key(self, key: str) -> str:
        return f"{self._namespace}:budget:{key}"

    async def reserve(self, key: str, max_wait: float) -> Turn:
        try:
            reserved, wait_ms = await self._reserve(
                keys=[self._key(key)], args=[self._interval * 1000, max_wait * 1000]
            )
        except (RedisError, OSError) as exc:
            self._warn(exc)
            return await self._fallback.reserve(key, max_wait)
        return Turn(bool(int(reserved)), float(wait_ms) / 1000)

    async def hold_off(self, key: str, seconds: float) -> None:
        seconds = hold_off_seconds(seconds, self._max_hold_off)
        await self._fallback.hold_off(key, seconds)
        try:
            await self._hold_off(keys=[self._key(key)], args=[seconds * 1000])
        except (RedisError, OSError) as exc:
            self._warn(exc)

    async def close(self) -> None:
        return None  # the Redis client belongs to whoever made it

    def _warn(self, error: Exception) -> None:
        now = time.monotonic()
        if now - self._last_warning > 60:
            self._last_warning = now
            log.warning("rate budget: Redis unavailable, keeping to it per process: %s", error)


async def wait_turn(budget: RateBudget, key: str, max_wait: float) -> Turn:
    """Reserve a slot and sleep until it comes; an ungranted turn is not waited for."""
    turn = await budget.reserve(key, max(0.0, max_wait))
    if turn.granted and turn.wait > 0:
        await asyncio.sleep(turn.wait)
    return turn
