"""The subscriptions open on this instance, each with its own bounded queue.

A subscriber that does not keep up is not given more memory: when its queue is full
it is marked overflowed and its subscription ends with an error that says the last
event it was given, so the client can resume from there (`after:`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from restloom.events.model import Event


class Subscriber:
    def __init__(self, wants: Callable[[Event], bool], max_queued: int) -> None:
        self.wants = wants
        self.max_queued = max_queued
        self.overflowed = False
        self._queue: deque[Event] = deque()
        self._ready = asyncio.Event()

    def offer(self, event: Event) -> None:
        if self.overflowed or not self.wants(event):
            return
        if len(self._queue) >= self.max_queued:
            # Dropping silently would lose an event: end the subscription instead.
            self.overflowed = True
            self._queue.clear()
        else:
            self._queue.append(event)
        self._ready.set()

    async def next(self) -> Event | None:
        """The next event; None once overflowed."""
        while not self._queue and not self.overflowed:
            self._ready.clear()
            await self._ready.wait()
        if self.overflowed:
            return None
        return self._queue.popleft()

    def __len__(self) -> int:
        return len(self._queue)


class Fanout:
    def __init__(self) -> None:
        self._subscribers: set[Subscriber] = set()

    def add(self, subscriber: Subscriber) -> None:
        self._subscribers.add(subscriber)

    def remove(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    def deliver(self, event: Event) -> None:
        for subscriber in tuple(self._subscribers):
            subscriber.offer(event)

    def __len__(self) -> int:
        return len(self._subscribers)
