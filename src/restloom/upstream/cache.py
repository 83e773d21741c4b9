"""The cross-request cache store: aiocache in process memory or on Redis, behind a few calls.

This is the only module that imports aiocache: its unreleased 1.0 drops the
redis-py backend, so it stays pinned `<1` and replaceable. Values are JSON
written with orjson, which round-trips every JSON value exactly (strings,
64-bit integers, floats, nesting), and is stored as bytes so nothing decodes
twice. `clear()` is never called: on a shared Redis it is FLUSHDB, or KEYS.
Keys are complete (`namespace:...`) before they reach aiocache.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

import orjson
from aiocache import RedisCache, SimpleMemoryCache
from aiocache.base import BaseCache
from aiocache.serializers import BaseSerializer
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

# A cache that is slower than this is treated as down for that call: a request
# should lose a cache hit, not its latency budget.
OPERATION_TIMEOUT = 0.5


class CacheUnavailable(Exception):
    """The store did not answer; callers read it as a miss and skip the write."""


class OrjsonSerializer(BaseSerializer):
    # None: hand bytes through untouched (aiocache would otherwise decode them as UTF-8).
    DEFAULT_ENCODING = None

    def dumps(self, value: Any) -> bytes:  # type: ignore[override]
        return orjson.dumps(value)

    def loads(self, value: bytes | None) -> Any:  # type: ignore[override]
        return None if value is None else orjson.loads(value)


class CacheStore:
    """JSON values by key, with a TTL in seconds; every failure is `CacheUnavailable`."""

    def __init__(self, backend: BaseCache, kind: str) -> None:
        self._backend = backend
        self.kind = kind  # "memory" or "redis", for logs and /readyz

    async def get_many(self, keys: Sequence[str]) -> list[Any]:
        if not keys:
            return []
        return await self._call(self._backend.multi_get(list(keys)))  # type: ignore[no-any-return]

    async def set_many(self, pairs: Sequence[tuple[str, Any]], ttl: float) -> None:
        if pairs:
            # A float TTL makes the Redis backend use milliseconds (PSETEX/PEXPIRE).
            await self._call(self._backend.multi_set(list(pairs), ttl=float(ttl)))

    async def add(self, key: str, value: Any, ttl: float) -> bool:
        """Set only if absent (Redis SET NX); False when the key already existed."""
        try:
            await self._call(self._backend.add(key, value, ttl=float(ttl)))
        except ValueError:
            return False
        return True

    async def close(self) -> None:
        with warnings.catch_warnings():
            # aiocache 0.12 calls redis-py's deprecated close(); harmless, and not ours.
            warnings.simplefilter("ignore", DeprecationWarning)
            await self._backend.close()

    async def _call(self, operation: Any) -> Any:
        try:
            return await operation
        except ValueError:
            raise  # `add` on an existing key: an answer, not a failure
        except (RedisError, OSError, TimeoutError) as exc:
            # redis-py's ConnectionError is a RedisError, not an OSError.
            raise CacheUnavailable(f"{self.kind} cache: {type(exc).__name__}: {exc}") from exc


def no_retries() -> Retry:
    """redis-py retries a failed connection for ~3 s by default; a cache miss is cheaper."""
    return Retry(NoBackoff(), 0)


def memory_store() -> CacheStore:
    backend = SimpleMemoryCache(serializer=OrjsonSerializer(), timeout=OPERATION_TIMEOUT)
    return CacheStore(backend, "memory")


def redis_store(url: str) -> CacheStore:
    """A store on the Redis at `url` (redis:// or rediss://, with user, password and db)."""
    parts = urlsplit(url)
    pool_kwargs: dict[str, Any] = {"socket_timeout": OPERATION_TIMEOUT, "retry": no_retries()}
    if parts.username:
        pool_kwargs["username"] = unquote(parts.username)
    backend = RedisCache(
        serializer=OrjsonSerializer(),
        endpoint=parts.hostname or "127.0.0.1",
        port=parts.port or 6379,
        db=int(parts.path.strip("/") or 0),
        password=unquote(parts.password) if parts.password else None,
        ssl=parts.scheme == "rediss",
        create_connection_timeout=OPERATION_TIMEOUT,
        connection_pool_kwargs=pool_kwargs,
        timeout=OPERATION_TIMEOUT,
    )
    return CacheStore(backend, "redis")
