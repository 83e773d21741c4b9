"""A finished request is freed by reference counting, not left to the cycle collector.

A request's objects (its context, loaders, every page and record it read, the
execution's state) used to sit in reference cycles: graphql-core's resolver helpers
are bound methods of the execution context, and a page reader kept a closure over
itself. Each cycle held the whole request until a collection ran, so the collector
walked every request in flight (15-20% of an executed query's CPU, README "Serving").
`restloom serve` now runs the collector's young pass only every 10,000 new objects
(serving.py): cheap only while requests leave nothing for it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp
import pytest

from restloom.config import Settings
from restloom.sim.server import SimServer
from tests.conftest import FULL_KEY
from tests.support import GatewayServer, GraphQLClient

QUERIES = [
    "{ contacts(first: 30) { edges { cursor node { id firstName email } } } }",
    "{ organizations(first: 3) { nodes { name members(first: 2) { nodes { email } } } } }",
    "{ viewer { email } }",
]


@contextmanager
def cyclic_garbage() -> Iterator[list[str]]:
    """The types (module.name) of what only the cycle collector could free, meanwhile."""
    found: list[str] = []
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield found
        gc.collect()
        found.extend(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


async def test_executed_queries_leave_no_restloom_object_in_a_cycle(
    sim: SimServer, http: aiohttp.ClientSession
) -> None:
    settings = Settings(upstream_url=sim.url, cache_ttl=60, response_cache=False)
    async with GatewayServer(settings) as gateway:
        client = GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})
        for query in QUERIES:  # once from the upstream, so the measured runs read the cache
            assert not (await client.send(query)).errors
        with cyclic_garbage() as garbage:
            for query in QUERIES * 3:
                assert not (await client.send(query)).errors
    ours = sorted(
        {name for name in garbage if name.startswith(("restloom.", "graphql.execution"))}
        - {name for name in garbage if name.startswith("restloom.sim.")}
    )
    assert ours == []


COLD_QUERIES = {
    "nested": "{ organizations(first: 25) { edges { node { id name members(first: 10) "
    "{ edges { role node { id email } } } } } } }",
    "contacts": "{ contacts(first: 100) { edges { cursor node { id firstName email } } } }",
    "search": '{ contacts(first: 5, search: "a") { nodes { id } pageInfo { hasNextPage } } }',
}


@pytest.mark.parametrize("query", COLD_QUERIES.values(), ids=COLD_QUERIES.keys())
async def test_cold_queries_leave_nothing_for_the_collector(
    client: GraphQLClient, query: str
) -> None:
    """No cache: every page from the upstream, the window and user batches at work. Not
    one object of the whole process (gateway, sim, client) is left in a cycle."""
    assert not (await client.send(query)).errors  # plans and pools settle first
    with cyclic_garbage() as garbage:
        for _ in range(3):
            assert not (await client.send(query)).errors
    assert garbage == []
