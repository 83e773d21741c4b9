"""The HTTP front door (issue 8, items 3 and 8), against a real gateway over the sim.

Operation selection, exact media types, request errors as JSON, the body cap
(413 before the body is read whole) and CORS.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest

from restloom.config import Settings
from restloom.frontdoor.body import declared_length
from restloom.frontdoor.cors import origin_allowed
from restloom.sim.server import SimServer
from tests.conftest import FULL_KEY
from tests.support import GatewayServer, GraphQLClient, SimStats

TWO_OPERATIONS = (
    'mutation Rename { updateViewer(input: {username: "renamed_by_default"}) '
    "{ user { username } } } query Me { viewer { username } }"
)
PREFLIGHT_HEADERS = (
    "content-type,x-api-key,authorization,idempotency-key,x-request-id,x-impersonate-user-id"
)


async def post_raw(
    http: aiohttp.ClientSession, url: str, body: bytes, content_type: str | None
) -> tuple[int, dict[str, Any]]:
    headers = {"X-API-Key": FULL_KEY}
    if content_type is not None:
        headers["Content-Type"] = content_type
    async with http.post(url + "/graphql", data=body, headers=headers) as resp:
        return resp.status, await resp.json(content_type=None)


async def raw_exchange(url: str, head: bytes, chunks: list[bytes]) -> bytes:
    """Send a request head and some body bytes, never the end; read what comes back."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        writer.write(head)
        for chunk in chunks:
            writer.write(chunk)
            await writer.drain()
        return await asyncio.wait_for(reader.read(65536), timeout=10)
    finally:
        writer.close()


def assert_request_error(body: dict[str, Any], code: str) -> None:
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == [code]
    assert body["errors"][0]["message"]


async def test_several_operations_without_a_name_is_a_request_error(
    client: GraphQLClient, http: aiohttp.ClientSession, gateway: GatewayServer, stats: SimStats
) -> None:
    await stats.reset()
    reply = await client.send(TWO_OPERATIONS, headers={"X-Request-Id": "two-ops-1"})
    # A GraphQL request error: 200 in application/json, as the GraphQL-over-HTTP draft asks
    # (400 with application/graphql-response+json: tests/http/test_status_codes.py).
    assert reply.status == 200
    assert reply.headers["X-Request-Id"] == "two-ops-1"
    assert reply.body["errors"][0]["extensions"]["requestId"] == "two-ops-1"
    assert_request_error(reply.body, "BAD_REQUEST")
    assert "operationName" in reply.body["errors"][0]["message"]
    assert await stats.requests() == 0  # the mutation, first in the document, never ran
    viewer = await client.data("{ viewer { username } }")
    assert viewer["viewer"]["username"] != "renamed_by_default"

    await stats.reset()
    payload = {"query": TWO_OPERATIONS, "operationName": "Me"}
    async with http.post(
        gateway.url + "/graphql", json=payload, headers={"X-API-Key": FULL_KEY}
    ) as resp:
        named = await resp.json()
    assert named["data"]["viewer"]["username"] == viewer["viewer"]["username"]
    assert await stats.requests() == 1

    payload = {"query": TWO_OPERATIONS, "operationName": "Nope"}
    async with http.post(
        gateway.url + "/graphql", json=payload, headers={"X-API-Key": FULL_KEY}
    ) as resp:
        assert resp.status == 200
        assert_request_error(await resp.json(), "BAD_REQUEST")


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        ("application/json", 200),
        ("application/json; charset=utf-8", 200),
        ('APPLICATION/JSON;CHARSET="UTF-8"', 200),
        ("application/jsonx", 415),
        ("application/json+x", 415),
        ("text/application/json", 415),
        ("text/plain", 415),
        ("application/x-www-form-urlencoded", 415),
        ("application/json; charset=latin-1", 415),
        ("application/json; charset", 415),
        (None, 415),
    ],
)
async def test_only_json_carries_a_post(
    http: aiohttp.ClientSession,
    gateway: GatewayServer,
    stats: SimStats,
    content_type: str | None,
    status: int,
) -> None:
    await stats.reset()
    code, body = await post_raw(
        http, gateway.url, b'{"query": "{ viewer { email } }"}', content_type
    )
    assert code == status
    if status == 200:
        assert "@" in body["data"]["viewer"]["email"]
    else:
        assert_request_error(body, "UNSUPPORTED_MEDIA_TYPE")
        assert await stats.requests() == 0


async def test_strawberrys_own_request_errors_are_json(
    http: aiohttp.ClientSession, gateway: GatewayServer
) -> None:
    code, body = await post_raw(http, gateway.url, b"{not json", "application/json")
    assert code == 400
    assert_request_error(body, "BAD_REQUEST")
    code, body = await post_raw(http, gateway.url, b'{"variables": {}}', "application/json")
    assert code == 400
    assert_request_error(body, "BAD_REQUEST")


async def test_get_queries_keep_working(
    http: aiohttp.ClientSession, gateway: GatewayServer
) -> None:
    headers = {"X-API-Key": FULL_KEY}
    async with http.get(
        gateway.url + "/graphql", params={"query": "{ viewer { email } }"}, headers=headers
    ) as resp:
        assert resp.status == 200
        assert "@" in (await resp.json())["data"]["viewer"]["email"]
    mutation = 'mutation { updateViewer(input: {username: "via_get"}) { user { username } } }'
    async with http.get(
        gateway.url + "/graphql", params={"query": mutation}, headers=headers
    ) as resp:
        # The GraphQL-over-HTTP draft: a mutation over GET is 405 with `Allow: POST`.
        assert resp.status == 405
        assert resp.headers["Allow"] == "POST"
        assert_request_error(await resp.json(), "METHOD_NOT_ALLOWED")
    async with http.get(gateway.url + "/graphql", headers={"Accept": "text/html"}) as resp:
        assert resp.status == 200
        assert "graphiql" in (await resp.text()).lower()


