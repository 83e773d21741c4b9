"""One upstream read per event and credential on this instance, however many of its
subscriptions want the object.

A thousand open tabs of one user would otherwise read the same contact a thousand
times for one event. Sharing is keyed by the event id and the principal (a hash of
the credential, and the impersonated user): the same credential sees the same answer,
and a read made for an event was made after that event was published.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

# Recent reads kept for subscriptions that reach the event a little later.
MAX_KEPT = 4096


class SharedReads:
    def __init__(self, max_kept: int = MAX_KEPT) -> None:
        self._reads: OrderedDict[tuple[str, ...], asyncio.Future[Any]] = OrderedDict()
        self._max = max_kept

    async def read(self, key: tuple[str, ...], load: Callable[[], Awaitable[Any]]) -> Any:
        future = self._reads.get(key)
        if future is None:
            future = asyncio.ensure_future(load())
            future.add_done_callback(lambda done: self._settled(key, done))
            self._reads[key] = future
            while len(self._reads) > self._max:
                self._reads.popitem(last=False)
        # Shielded: one subscriber leaving must not cancel the read the others wait on.
        return await asyncio.shield(future)

    def _settled(self, key: tuple[str, ...], done: asyncio.Future[Any]) -> None:
        # A failed read is not kept: a subscription that resumes later asks again.
        failed = done.cancelled() or done.exception() is not None
        if failed and self._reads.get(key) is done:
            del self._reads[key]
