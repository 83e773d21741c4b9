"""What the cache may hold: a byte bound in memory, and no key at all for a credential the
upstream refused."""

import tracemalloc
import uuid

import pytest
import redis.asyncio as redis

from restloom.config import Settings
from restloom.upstream.cache import ENTRY_OVERHEAD, LruMemory, memory_store
from tests.conftest import FULL_KEY
from tests.redis_support import redis_cache_settings
from tests.support import GatewayServer, GraphQLClient

BOUND = 64 * 1024
VALUE = {"text": "x" * 1000}  # orjson: 1,013 bytes
ENTRY = len(b'{"text":""}') + 1000 + len("key-0000") + ENTRY_OVERHEAD


async def test_the_store_never_holds_more_than_its_bound():
    store = memory_store(BOUND)
    written = 0
    for i in range(1000):  # about 20 times the bound
        await store.set_many([(f"key-{i:04d}", VALUE)], ttl=60)
        written += ENTRY
        stored = store.stored_bytes()
        assert stored is not None and stored <= BOUND
    assert written > 15 * BOUND
    kept = BOUND // ENTRY
    assert stored == kept * ENTRY
    # The most recent entries are all there, the older ones are gone.
    recent = await store.get_many([f"key-{i:04d}" for i in range(1000 - kept, 1000)])
    assert recent == [VALUE] * kept
    assert await store.get_many(["key-0000", f"key-{999 - kept:04d}"]) == [None, None]


async def test_what_the_store_counts_is_what_it_holds_in_memory():
    """Small values (version tokens, short pages) once held 4 KiB each, counted as ~250 B."""
    store = memory_store(BOUND)
    small = {"token": "0123456789abcdef"}
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for i in range(2000):  # about 7 times the bound
            await store.set_many([(f"key-{i:04d}", small)], ttl=60)
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    stored = store.stored_bytes()
    assert stored is not None and stored <= BOUND
    # Everything allocated while writing (entries, keys, values, the dict) is within the
    # bound's order: ENTRY_OVERHEAD is an estimate, not an exact count.
    assert held - before < 2 * BOUND, (held - before, stored)


async def test_eviction_is_by_last_use_not_by_age():
    memory = LruMemory(10 * ENTRY)
    for i in range(10):
        await memory.multi_set([(f"key-{i:04d}", VALUE)], ttl=60)
    await memory.multi_get(["key-0000"])  # read: now the most recently used
    await memory.multi_set([("key-0010", VALUE)], ttl=60)
    assert await memory.multi_get(["key-0000", "key-0001"]) == [VALUE, None]
    assert memory.evictions == 1 and len(memory) == 10


async def test_a_value_larger_than_the_bound_is_not_stored_and_evicts_nothing():
    memory = LruMemory(4 * ENTRY)
    await memory.multi_set([("key-0000", VALUE)], ttl=60)
    await memory.multi_set([("huge", {"text": "y" * (5 * ENTRY)})], ttl=60)
    assert await memory.multi_get(["huge", "key-0000"]) == [None, VALUE]
    assert memory.size_bytes == ENTRY


async def test_replacing_and_expiring_entries_give_their_bytes_back():
    memory = LruMemory(BOUND)
    await memory.multi_set([("key-0000", VALUE)], ttl=60)
    await memory.multi_set([("key-0000", VALUE)], ttl=60)
    assert memory.size_bytes == ENTRY
    await memory.multi_set([("key-0001", VALUE)], ttl=0)
    assert await memory.multi_get(["key-0001"]) == [None]
    assert memory.size_bytes == ENTRY


async def test_readers_get_their_own_copy():
    memory = LruMemory(BOUND)
    await memory.multi_set([("key-0000", {"list": [1]})], ttl=60)
    [first] = await memory.multi_get(["key-0000"])
    first["list"].append(2)
    assert await memory.multi_get(["key-0000"]) == [{"list": [1]}]


@pytest.mark.parametrize(("max_bytes", "second_read_requests"), [(64 * 1024 * 1024, 0), (1, 1)])
async def test_the_gateway_uses_cache_max_bytes(sim, http, stats, max_bytes, second_read_requests):
    settings = Settings(upstream_url=sim.url, cache_ttl=60, cache_max_bytes=max_bytes)
    async with GatewayServer(settings) as gateway:
        client = GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})
        query = "{ contacts(first: 20) { totalCount nodes { id } } }"
        first = await client.data(query)
        await stats.reset()
        # With a 1-byte bound nothing fits: every read goes to the upstream.
        assert await client.data(query) == first
        assert await stats.requests() == second_read_requests


JUNK_QUERY = "{ viewer { email } contacts(first: 5) { totalCount } users(first: 2) { totalCount } }"


async def count_keys(url: str, namespace: str) -> int:
    client = redis.Redis.from_url(url)
    try:
        return len([key async for key in client.scan_iter(match=f"{namespace}:*", count=500)])
    finally:
        await client.aclose()


async def test_junk_keys_write_nothing_to_redis(sim, http, stats, redis_url, redis_namespace):
    settings = redis_cache_settings(sim.url, redis_url, redis_namespace)
    async with GatewayServer(settings) as gateway:
        client = GraphQLClient(http, gateway.url)
        await stats.reset()
        for _ in range(200):
            junk = {"X-API-Key": f"junk-{uuid.uuid4().hex}"}
            reply = await client.send(JUNK_QUERY, headers=junk)
            assert set(reply.codes()) == {"UNAUTHENTICATED"}, reply.body
        assert await stats.requests() >= 200  # each was refused by the upstream itself
        assert await count_keys(redis_url, redis_namespace) == 0
        # An accepted key does write: the count above would have seen them.
        await client.data(JUNK_QUERY, headers={"X-API-Key": FULL_KEY})
        assert await count_keys(redis_url, redis_namespace) > 0
