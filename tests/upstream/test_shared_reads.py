"""Shared reads: the memory store hands a decoded value to every reader that never
changes it, instead of decoding the same JSON for each (upstream/cache.py)."""

from __future__ import annotations

import asyncio

import orjson

from restloom.config import Settings
from restloom.upstream.cache import SHARED_BYTES, LruMemory, memory_store
from tests.conftest import FULL_KEY
from tests.support import GatewayServer, GraphQLClient

PAGE = {"data": [{"id": f"cnt_{i}", "email": f"p{i}@example.com"} for i in range(50)]}


async def test_a_shared_read_gives_the_same_object_and_a_plain_read_a_copy():
    store = memory_store()
    await store.set_many([("page", PAGE)], ttl=60)
    [first] = await store.get_many(["page"], shared=True)
    [again] = await store.get_many(["page"], shared=True)
    [plain] = await store.get_many(["page"])
    assert first == PAGE and again is first
    assert plain == PAGE and plain is not first


async def test_a_new_value_is_read_at_once_not_the_decoded_old_one():
    store = memory_store()
    await store.set_many([("page", PAGE)], ttl=60)
    await store.get_many(["page"], shared=True)
    await store.set_many([("page", {"data": []})], ttl=60)
    assert await store.get_many(["page"], shared=True) == [{"data": []}]


async def test_an_expired_value_is_not_given_from_its_decoded_copy():
    store = memory_store()
    await store.set_many([("page", PAGE)], ttl=0.05)
    await store.get_many(["page"], shared=True)
    await asyncio.sleep(0.1)
    assert await store.get_many(["page"], shared=True) == [None]


async def test_what_is_kept_decoded_is_bounded():
    backend = LruMemory(64 * 1024 * 1024)
    value = {"text": "x" * 10_000}
    for i in range(SHARED_BYTES // 10_000 * 3):
        key = f"key-{i}"
        await backend.multi_set([(key, value)], ttl=60)
        await backend.multi_get_shared([key])
        assert backend._decoded_bytes <= SHARED_BYTES
    assert backend._decoded_bytes > SHARED_BYTES // 2
    # A value of more than a quarter of the budget is decoded for each read.
    big = {"text": "x" * (SHARED_BYTES // 2)}
    await backend.multi_set([("big", big)], ttl=60)
    [one] = await backend.multi_get_shared(["big"])
    [two] = await backend.multi_get_shared(["big"])
    assert one == two and one is not two


async def test_nothing_the_gateway_reads_changes_a_shared_value(sim, http):
    """Every query kind against a caching gateway, twice: the decoded values the store
    handed out are still exactly what it holds."""
    settings = Settings(upstream_url=sim.url, cache_ttl=60, response_cache=False)
    queries = [
        "{ viewer { id email username } }",
        "{ contacts(first: 30) { totalCount edges { cursor node { id firstName email "
        "createdAt } } pageInfo { hasNextPage endCursor } } }",
        "{ contacts(last: 5) { nodes { id lastName } } }",
        "{ organizations(first: 3) { nodes { id name members(first: 3) "
        "{ edges { role node { id email } } } } } }",
        "{ users(first: 5) { nodes { id email } } }",
        "{ resources(first: 5) { nodes { id } } }",
    ]
    async with GatewayServer(settings) as gateway:
        client = GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})
        for _ in range(2):
            for query in queries:
                reply = await client.send(query)
                assert not reply.errors, (query, reply.errors)
        backend = gateway.app.state.jobs.client.cache.store._backend
        assert isinstance(backend, LruMemory)
        assert backend._decoded, "the second round read pages from the store"
        for key, (entry, value) in backend._decoded.items():
            assert value == orjson.loads(entry.value), key
