"""Requests that are not well-formed GraphQL-over-HTTP requests, against a real gateway
over the sim: each is a 4xx with a JSON `{"errors": [...]}` body, a code, no `data`,
the X-Request-Id header, and no upstream call, whatever the client accepts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from restloom.config import Settings
from restloom.sim.server import SimServer
from tests.http.support import (
    BOTH,
    GRAPHQL_RESPONSE_JSON,
    assert_request_error,
    exchange,
)
from tests.support import GatewayServer, SimStats


def nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


MALFORMED_BODIES = {
    "not JSON": b'{ "not a JSON',
    "empty": b"",
    "a string": b'"x"',
    "a number": b"7",
    "null": b"null",
    "a batch": b'[{"query": "{ __typename }"}, {"query": "{ __typename }"}]',
    "an array nested 1,000 deep": b"[" * 1000 + b"]" * 1000,
    "an object nested 1,000 deep": nested(1000),
    "nested past the JSON parser's own limit": nested(5000),
    "variables nested 1,000 deep": b'{"query": "{ __typename }", "variables": '
    + nested(1000)
    + b"}",
    "extensions nested 100 deep": b'{"query": "{ __typename }", "extensions": '
    + nested(100)
    + b"}",
    "no query": b'{"qeury": "{ __typename }"}',
    "null query": b'{"query": null}',
    "empty query": b'{"query": ""}',
    "a number as query": b'{"query": 0}',
    "an object as query": b'{"query": {"obj": "ect"}}',
    "an array as operationName": b'{"query": "{ __typename }", "operationName": ["a"]}',
    "an object as operationName": b'{"query": "{ __typename }", "operationName": {"o": 1}}',
    "a number as operationName": b'{"query": "{ __typename }", "operationName": 0}',
    "a string as variables": b'{"query": "{ __typename }", "variables": "{}"}',
    "an array as variables": b'{"query": "{ __typename }", "variables": [7]}',
    "a boolean as extensions": b'{"query": "{ __typename }", "extensions": false}',
    "invalid UTF-8": b'{"query": "{ __typename \xff }"}',
}


@pytest.mark.parametrize("accept", BOTH)
@pytest.mark.parametrize("case", sorted(MALFORMED_BODIES))
async def test_malformed_bodies_are_400_json(
    http: aiohttp.ClientSession, gateway: GatewayServer, stats: SimStats, case: str, accept: str
) -> None:
    await stats.reset()
    request_id = f"malformed-{abs(hash(case)) % 10**6}"
    reply = await exchange(
        http,
        gateway.url,
        body=MALFORMED_BODIES[case],
        accept=accept,
        headers={"X-Request-Id": request_id},
    )
    assert_request_error(reply, 400, "BAD_REQUEST", request_id)
    assert reply.media_type == accept
    assert await stats.requests() == 0


async def test_messages_say_what_is_wrong(
    http: aiohttp.ClientSession, gateway: GatewayServer
) -> None:
    expected = {
        "a batch": "Batched requests",
        "an array nested 1,000 deep": "must be a JSON object",
        "a string": "must be a JSON object with `query`, not a string",
        "variables nested 1,000 deep": "nested more than 64 levels",
        "an array as operationName": "`operationName` must be a string or null, not an array",
        "not JSON": "not valid JSON",
        "no query": "no `query`",
    }
    for case, text in expected.items():
        reply = await exchange(http, gateway.url, body=MALFORMED_BODIES[case])
        assert text in reply.body["errors"][0]["message"], (case, reply.body)


@pytest.mark.parametrize(
    ("content_type", "status", "code"),
    [
        (None, 415, "UNSUPPORTED_MEDIA_TYPE"),
        ("text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"),
        ("application/graphql", 415, "UNSUPPORTED_MEDIA_TYPE"),
        ("application/graphql-response+json", 415, "UNSUPPORTED_MEDIA_TYPE"),
        ("multipart/form-data; boundary=x", 415, "UNSUPPORTED_MEDIA_TYPE"),
        ("application/json; charset=utf-16", 415, "UNSUPPORTED_MEDIA_TYPE"),
    ],
)
async def test_bodies_that_are_not_json(
    http: aiohttp.ClientSession,
    gateway: GatewayServer,
    stats: SimStats,
    content_type: str | None,
    status: int,
    code: str,
) -> None:
    await stats.reset()
    reply = await exchange(
        http,
        gateway.url,
        body=b'{"query": "{ viewer { email } }"}',
        content_type=content_type,
        headers={"X-Request-Id": "ctype-1"},
    )
    assert_request_error(reply, status, code, "ctype-1")
    assert await stats.requests() == 0


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"])
async def test_other_methods_are_405_with_allow(
    http: aiohttp.ClientSession, gateway: GatewayServer, stats: SimStats, method: str
) -> None:
    await stats.reset()
    reply = await exchange(
        http,
        gateway.url,
        method,
        json={"query": "{ viewer { email } }"},
        headers={"X-Request-Id": "method-1"},
    )
    assert_request_error(reply, 405, "METHOD_NOT_ALLOWED", "method-1")
    assert reply.headers["Allow"] == "GET, POST"
    assert await stats.requests() == 0


async def test_head_is_405_with_allow_and_no_body(
    http: aiohttp.ClientSession, gateway: GatewayServer
) -> None:
    async with http.head(gateway.url + "/graphql", params={"query": "{ __typename }"}) as resp:
        assert resp.status == 405
        assert resp.headers["Allow"] == "GET, POST"
        assert resp.headers["X-Request-Id"]


MUTATION = 'mutation { updateViewer(input: {username: "via_get"}) { user { username } } }'


@pytest.mark.parametrize("accept", BOTH)
async def test_a_mutation_over_get_is_405_allow_post(
    http: aiohttp.ClientSession, gateway: GatewayServer, stats: SimStats, accept: str
) -> None:
    await stats.reset()
    reply = await exchange(
        http,
        gateway.url,
        "GET",
        params={"query": MUTATION},
        accept=accept,
        headers={"X-Request-Id": "get-mutation"},
    )
    assert_request_error(reply, 405, "METHOD_NOT_ALLOWED", "get-mutation")
    assert reply.headers["Allow"] == "POST"
    assert await stats.requests() == 0  # nothing ran


async def test_get_may_pick_the_query_of_a_document_with_a_mutation(
    http: aiohttp.ClientSession, gateway: GatewayServer
) -> None:
    document = MUTATION.replace("mutation {", "mutation M {") + " query Q { viewer { email } }"
    picked = await exchange(
        http, gateway.url, "GET", params={"query": document, "operationName": "Q"}
    )
    assert picked.status == 200
    assert "@" in picked.body["data"]["viewer"]["email"]
    mutation = await exchange(
        http, gateway.url, "GET", params={"query": document, "operationName": "M"}
    )
    assert mutation.status == 405
    assert mutation.headers["Allow"] == "POST"


@pytest.mark.parametrize(
    "params",
    [
        [("query", "{ __typename }"), ("query", "{ viewer { email } }")],
        [("query", "{ __typename }"), ("variables", "{not json")],
        [("query", "{ __typename }"), ("variables", "[1]")],
        [("query", "{ __typename }"), ("extensions", "7")],
        [("operationName", "Q")],
    ],
)
async def test_malformed_get_requests(
    http: aiohttp.ClientSession, gateway: GatewayServer, params: list[tuple[str, str]]
) -> None:
    reply = await exchange(
        http, gateway.url, "GET", params=params, headers={"X-Request-Id": "bad-get"}
    )
    assert_request_error(reply, 400, "BAD_REQUEST", "bad-get")


TWO_OPERATIONS = "query A { viewer { email } } query B { viewer { username } }"


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        ({"query": TWO_OPERATIONS}, "operationName"),
        ({"query": TWO_OPERATIONS, "operationName": "Nope"}, "Nope"),
        ({"query": "query A { viewer { email } }", "operationName": "B"}, "B"),
    ],
)
@pytest.mark.parametrize(
    ("accept", "status"), [("application/json", 200), (GRAPHQL_RESPONSE_JSON, 400)]
)
async def test_an_operation_that_cannot_be_determined(
    http: aiohttp.ClientSession,
    gateway: GatewayServer,
    stats: SimStats,
    payload: dict[str, str],
    needle: str,
    accept: str,
    status: int,
) -> None:
    # A GraphQL request error (GetOperation fails): no data, nothing runs; the status is
    # the draft's for the media type (200 for application/json, 400 otherwise).
    await stats.reset()
    reply = await exchange(
        http, gateway.url, json=payload, accept=accept, headers={"X-Request-Id": "op-1"}
    )
    assert_request_error(reply, status, "BAD_REQUEST", "op-1")
    assert needle in reply.body["errors"][0]["message"]
    assert reply.media_type == accept
    assert await stats.requests() == 0


@pytest.mark.parametrize("accept", ["text/html", "application/xml", "application/json;q=0"])
async def test_no_acceptable_media_type_is_406(
    http: aiohttp.ClientSession, gateway: GatewayServer, stats: SimStats, accept: str
) -> None:
    await stats.reset()
    reply = await exchange(
        http,
        gateway.url,
        json={"query": "{ viewer { email } }"},
        accept=accept,
        headers={"X-Request-Id": "accept-1"},
    )
    assert_request_error(reply, 406, "NOT_ACCEPTABLE", "accept-1")
    assert reply.media_type == "application/json"
    assert await stats.requests() == 0


async def test_graphiql_still_answers_a_browser(
    http: aiohttp.ClientSession, gateway: GatewayServer
) -> None:
    reply = await exchange(http, gateway.url, "GET", accept="text/html,application/xhtml+xml")
    assert reply.status == 200
    assert b"graphiql" in reply.raw.lower()


@pytest.fixture
async def small_body_gateway(sim: SimServer) -> AsyncIterator[GatewayServer]:
    async with GatewayServer(Settings(upstream_url=sim.url, max_body_bytes=4096)) as gateway:
        yield gateway


@pytest.mark.parametrize("accept", BOTH)
async def test_a_body_over_the_cap_is_413_with_the_request_id(
    http: aiohttp.ClientSession, small_body_gateway: GatewayServer, accept: str
) -> None:
    body = b'{"query": "{ __typename }", "x": "' + b"x" * 5000 + b'"}'
    reply = await exchange(
        http, small_body_gateway.url, body=body, accept=accept, headers={"X-Request-Id": "big-1"}
    )
    assert_request_error(reply, 413, "REQUEST_TOO_LARGE", "big-1")
    assert reply.body["errors"][0]["extensions"]["limit"] == 4096
    assert reply.media_type == accept
