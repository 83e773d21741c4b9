"""The cross-request cache store: a bounded LRU in process memory, or aiocache on Redis.

This is the only module that imports aiocache: its unreleased 1.0 drops the
redis-py backend, so it stays pinned `<1` and replaceable. Values are JSON
written with orjson, which round-trips every JSON value exactly (strings,
64-bit integers, floats, nesting), and is stored as bytes so nothing decodes
twice. `clear()` is never called: on a shared Redis it is FLUSHDB, or KEYS.
Keys are complete (`namespace:...`) before they reach a backend.

In memory, aiocache's SimpleMemoryCache keeps everything until it expires, with
no bound (30 windows of 250 items took a gateway to 1.37 GB); `LruMemory`
replaces it with a byte bound and least-recently-used eviction.
"""

from __future__ import annotations

import time
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import orjson
from aiocache import RedisCache
from aiocache.serializers import BaseSerializer
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

# A cache that is slower than this is treated as down for that call: a request
# should lose a cache hit, not its latency budget.
OPERATION_TIMEOUT = 0.5

# What one memory entry costs besides its key and value bytes: the OrderedDict node,
# the entry tuple, the bytes and str headers and the expiry float (measured on
# CPython 3.12: ~218 bytes). Counting it keeps a cache of many small values (version
# tokens) near its bound in real memory, not only in payload bytes.
ENTRY_OVERHEAD = 200


class CacheUnavailable(Exception):
    """The store did not answer; callers read it as a miss and skip the write."""


class OrjsonSerializer(BaseSerializer):
    # None: hand bytes through untouched (aiocache would otherwise decode them as UTF-8).
    DEFAULT_ENCODING = None

    def dumps(self, value: Any) -> bytes:  # type: ignore[override]
        return orjson.dumps(value)

    def loads(self, value: bytes | None) -> Any:  # type: ignore[override]
        return None if value is None else orjson.loads(value)


class Backend(Protocol):
    """The four aiocache calls `CacheStore` uses; `add` raises ValueError on an existing key."""

    async def multi_get(self, keys: list[str]) -> list[Any]: ...

    async def multi_set(self, pairs: list[tuple[str, Any]], ttl: float) -> Any: ...

    async def add(self, key: str, value: Any, ttl: float) -> Any: ...

    async def close(self) -> Any: ...


# JSON bytes of the values a memory store keeps decoded for shared reads (their objects
# take several times as much).
SHARED_BYTES = 1024 * 1024


@dataclass(frozen=True)
class _Entry:
    value: bytes
    expires: float  # time.monotonic()
    size: int  # bytes charged against the bound


def exact_json(value: Any) -> bytes:
    """`value` as JSON, in a bytes object no larger than its length.

    orjson (3.13) hands back its working buffer: at least 4 KiB, and a 5,008-byte output
    held 64,961 bytes. Kept as is, small values made the store ten times larger than the
    byte bound it counts (RSS 85 -> 613 MB over 59,000 distinct queries, cache bound
    64 MiB); a copy of the exact size costs a memcpy.
    """
    return memoryview(orjson.dumps(value)).tobytes()


