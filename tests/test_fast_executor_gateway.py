"""restloom's own schema, over the sim: the planned execution answers as graphql-core's.

Two gateways on one sim, identical but for the execution context (restloom's, and
strawberry's plain graphql-core one); every query goes to both and the whole
answers (data, errors with their paths, locations and extensions) must be equal.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

import restloom.graphql.schema as schema_module
from restloom.config import Settings
from restloom.graphql.execution import FastExecutionContext
from restloom.sim.server import SimServer
from tests.conformance.test_styles import READS
from tests.conftest import FULL_KEY, TEST_DATASET
from tests.support import GatewayServer, GraphQLClient

QUERIES = [
    *READS,
    "{ organizations(first: 25) { edges { node { id name members(first: 10) "
    "{ edges { role node { id email __typename } } nodes { username } } } } } }",
    "{ organizations(first: 5) { nodes { members(first: 3) { edges { cursor role } } } } }",
    "{ contacts(first: 30) { edges { cursor node { id ...on Node { id } "
    "... C } } pageInfo { endCursor } } } fragment C on Contact { email customProperties }",
    "query($no: Boolean = false) { contacts(first: 5) { nodes { email @include(if: $no) "
    "e: email @skip(if: $no) createdAt } } }",
    '{ node(id: "nope") { id } nodes(ids: ["x"]) { __typename } }',
    '{ contact(id: "not-an-id") { email } contacts(first: 2) { totalCount } }',
    "{ contacts(first: 1000) { totalCount } users(first: 3) { nodes { email role } } }",
]


@pytest.fixture
async def pair(http: Any) -> AsyncIterator[tuple[GraphQLClient, GraphQLClient]]:
    config = dataclasses.replace(TEST_DATASET, rate_limit=0)
    async with SimServer(config) as sim:
        settings = Settings(upstream_url=sim.url, rate_limit="off", cursor_secret="same")
        async with GatewayServer(settings) as fast:
            with pytest.MonkeyPatch.context() as patch:
                # schema.py builds the schema with this class (once: it is memoised).
                patch.setattr(
                    schema_module, "FastExecutionContext", StrawberryGraphQLCoreExecutionContext
                )
                schema_module.build_schema.cache_clear()
                plain = GatewayServer(settings)
                await plain.__aenter__()
            schema_module.build_schema.cache_clear()  # the next app gets restloom's again
            try:
                yield (
                    GraphQLClient(http, fast.url, {"X-API-Key": FULL_KEY}),
                    GraphQLClient(http, plain.url, {"X-API-Key": FULL_KEY}),
                )
            finally:
                await plain.__aexit__(None, None, None)


def answer(body: dict[str, Any]) -> dict[str, Any]:
    errors = [
        {k: v for k, v in e.items() if k != "extensions"}
        | {"code": (e.get("extensions") or {}).get("code")}
        for e in body.get("errors", [])
    ]
    return {"data": body.get("data"), "errors": errors}


async def test_real_schema_answers_as_graphql_core(
    pair: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, plain = pair
    planned: list[int] = []
    original = FastExecutionContext._complete

    def counting(self: FastExecutionContext, *args: Any) -> Any:
        planned.append(1)
        return original(self, *args)

    monkeypatch.setattr(FastExecutionContext, "_complete", counting)
    for query in QUERIES:
        mine = await fast.send(query)
        count = len(planned)
        theirs = await plain.send(query)
        assert len(planned) == count, "the other gateway runs graphql-core's execution"
        assert answer(mine.body) == answer(theirs.body), query
    assert len(planned) > 1000, "the plans completed the objects"
