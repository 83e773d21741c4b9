"""Seen deliveries: a delivery id (or MOCO signature) is accepted once per window.

With Redis the record is one `SET NX EX` per delivery, so a delivery retried to
another instance is recognised there too. Keys are hashed: what the sender chose
never becomes a Redis key as such.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from typing import Protocol

import redis.asyncio as redis

# The in-process record's bound; past it the oldest entries go first (they are the
# ones closest to leaving the window anyway).
MAX_REMEMBERED = 100_000


class ReplayGuard(Protocol):
    async def first_time(self, key: str, window: float) -> bool:
        """Record `key`; False when it was already recorded within `window` seconds."""
        ...

    async def forget(self, key: str) -> None:
        """Undo `first_time` (the event could not be published: let the retry through)."""
        ...


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:40]


class MemoryReplayGuard:
    def __init__(self, max_entries: int = MAX_REMEMBERED) -> None:
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._max = max_entries

    async def first_time(self, key: str, window: float) -> bool:
        now = time.monotonic()
        digest = _digest(key)
        expires = self._seen.get(digest)
        if expires is not None and expires > now:
            return False
        self._seen[digest] = now + window
        self._seen.move_to_end(digest)
        while len(self._seen) > self._max:
            self._seen.popitem(last=False)
        return True

    async def forget(self, key: str) -> None:
        self._seen.pop(_digest(key), None)


class RedisReplayGuard:
    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self._client = client
        self._prefix = f"{namespace}:wh:seen:"

    async def first_time(self, key: str, window: float) -> bool:
        added = await self._client.set(
            self._prefix + _digest(key), b"1", nx=True, px=max(1, int(window * 1000))
        )
        return bool(added)

    async def forget(self, key: str) -> None:
        await self._client.delete(self._prefix + _digest(key))
