"""Where published events go: this process alone, or (redisbroker) every instance.

A broker numbers each event (a Redis Stream id, "<ms>-<seq>", ordered), keeps the
latest ones within the retention (a count and an age), hands new ones to the local
`Fanout`, and answers "what came after id X" for a client that reconnects, or says
that some of it is gone (`EventsGone`).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from restloom.events.fanout import Fanout
from restloom.events.model import Event, format_event_id, parse_event_id


@dataclass(frozen=True)
class Retention:
    count: int  # events kept, at most
    seconds: float  # and none older than this; 0: no age limit


class EventsGone(Exception):
    """Events after the given id are no longer kept (or the id was never ours)."""


class Broker(Protocol):
    fanout: Fanout

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, event: Event) -> Event:
        """Keep and spread `event`; return it with its id."""
        ...

    async def since(self, after: str, limit: int) -> list[Event]:
        """Up to `limit` events after `after`, oldest first. Raises EventsGone."""
        ...


class MemoryBroker:
    """One process: no other instance sees these events."""

    def __init__(self, retention: Retention) -> None:
        self.fanout = Fanout()
        self.retention = retention
        self._events: deque[Event] = deque()
        self._last = (0, 0)
        self._trimmed = (0, 0)  # the newest position dropped by the retention

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def publish(self, event: Event) -> Event:
        now_ms = int(time.time() * 1000)
        position = (now_ms, 0) if now_ms > self._last[0] else (self._last[0], self._last[1] + 1)
        self._last = position
        published = event.with_id(format_event_id(position))
        self._events.append(published)
        self._trim(now_ms)
        self.fanout.deliver(published)
        return published

    async def since(self, after: str, limit: int) -> list[Event]:
        position = parse_event_id(after)
        self._trim(int(time.time() * 1000))
        if position is None or position > self._last:
            raise EventsGone("not an event id of this gateway")
        if position < self._trimmed:
            raise EventsGone("events after this id are no longer kept")
        found: list[Event] = []
        for event in self._events:
            if event.position() > position:
                found.append(event)
                if len(found) >= limit:
                    break
        return found

    def _trim(self, now_ms: int) -> None:
        oldest_ms = now_ms - int(self.retention.seconds * 1000) if self.retention.seconds else 0
        while self._events and (
            len(self._events) > self.retention.count or self._events[0].position()[0] < oldest_ms
        ):
            self._trimmed = self._events.popleft().position()
