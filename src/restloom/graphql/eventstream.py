"""One subscription's stream: missed events (after:), then live ones, each checked
against what the subscriber may read and what it was already told.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from datetime import datetime

from restloom.events.broker import EventsGone
from restloom.events.fanout import Subscriber
from restloom.events.hub import EventHub
from restloom.events.model import Event, parse_event_id
from restloom.graphql.errors import GatewayError
from restloom.graphql.events import NODE_LOADERS, ChangeEvent, EventFilter
from restloom.graphql.loaders import Loaders
from restloom.graphql.relay import Node
from restloom.upstream.api import ListQuery, fetch_page
from restloom.upstream.client import Caller, Exchange, UpstreamClient
from restloom.upstream.errors import FailureKind, UpstreamError

BACKLOG_PAGE = 100
MAX_REMEMBERED_OBJECTS = 10_000  # per subscription, for the ordering check
LIST_ACCESS_SECONDS = 60.0  # how long a "may list this collection" answer is reused
# The upstream says "you may not read this" (or it is gone): not delivered.
_REFUSED = {401, 403, 404, 410}


class EventStream:
    def __init__(
        self, hub: EventHub, client: UpstreamClient, caller: Caller, want: EventFilter
    ) -> None:
        self.hub = hub
        self.client = client
        self.caller = caller
        self.want = want
        self.last_id: str | None = None  # the last event handled (delivered or withheld)
        self._told: OrderedDict[tuple[str, str], datetime] = OrderedDict()
        self._may_list: dict[str, tuple[bool, float]] = {}
        # Who reads, for sharing one read per event between subscriptions (sharedreads).
        credential = client.credential_for(caller)
        self._principal = (
            credential.principal if credential is not None else "",
            caller.impersonate_user_id or "",
        )

    async def run(self, after: str | None) -> AsyncIterator[ChangeEvent]:
        subscriber = Subscriber(self.want.matches, self.hub.limits.max_queued)
        # Listening before reading the backlog: nothing published meanwhile falls between.
        self.hub.broker.fanout.add(subscriber)
        try:
            if after is not None:
                self.last_id = after
                async for change in self._backlog(after):
                    yield change
            while True:
                event = await subscriber.next()
                if event is None:
                    raise GatewayError(
                        "too many events waiting for this subscription; resubscribe with "
                        "`after` set to `resumeAfter`",
                        "SLOW_CONSUMER",
                        resumeAfter=self.last_id,
                    )
                if self.last_id is not None and event.position() <= _position(self.last_id):
                    continue  # already handled from the backlog
                change = await self._prepare(event)
                if change is not None:
                    yield change
        finally:
            self.hub.broker.fanout.remove(subscriber)

    async def _backlog(self, after: str) -> AsyncIterator[ChangeEvent]:
        cursor = after
        while True:
            try:
                page = await self.hub.broker.since(cursor, BACKLOG_PAGE)
            except EventsGone as exc:
                raise GatewayError(
                    f"cannot resume: {exc}; refetch what you show, then subscribe without `after`",
                    "EVENTS_GONE",
                ) from None
            for event in page:
                cursor = event.id
                if not self.want.matches(event):
                    self.last_id = event.id
                    continue
                change = await self._prepare(event)
                if change is not None:
                    yield change
            if len(page) < BACKLOG_PAGE:
                return

    async def _prepare(self, event: Event) -> ChangeEvent | None:
        """The event as this subscriber may see it, or None when it must not be told."""
        if event.collection not in NODE_LOADERS or event.object_id is None:
            # Nothing restloom can read to check this subscriber's access with: withheld.
            self.last_id = event.id
            return None
        exchange = self.client.exchange(self.caller)
        loaders = Loaders(exchange)
        key = (event.collection, event.object_id)
        told = self._told.get(key)
        if told is not None and event.updated_at is not None and event.updated_at < told:
            self.last_id = event.id  # older than what it was told: never regress
            return None
        try:
            node = await self._node(event, loaders)
        except UpstreamError as exc:
            if exc.status in _REFUSED or exc.kind == FailureKind.NO_CREDENTIAL:
                self.last_id = event.id
                return None
            raise GatewayError(
                "could not check this event against the upstream; resubscribe with `after` "
                "set to `resumeAfter`",
                "UPSTREAM_UNAVAILABLE",
                resumeAfter=self.last_id,
            ) from None
        if node is None and not await self._may_see_gone(event, exchange):
            self.last_id = event.id
            return None
        self._remember(key, event, node)
        self.last_id = event.id
        return ChangeEvent.build(event, node, loaders)

    async def _node(self, event: Event, loaders: Loaders) -> Node | None:
        if event.action == "delete" or event.collection is None or event.object_id is None:
            return None
        _, convert = NODE_LOADERS[event.collection]
        collection, object_id = event.collection, event.object_id
        record = await self.hub.reads.read(
            (event.id, *self._principal),
            lambda: loaders.objects(collection).load(object_id),
        )
        return convert(record)

    async def _may_see_gone(self, event: Event, exchange: Exchange) -> bool:
        """A deleted object cannot be read: told if it was told of it, or may list its kind."""
        key = (event.collection or "", event.object_id or "")
        if key in self._told:
            return True
        collection = event.collection or ""
        cached = self._may_list.get(collection)
        now = time.monotonic()
        if cached is not None and now - cached[1] < LIST_ACCESS_SECONDS:
            return cached[0]
        try:
            await fetch_page(exchange, ListQuery(collection), 1, 1)
            allowed = True
        except UpstreamError as exc:
            if exc.status not in _REFUSED:
                raise
            allowed = False
        self._may_list[collection] = (allowed, now)
        return allowed

    def _remember(self, key: tuple[str, str], event: Event, node: Node | None) -> None:
        seen = [t for t in (event.updated_at, getattr(node, "updated_at", None)) if t is not None]
        if not seen:
            return
        newest = max(seen)
        told = self._told.get(key)
        self._told[key] = newest if told is None else max(told, newest)
        self._told.move_to_end(key)
        while len(self._told) > MAX_REMEMBERED_OBJECTS:
            self._told.popitem(last=False)


def _position(event_id: str) -> tuple[int, int]:
    parsed = parse_event_id(event_id)
    return parsed if parsed is not None else (0, 0)
