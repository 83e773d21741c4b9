"""Answered requests leave no reference cycles behind.

`restloom serve` runs the collector's young pass rarely (serving.py's
YOUNG_COLLECTION_THRESHOLD): that is only cheap while a request's objects die with it,
by reference count. A cycle (say, an object holding the batch that holds it) would keep
every request's objects until a pass, and make that pass long.
"""

from __future__ import annotations

import gc

import pytest

from tests.support import GraphQLClient

QUERIES = {
    "nested": "{ organizations(first: 25) { edges { node { id name members(first: 10) "
    "{ edges { role node { id email } } } } } } }",
    "contacts": "{ contacts(first: 100) { edges { cursor node { id firstName email } } } }",
    "search": '{ contacts(first: 5, search: "a") { nodes { id } pageInfo { hasNextPage } } }',
}


@pytest.mark.parametrize("query", QUERIES.values(), ids=QUERIES.keys())
async def test_answered_queries_leave_no_cycles(client: GraphQLClient, query: str) -> None:
    await client.data(query)  # caches, plans and pools settle first
    gc.collect()
    gc.disable()
    try:
        for _ in range(3):
            await client.data(query)
        unreachable = gc.collect()
    finally:
        gc.enable()
    assert unreachable == 0
