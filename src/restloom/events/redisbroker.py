"""Events shared by every instance through one Redis Stream.

Publishing is one script: XADD, then trim to the retention (count and age), noting
the newest id trimmed, so "is anything after id X gone?" has an exact answer (Redis
7's `max-deleted-entry-id` does not count trimming). Each instance runs one reader
(XREAD BLOCK from the last id it saw) that hands new entries to its own subscribers;
a receiving instance does not deliver directly, so every instance delivers each event
once, in stream order.
"""

from __future__ import annotations

import asyncio
import logging
import time

import redis.asyncio as redis
from redis.exceptions import RedisError

from restloom.events.broker import EventsGone, Retention
from restloom.events.fanout import Fanout
from restloom.events.model import Event, parse_event_id

log = logging.getLogger("restloom.events")

BLOCK_MS = 5000
READ_COUNT = 500
RETRY_SECONDS = 1.0

# KEYS: stream, trimmed marker. ARGV: event JSON, max count, max age in ms (0: none).
_PUBLISH = """
local id = redis.call('XADD', KEYS[1], '*', 'e', ARGV[1])
local cut = nil
local excess = redis.call('XLEN', KEYS[1]) - tonumber(ARGV[2])
if excess > 0 then
  local gone = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', excess)
  cut = gone[#gone][1]
end
local age = tonumber(ARGV[3])
if age > 0 then
  local t = redis.call('TIME')
  local oldest = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - age
  local old = redis.call('XREVRANGE', KEYS[1], '(' .. oldest .. '-0', '-', 'COUNT', 1)
  if #old > 0 and old[1][1] ~= id then
    local a = old[1][1]
    if cut == nil then
      cut = a
    else
      local am, as = string.match(a, '(%d+)-(%d+)')
      local cm, cs = string.match(cut, '(%d+)-(%d+)')
      if tonumber(am) > tonumber(cm) or (am == cm and tonumber(as) > tonumber(cs)) then
        cut = a
      end
    end
  end
end
if cut ~= nil then
  local ms, seq = string.match(cut, '(%d+)-(%d+)')
  redis.call('XTRIM', KEYS[1], 'MINID', ms .. '-' .. (tonumber(seq) + 1))
  redis.call('SET', KEYS[2], cut)
end
return id
"""


class RedisBroker:
    def __init__(self, url: str, stream: str, retention: Retention) -> None:
        self.fanout = Fanout()
        self.retention = retention
        self.stream = stream
        self.marker = f"{stream}:trimmed"
        # Its own connections: the reader blocks for seconds, longer than the cache's
        # operation timeout allows.
        self._client = redis.Redis.from_url(
            url, socket_timeout=BLOCK_MS / 1000 + 5, socket_connect_timeout=2.0
        )
        self._publish = self._client.register_script(_PUBLISH)
        self._reader: asyncio.Task[None] | None = None
        self._closing = False
        self._last_warning = 0.0

    async def start(self) -> None:
        self._reader = asyncio.create_task(self._read_forever())

    async def close(self) -> None:
        # The flag as well as the cancel: a cancel that lands as a blocking read times out
        # can come back from redis-py as its TimeoutError, which the reader would retry.
        # Nor is the reader awaited outright: a close waiting on a reader that lost its
        # cancel waited for good (a gateway's shutdown hung so, its reader still reading).
        self._closing = True
        reader = self._reader
        if reader is not None:
            reader.cancel()
            await asyncio.wait({reader}, timeout=BLOCK_MS / 1000 + 1)
        # Still reading (its cancel lost, redis-py retrying): closing its connection ends
        # the read, and the flag the loop.
        await self._client.aclose()

    async def publish(self, event: Event) -> Event:
        age_ms = int(self.retention.seconds * 1000)
        event_id = await self._publish(
            keys=[self.stream, self.marker], args=[event.to_json(), self.retention.count, age_ms]
        )
        return event.with_id(_text(event_id))

    async def since(self, after: str, limit: int) -> list[Event]:
        position = parse_event_id(after)
        if position is None:
            raise EventsGone("not an event id of this gateway")
        async with self._client.pipeline(transaction=False) as pipe:
            # The range first, then the marker: a trim in between can only make the
            # answer "gone" when it need not be, never hide a loss.
            pipe.xrange(self.stream, f"({after}", "+", count=limit)
            pipe.get(self.marker)
            pipe.xrevrange(self.stream, "+", "-", count=1)
            entries, trimmed, newest = await pipe.execute()
        newest_position = parse_event_id(_text(newest[0][0])) if newest else None
        if newest_position is None or position > newest_position:
            raise EventsGone("not an event id of this gateway")
        trimmed_position = parse_event_id(_text(trimmed)) if trimmed else None
        if trimmed_position is not None and position < trimmed_position:
            raise EventsGone("events after this id are no longer kept")
        return [e for e in (self._decode(i, f) for i, f in entries) if e is not None]

    async def _read_forever(self) -> None:
        last = await self._newest_id()
        while not self._closing:
            try:
                answer = await self._client.xread(
                    {self.stream: last}, count=READ_COUNT, block=BLOCK_MS
                )
            except (RedisError, OSError) as exc:
                if self._closing:
                    return
                self._warn(exc)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            for _stream, entries in answer or ():
                for entry_id, fields in entries:
                    last = _text(entry_id)
                    event = self._decode(entry_id, fields)
                    if event is not None:
                        self.fanout.deliver(event)

    async def _newest_id(self) -> str:
        while True:
            try:
                newest = await self._client.xrevrange(self.stream, "+", "-", count=1)
                return _text(newest[0][0]) if newest else "0-0"
            except (RedisError, OSError) as exc:
                if self._closing:
                    return "0-0"  # unused: the reader's loop stops before its first read
                self._warn(exc)
                await asyncio.sleep(RETRY_SECONDS)

    def _decode(self, entry_id: bytes | str, fields: dict[bytes, bytes]) -> Event | None:
        try:
            return Event.from_json(fields[b"e"], _text(entry_id))
        except (KeyError, ValueError, TypeError):
            log.warning("events: skipped an unreadable stream entry %s", _text(entry_id))
            return None

    def _warn(self, error: Exception) -> None:
        now = time.monotonic()
        if now - self._last_warning > 60:
            self._last_warning = now
            log.warning("events: Redis unavailable, retrying: %s", type(error).__name__)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
