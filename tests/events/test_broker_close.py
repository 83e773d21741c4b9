"""The Redis broker's reader stops when the broker closes, even if its cancel is lost.

A cancel that reaches a blocking XREAD just as its socket timeout fires can come out of
redis-py as its own `TimeoutError`, a `RedisError` the reader retries. A full suite run
once hung for good in a gateway's shutdown, with that reader still issuing XREADs.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.exceptions import TimeoutError as RedisTimeoutError

from restloom.events.broker import Retention
from restloom.events.redisbroker import RedisBroker
from tests.support import within


async def test_close_ends_a_reader_whose_cancel_came_back_as_a_timeout(
    redis_url: str, redis_namespace: str, monkeypatch: Any
) -> None:
    broker = RedisBroker(
        redis_url, f"{redis_namespace}:events:close", Retention(count=100, seconds=0)
    )
    reads = 0
    reading = asyncio.Event()

    async def xread_that_loses_the_cancel(*_args: Any, **_kwargs: Any) -> Any:
        nonlocal reads
        reads += 1
        reading.set()
        try:
            await asyncio.sleep(3600)  # a blocking read
        except asyncio.CancelledError:
            if reads > 1:
                raise  # only the first cancel is lost, so that a failing test can end
            # What redis-py can give when the cancel meets its read timeout.
            raise RedisTimeoutError("Timeout reading from redis") from None
        return None

    monkeypatch.setattr(broker._client, "xread", xread_that_loses_the_cancel)
    await broker.start()
    await asyncio.wait_for(reading.wait(), 5)
    await within(5, broker.close())  # before: the reader read again, and close waited on it
    assert reads == 1  # no read after the close