class LruMemory:
    """JSON values by key in this process, at most `max_bytes` of them, least recently used out.

    A value is charged its serialized size plus its key and `ENTRY_OVERHEAD`. Expired
    entries are dropped when touched or when eviction reaches them; until then they
    count against the bound like any other, so the bound holds either way. A value
    larger than the whole bound is not stored.

    Each read decodes a fresh object, except a *shared* read (`multi_get_shared`), for
    callers that never change what they read: the most recently read values are kept
    decoded (at most `SHARED_BYTES` of their JSON) and the same object is handed out
    again. Decoding a page of 100 records was a tenth of an executed query's CPU.
    """

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 1:
            raise ValueError("max_bytes must be >= 1")
        self.max_bytes = max_bytes
        self.size_bytes = 0
        self.evictions = 0
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        # Decoded values of shared reads: key -> (the entry decoded, its value).
        self._decoded: OrderedDict[str, tuple[_Entry, Any]] = OrderedDict()
        self._decoded_bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    async def multi_get(self, keys: list[str]) -> list[Any]:
        now = time.monotonic()
        return [self._get(key, now) for key in keys]

    async def multi_get_shared(self, keys: list[str]) -> list[Any]:
        """As `multi_get`, but a value may be the same object another read was given:
        the caller must never change it."""
        now = time.monotonic()
        return [self._get_shared(key, now) for key in keys]

    async def multi_set(self, pairs: list[tuple[str, Any]], ttl: float) -> None:
        expires = time.monotonic() + ttl
        for key, value in pairs:
            self._put(key, exact_json(value), expires)

    async def add(self, key: str, value: Any, ttl: float) -> None:
        if self._get(key, time.monotonic()) is not None:
            raise ValueError(f"key {key!r} already exists")
        self._put(key, exact_json(value), time.monotonic() + ttl)

    async def close(self) -> None:
        self._entries.clear()
        self._decoded.clear()
        self._decoded_bytes = 0
        self.size_bytes = 0

    def _get(self, key: str, now: float) -> Any:
        entry = self._current(key, now)
        # A fresh object per read: no caller can change what another one reads.
        return None if entry is None else orjson.loads(entry.value)

    def _get_shared(self, key: str, now: float) -> Any:
        entry = self._current(key, now)
        if entry is None:
            return None
        decoded = self._decoded.get(key)
        if decoded is not None and decoded[0] is entry:
            self._decoded.move_to_end(key)
            return decoded[1]
        value = orjson.loads(entry.value)
        if len(entry.value) <= SHARED_BYTES // 4:
            self._forget_decoded(key)
            self._decoded[key] = (entry, value)
            self._decoded_bytes += len(entry.value)
            while self._decoded_bytes > SHARED_BYTES:
                self._forget_decoded(next(iter(self._decoded)))
        return value

    def _current(self, key: str, now: float) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires <= now:
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return entry

    def _forget_decoded(self, key: str) -> None:
        decoded = self._decoded.pop(key, None)
        if decoded is not None:
            self._decoded_bytes -= len(decoded[0].value)

    def _put(self, key: str, value: bytes, expires: float) -> None:
        size = len(value) + len(key) + ENTRY_OVERHEAD
        if key in self._entries:
            self._drop(key)
        if size > self.max_bytes:
            return
        while self.size_bytes + size > self.max_bytes:
            oldest = next(iter(self._entries))
            self._drop(oldest)
            self.evictions += 1
        self._entries[key] = _Entry(value, expires, size)
        self.size_bytes += size

    def _drop(self, key: str) -> None:
        self.size_bytes -= self._entries.pop(key).size
        self._forget_decoded(key)


class CacheStore:
    """JSON values by key, with a TTL in seconds; every failure is `CacheUnavailable`."""

    def __init__(self, backend: Backend, kind: str) -> None:
        self._backend = backend
        self.kind = kind  # "memory" or "redis", for logs and /readyz

    def stored_bytes(self) -> int | None:
        """Bytes held against the memory bound; None for Redis, which bounds itself."""
        return self._backend.size_bytes if isinstance(self._backend, LruMemory) else None

    async def get_many(self, keys: Sequence[str], *, shared: bool = False) -> list[Any]:
        """The values of `keys` (None where missing). `shared`: the caller never changes
        them, so the memory backend may hand out one decoded object to many reads."""
        if not keys:
            return []
        backend = self._backend
        if shared and isinstance(backend, LruMemory):
            return await backend.multi_get_shared(list(keys))
        return await self._call(backend.multi_get(list(keys)))  # type: ignore[no-any-return]

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


def memory_store(max_bytes: int = 64 * 1024 * 1024) -> CacheStore:
    return CacheStore(LruMemory(max_bytes), "memory")


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
