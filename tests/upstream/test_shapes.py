"""Upstream answers that do not fit the profile's shape (issue 9, items 3 and 4).

A tiny aiohttp upstream of our own answers 200 with whatever body the test sets.
Every misshapen answer must come back as UPSTREAM_INVALID_RESPONSE with a request
id (never an empty list, never a made-up total), and must not be cached: with the
cache on, the same query after the upstream recovers reaches the upstream again
and gets the real answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web

from restloom.config import Settings
from tests.support import GatewayServer, GraphQLClient

CONTACT = {"id": "cnt_shape00001", "first_name": "Ada", "email": "ada@example.com"}
OTHER = {"id": "cnt_shape00002", "first_name": "Brian", "email": "brian@example.com"}
ME = {"id": "usr_shape00001", "email": "ada@example.com", "username": "ada"}


def envelope(items: Any, total: Any = 2) -> dict[str, Any]:
    return {"data": items, "meta": {"page": 1, "per_page": 2, "total": total}}


GOOD_LIST = envelope([CONTACT, OTHER])


@dataclass
class ShapeUpstream:
    """Answers 200 with the bodies set here; counts what reaches it."""

    list_body: Any = field(default_factory=lambda: GOOD_LIST)
    list_headers: dict[str, str] = field(default_factory=dict)
    me_body: Any = field(default_factory=lambda: {"data": ME})
    object_body: Any = field(default_factory=lambda: {"data": CONTACT})
    good_list: Any = field(default_factory=lambda: GOOD_LIST)
    requests: int = 0
    url: str = ""

    def reset(self) -> None:
        self.list_body, self.list_headers = self.good_list, {}
        self.me_body, self.object_body = {"data": ME}, {"data": CONTACT}

    def _answer(self, body: Any, headers: dict[str, str] | None = None) -> web.Response:
        self.requests += 1
        raw = body if isinstance(body, bytes) else orjson.dumps(body)
        return web.Response(body=raw, content_type="application/json", headers=headers)

    async def contacts(self, request: web.Request) -> web.Response:
        return self._answer(self.list_body, self.list_headers)

    async def me(self, request: web.Request) -> web.Response:
        return self._answer(self.me_body)

    async def contact(self, request: web.Request) -> web.Response:
        return self._answer(self.object_body)

    async def create(self, request: web.Request) -> web.Response:
        self.requests += 1
        return web.Response(
            body=orjson.dumps(self.object_body), status=201, content_type="application/json"
        )


@pytest.fixture
async def upstream() -> AsyncIterator[ShapeUpstream]:
    state = ShapeUpstream()
    app = web.Application()
    app.router.add_get("/api/v1/contacts", state.contacts)
    app.router.add_post("/api/v1/contacts", state.create)
    app.router.add_get("/api/v1/users/me", state.me)
    app.router.add_get("/api/v1/contacts/{id}", state.contact)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    state.url = f"http://127.0.0.1:{port}"
    yield state
    await runner.cleanup()


async def gateway_client(
    http: aiohttp.ClientSession, upstream: ShapeUpstream, **settings: Any
) -> AsyncIterator[GraphQLClient]:
    config = Settings(upstream_url=upstream.url, cache_ttl=60, read_retries=0, **settings)
    async with GatewayServer(config) as gateway:
        yield GraphQLClient(http, gateway.url, {"X-API-Key": "k_shape"})


@pytest.fixture
async def client(
    http: aiohttp.ClientSession, upstream: ShapeUpstream
) -> AsyncIterator[GraphQLClient]:
    async for client in gateway_client(http, upstream):
        yield client


LIST = "{ contacts(first: 2) { totalCount nodes { databaseId } } }"


async def assert_invalid_then_recovers(
    client: GraphQLClient, upstream: ShapeUpstream, query: str, field_name: str
) -> None:
    reply = await client.send(query)
    assert reply.codes() == ["UPSTREAM_INVALID_RESPONSE"], reply.body
    assert reply.errors[0]["extensions"]["requestId"]
    assert reply.data is None or reply.data.get(field_name) is None
    upstream.reset()
    seen = upstream.requests
    healed = await client.data(query)
    # Nothing of the bad answer was cached: the upstream is asked again, and answers.
    assert upstream.requests > seen
    assert healed[field_name] is not None


BAD_LISTS = {
    "items missing": {"meta": {"total": 2}},
    "items an object": envelope({"id": "cnt_x"}),
    "items a string": envelope("cnt_x"),
    "total a word": envelope([CONTACT], "lots"),
    "total negative": envelope([CONTACT], -5),
    "total a fraction": envelope([CONTACT], 3.5),
    "total a boolean": envelope([CONTACT], True),
    "total a numeric string": envelope([CONTACT], "2"),
    "total missing": {"data": [CONTACT]},
    "an item not an object": envelope([CONTACT, 7]),
    "an item without id": envelope([CONTACT, {"first_name": "Nobody"}]),
    "an item with a null id": envelope([{**OTHER, "id": None}]),
    "an item with a boolean id": envelope([{**OTHER, "id": True}]),
    "an item with an empty id": envelope([{**OTHER, "id": ""}]),
    "more items than asked": envelope([CONTACT, OTHER, {**OTHER, "id": "cnt_shape00003"}], 3),
    "body a list": [CONTACT, OTHER],
    "body null": None,
}


@pytest.mark.parametrize("body", BAD_LISTS.values(), ids=BAD_LISTS.keys())
async def test_a_misshapen_list_is_invalid_never_empty_never_cached(client, upstream, body):
    upstream.list_body = body
    await assert_invalid_then_recovers(client, upstream, LIST, "contacts")


BAD_OBJECTS = {
    "not wrapped": ME,
    "wrapped list": {"data": [ME]},
    "no id": {"data": {k: v for k, v in ME.items() if k != "id"}},
    "null id": {"data": {**ME, "id": None}},
    "a string": "usr_shape00001",
}


@pytest.mark.parametrize("body", BAD_OBJECTS.values(), ids=BAD_OBJECTS.keys())
async def test_a_misshapen_object_is_invalid_never_cached(client, upstream, body):
    upstream.me_body = body
    await assert_invalid_then_recovers(client, upstream, "{ viewer { email } }", "viewer")


@pytest.mark.parametrize("body", BAD_OBJECTS.values(), ids=BAD_OBJECTS.keys())
async def test_a_misshapen_object_by_id_is_invalid(http, upstream, body):
    # Without batch lookup, contact(id:) is one GET of the object.
    profiles = {"single": {"extends": "mossdesk", "batch": False}}
    async for client in gateway_client(http, upstream, profile="single", profiles=profiles):
        upstream.object_body = body
        query = '{ contact(id: "cnt_shape00001") { email } }'
        await assert_invalid_then_recovers(client, upstream, query, "contact")


async def test_a_batch_lookup_answer_is_checked_too(client, upstream):
    upstream.good_list = envelope([CONTACT], 1)  # what `filter[id]=cnt_shape00001` gives
    upstream.list_body = envelope([{"email": "no-id@example.com"}], 1)
    await assert_invalid_then_recovers(
        client, upstream, '{ contact(id: "cnt_shape00001") { email } }', "contact"
    )


async def test_a_write_answer_without_an_id_is_invalid(client, upstream):
    upstream.object_body = {"data": {"first_name": "Ada"}}
    reply = await client.send(
        'mutation { createContact(input: {firstName: "Ada", email: "a@example.com"}) '
        "{ contact { databaseId } } }"
    )
    assert reply.codes() == ["UPSTREAM_INVALID_RESPONSE"], reply.body


HEADER_PROFILE = {
    "extends": "moco",
    "prefix": "/api/v1",
    "id_type": "string",
    "rate_limit": {"requests": 1000, "per_seconds": 1},
}


@pytest.mark.parametrize("total", ["lots", "-5", "3.5", "", "1" * 40])
async def test_a_total_header_that_is_not_a_count_is_invalid(http, upstream, total):
    async for client in gateway_client(
        http, upstream, profile="hdr", profiles={"hdr": HEADER_PROFILE}
    ):
        upstream.list_body = [CONTACT, OTHER]
        upstream.list_headers = {"X-Total": total}
        reply = await client.send(LIST, headers={"Authorization": "Token token=k"})
        assert reply.codes() == ["UPSTREAM_INVALID_RESPONSE"], reply.body
        upstream.list_headers = {"X-Total": "2"}
        healed = await client.data(LIST, headers={"Authorization": "Token token=k"})
        assert healed["contacts"]["totalCount"] == 2