@pytest.fixture
async def small_body_gateway(sim: SimServer) -> AsyncIterator[GatewayServer]:
    async with GatewayServer(Settings(upstream_url=sim.url, max_body_bytes=4096)) as gateway:
        yield gateway


async def test_a_declared_body_over_the_cap_is_refused_unread(
    small_body_gateway: GatewayServer,
) -> None:
    # 100 MB declared, none of it sent: the answer cannot wait for the body.
    head = (
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100000000\r\n\r\n"
    )
    answer = await raw_exchange(small_body_gateway.url, head, [])
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 413")
    assert b'"code":"REQUEST_TOO_LARGE"' in rest
    assert b'"limit":4096' in rest


@pytest.mark.parametrize(
    ("value", "length"),
    [
        (b"12", 12),
        (b" 12 ", 12),
        (b"", -1),
        (b"1e3", -1),
        (b"-5", -1),
        ("\u00b2".encode("latin-1"), -1),  # a digit to str.isdigit(), not to int()
        (b"9" * 20, -1),
    ],
)
def test_a_declared_length_is_a_number_or_refused(value: bytes, length: int) -> None:
    assert declared_length({"headers": [(b"content-length", value)]}) == length


async def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_cap(
    small_body_gateway: GatewayServer,
) -> None:
    head = (
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b" " * 1024
    chunks = [b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(6)]  # never terminated
    answer = await raw_exchange(small_body_gateway.url, head, chunks)
    assert answer.startswith(b"HTTP/1.1 413")
    assert b'"code":"REQUEST_TOO_LARGE"' in answer


async def test_a_body_within_the_cap_is_served(
    http: aiohttp.ClientSession, small_body_gateway: GatewayServer
) -> None:
    body = b'{"query": "{ viewer { email } }"' + b" " * 3000 + b"}"
    code, reply = await post_raw(http, small_body_gateway.url, body, "application/json")
    assert code == 200
    assert "@" in reply["data"]["viewer"]["email"]


async def test_no_cors_by_default(http: aiohttp.ClientSession, gateway: GatewayServer) -> None:
    async with http.options(
        gateway.url + "/graphql",
        headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"},
    ) as resp:
        assert "Access-Control-Allow-Origin" not in resp.headers
    async with http.post(
        gateway.url + "/graphql",
        json={"query": "{ __typename }"},
        headers={"Origin": "http://localhost:3000"},
    ) as resp:
        assert "Access-Control-Allow-Origin" not in resp.headers


@pytest.fixture
async def cors_gateway(sim: SimServer) -> AsyncIterator[GatewayServer]:
    settings = Settings(
        upstream_url=sim.url,
        cors_origins=["https://app.example.com", "http://localhost:*"],
        max_body_bytes=4096,
    )
    async with GatewayServer(settings) as gateway:
        yield gateway


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://app.example.com", True),
        ("http://localhost:5173", True),
        ("http://localhost:5173.evil.example", False),
        ("http://localhost.evil.example:80", False),
        ("http://evil.example", False),
        ("https://app.example.com.evil.example", False),
        ("http://app.example.com", False),
    ],
)
async def test_cors_preflight(
    http: aiohttp.ClientSession, cors_gateway: GatewayServer, origin: str, allowed: bool
) -> None:
    async with http.options(
        cors_gateway.url + "/graphql",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": PREFLIGHT_HEADERS,
        },
    ) as resp:
        if allowed:
            assert resp.status == 200
            assert resp.headers["Access-Control-Allow-Origin"] == origin
            granted = {
                h.strip().lower() for h in resp.headers["Access-Control-Allow-Headers"].split(",")
            }
            assert set(PREFLIGHT_HEADERS.split(",")) <= granted
        else:
            assert resp.status == 400
            assert "Access-Control-Allow-Origin" not in resp.headers


async def test_cors_on_answers_exposes_the_request_id(
    http: aiohttp.ClientSession, cors_gateway: GatewayServer
) -> None:
    origin = "http://localhost:8080"
    async with http.post(
        cors_gateway.url + "/graphql",
        json={"query": "{ __typename }"},
        headers={"Origin": origin, "X-Request-Id": "cors-1"},
    ) as resp:
        assert resp.headers["Access-Control-Allow-Origin"] == origin
        assert resp.headers["Access-Control-Expose-Headers"] == "X-Request-Id"
        assert resp.headers["X-Request-Id"] == "cors-1"
    # A refusal is readable by the page too.
    async with http.post(
        cors_gateway.url + "/graphql",
        data=b"x" * 5000,
        headers={"Origin": origin, "Content-Type": "application/json"},
    ) as resp:
        assert resp.status == 413
        assert resp.headers["Access-Control-Allow-Origin"] == origin


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://localhost:3000", True),
        ("http://127.0.0.1:8080", True),
        ("http://[::1]:5173", True),
        ("http://localhost", False),
        ("http://localhost:3000.evil.example", False),
        ("http://localhost:3000@evil.example", False),
        ("https://localhost:3000", False),
        ("https://a.example.com", True),
        ("https://a.b.example.com", False),
        ("https://example.com", False),
    ],
)
def test_origin_patterns(origin: str, allowed: bool) -> None:
    # The decision WebSocket handshakes use; the CORS middleware gets the same regex.
    origins = [
        "http://localhost:*",
        "http://127.0.0.1:*",
        "http://[::1]:*",
        "https://*.example.com",
    ]
    assert origin_allowed(origin, origins) is allowed
    assert origin_allowed(origin, ["*"]) is True
    assert origin_allowed(origin, []) is False
