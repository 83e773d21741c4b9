"""Limits before execution (issue 8, item 3), against a real gateway over the sim.

Every refusal has its own code and the limit in `extensions`, and reaches the
upstream 0 times. Documents over a limit never enter the document cache.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from graphql import get_introspection_query
from restloom.config import Settings
from restloom.graphql.limits import DocumentCache
from restloom.sim.server import SimServer
from tests.conftest import FULL_KEY
from tests.support import GatewayServer, GraphQLClient, SimStats


def chained_fragments(levels: int, leaf: str = "email") -> str:
    """Each fragment spreads the next twice: 2^levels leaves if walked naively."""
    parts = ["query Chain { viewer { ...F0 } }"]
    parts += [f"fragment F{i} on User {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    parts.append(f"fragment F{levels} on User {{ {leaf} }}")
    return "\n".join(parts)


def deep(depth: int) -> str:
    """`depth` fields on one path. Limits run before validation: any names will do."""
    return "{ " + "f { " * (depth - 1) + "leaf" + " }" * depth


def gate_cache(gateway: GatewayServer) -> DocumentCache:
    """The document cache of the schema this gateway serves."""
    server = gateway._server
    assert server is not None
    route = next(r for r in server.config.app.routes if getattr(r, "path", "") == "/graphql")
    view = route.app
    while not hasattr(view, "schema"):  # through ASGI wrappers around the GraphQL view
        view = view.app
    gate = view.schema.document_gate
    assert gate is not None
    return gate.cache


async def refused(client: GraphQLClient, stats: SimStats, query: str, **kw: Any) -> dict[str, Any]:
    """The single error of a query that must be refused before any upstream call."""
    await stats.reset()
    reply = await client.send(query, **kw)
    assert reply.status == 200
    assert reply.data is None, reply.body
    assert len(reply.errors) == 1, reply.errors
    assert await stats.requests() == 0
    return reply.errors[0]


async def test_chained_fragments_are_answered(client: GraphQLClient, stats: SimStats) -> None:
    # 22 levels (the 881-character query): 34 s in strawberry's limiters.
    await stats.reset()
    data = await client.data(chained_fragments(22))
    assert "@" in data["viewer"]["email"]
    assert await stats.requests() == 1


async def test_two_to_the_fortieth_is_answered_or_refused_without_walking_it(
    client: GraphQLClient, stats: SimStats
) -> None:
    data = await client.data(chained_fragments(40))
    assert "@" in data["viewer"]["email"]
    error = await refused(client, stats, chained_fragments(40, leaf="e: email"))
    assert error["extensions"]["code"] == "TOO_MANY_ALIASES"
    assert error["extensions"]["limit"] == 15
    assert error["extensions"]["found"] == 2**40


async def test_the_readme_relay_shapes_fit_the_default_depth(client: GraphQLClient) -> None:
    # The README's nested lists in the `edges` form, with a nested object: 8 fields deep.
    edges = (
        "{ organizations(first: 2) { edges { node { name members(first: 2) "
        "{ edges { role node { profile { firstName } } } } } } } }"
    )
    data = await client.data(edges)
    assert len(data["organizations"]["edges"]) == 2


async def test_every_limit_has_its_code_and_numbers(
    http: aiohttp.ClientSession, sim: SimServer, stats: SimStats
) -> None:
    settings = Settings(
        upstream_url=sim.url,
        max_depth=3,
        max_aliases=2,
        max_directives=2,
        max_tokens=40,
        max_query_chars=300,
    )
    async with GatewayServer(settings) as gateway:
        client = GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})
        await client.data("{ viewer { profile { firstName } } }")  # 3 deep: allowed

        error = await refused(client, stats, "{ viewer { profile { firstName } } } # " + "x" * 300)
        assert error["extensions"] == {"code": "QUERY_TOO_LARGE", "limit": 300, "found": 339} | {
            "requestId": error["extensions"]["requestId"]
        }

        error = await refused(client, stats, "{ " + "viewer { email } " * 10 + "}")
        assert error["extensions"]["code"] == "TOO_MANY_TOKENS"
        assert error["extensions"]["limit"] == 40

        error = await refused(
            client,
            stats,
            "{ ...A } fragment A on Query { viewer { ...B } } "
            "fragment B on User { organizations(first: 1) { nodes { name } } }",
        )
        assert error["extensions"]["code"] == "QUERY_TOO_DEEP"
        assert (error["extensions"]["limit"], error["extensions"]["found"]) == (3, 4)

        error = await refused(client, stats, "{ a: viewer { email } b: viewer { c: email } }")
        assert error["extensions"]["code"] == "TOO_MANY_ALIASES"
        assert (error["extensions"]["limit"], error["extensions"]["found"]) == (2, 3)

        error = await refused(
            client,
            stats,
            "{ viewer { email @include(if: true) username @skip(if: false) "
            "role @include(if: true) } }",
        )
        assert error["extensions"]["code"] == "TOO_MANY_DIRECTIVES"
        assert (error["extensions"]["limit"], error["extensions"]["found"]) == (2, 3)


async def test_default_limits(client: GraphQLClient, stats: SimStats) -> None:
    error = await refused(client, stats, "{ viewer { email } }" + " " * 15_000)
    assert error["extensions"]["code"] == "QUERY_TOO_LARGE"
    assert error["extensions"]["limit"] == 15_000

    error = await refused(client, stats, "{ viewer { " + "email " * 1000 + "} }")
    assert error["extensions"]["code"] == "TOO_MANY_TOKENS"
    assert error["extensions"]["limit"] == 1000

    aliases = " ".join(f"a{i}: viewer {{ email }}" for i in range(16))
    error = await refused(client, stats, "{ " + aliases + " }")
    assert error["extensions"] | {"requestId": None} == {
        "code": "TOO_MANY_ALIASES",
        "limit": 15,
        "found": 16,
        "requestId": None,
    }

    directives = "email @include(if: true) " * 51
    error = await refused(client, stats, "{ viewer { " + directives + "} }")
    assert error["extensions"]["code"] == "TOO_MANY_DIRECTIVES"
    assert (error["extensions"]["limit"], error["extensions"]["found"]) == (50, 51)

    await refused(client, stats, deep(10))  # within the depth limit: fails validation
    error = await refused(client, stats, deep(11))
    assert error["extensions"]["code"] == "QUERY_TOO_DEEP"
    assert (error["extensions"]["limit"], error["extensions"]["found"]) == (10, 11)


async def test_a_fragment_cycle_is_a_validation_error(
    client: GraphQLClient, stats: SimStats
) -> None:
    error = await refused(
        client,
        stats,
        "{ viewer { ...A } } fragment A on User { email ...B } fragment B on User { ...A }",
    )
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "A" in error["message"]


async def test_parse_errors_keep_their_code_and_request_id(
    client: GraphQLClient, stats: SimStats
) -> None:
    error = await refused(client, stats, "{ viewer { email }", headers={"X-Request-Id": "p-1"})
    assert error["extensions"] == {"code": "GRAPHQL_PARSE_FAILED", "requestId": "p-1"}
    assert error["locations"]


async def test_only_documents_within_the_limits_are_cached(
    http: aiohttp.ClientSession, sim: SimServer, stats: SimStats
) -> None:
    settings = Settings(upstream_url=sim.url, max_tokens=50)  # a schema of this test's own
    async with GatewayServer(settings) as gateway:
        client = GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})
        cache = gate_cache(gateway)
        within = "{ viewer { email } }"
        over_tokens = "{ viewer { " + "email " * 60 + "} }"
        over_aliases = "{ " + " ".join(f"a{i}: viewer {{ email }}" for i in range(16)) + " }"
        too_long = within + " " * 20_000
        await client.data(within)
        for query in (over_tokens, over_aliases, too_long):
            await refused(client, stats, query)
        assert within in cache
        assert len(cache) == 1
        assert cache.tokens == 6


def test_document_cache_is_bounded_by_tokens() -> None:
    from restloom.graphql.limits import DEFAULT_LIMITS, check_document

    cache = DocumentCache(max_entries=100, max_tokens=30)
    for i in range(10):
        query = f"{{ viewer{i} {{ email }} }}"  # 6 tokens each
        cache.put(query, check_document(query, DEFAULT_LIMITS))
    assert len(cache) == 5
    assert cache.tokens == 30
    assert "{ viewer9 { email } }" in cache and "{ viewer0 { email } }" not in cache


async def test_field_suggestions_are_off_by_default(
    client: GraphQLClient, http: aiohttp.ClientSession, sim: SimServer, stats: SimStats
) -> None:
    error = await refused(client, stats, "{ viewer { emial } }")
    assert "Did you mean" not in error["message"]
    mutation = (
        "mutation($input: CreateContactInput!) { createContact(input: $input) { contact { id } } }"
    )
    await stats.reset()
    reply = await client.send(mutation, {"input": {"firstNme": "A", "email": "a@b.example"}})
    assert reply.errors and all("Did you mean" not in e["message"] for e in reply.errors)
    assert await stats.requests() == 0
    async with GatewayServer(Settings(upstream_url=sim.url, field_suggestions=True)) as gateway:
        suggesting = GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})
        reply = await suggesting.send("{ viewer { emial } }")
    assert "Did you mean" in reply.errors[0]["message"]


async def test_introspection_is_on_by_default_and_can_be_turned_off(
    client: GraphQLClient, http: aiohttp.ClientSession, sim: SimServer, stats: SimStats
) -> None:
    # The full introspection query of GraphiQL and codegen passes the default limits.
    full = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    data = await client.data(full)
    assert data["__schema"]["queryType"]["name"] == "Query"
    async with GatewayServer(Settings(upstream_url=sim.url, introspection=False)) as gateway:
        closed = GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})
        error = await refused(closed, stats, "{ __schema { queryType { name } } }")
        typed = await refused(closed, stats, '{ __type(name: "User") { name } }')
        typename = await closed.data("{ __typename }")
    assert error["extensions"]["code"] == "INTROSPECTION_DISABLED"
    assert typed["extensions"]["code"] == "INTROSPECTION_DISABLED"
    assert typename == {"__typename": "Query"}
