"""The response cache's fast lane: the same answers as the view, for exactly the plain case.

Each test runs a real gateway under uvicorn over the sim. A hit the lane sends is
compared with the same hit sent by the strawberry view (the lane made to pass it by),
byte for byte apart from the request id; requests the lane must not answer are shown
to reach the view and get the view's answer. `ResponseCache.answered_early` counts
the lane's answers, `hits` every response-cache answer.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import aiohttp
import orjson
import pytest

from restloom.config import Settings
from restloom.graphql.response_cache import ResponseCache
from restloom.sim.server import SimServer
from tests.conftest import FULL_KEY, READ_KEY
from tests.redis_support import drop_namespace, require_redis
from tests.support import SimStats
from tests.test_response_cache import Gateway

NAMED = "query Few { contacts(first: 3) { nodes { id firstName } } }"
ANONYMOUS = "{ contacts(first: 2) { edges { cursor node { id email } } } }"
WITH_VARIABLES = "query($n: Int) { contacts(first: $n) { nodes { databaseId } } }"
TWO_OPERATIONS = "query A { viewer { email } } query B { contacts(first: 1) { totalCount } }"
UPDATE_CONTACT = """mutation($input: UpdateContactInput!) {
  updateContact(input: $input) { contact { firstName } } }"""
# Headers that differ between any two answers.
_PER_ANSWER = {"date", "x-request-id"}


def settings_for(sim: SimServer, **changes: Any) -> Settings:
    return Settings(
        **{"upstream_url": sim.url, "cache_ttl": 60, "cursor_secret": "test-cursor-secret"}
        | changes
    )


@pytest.fixture
async def served(sim: SimServer) -> AsyncIterator[Gateway]:
    async with Gateway(settings_for(sim)) as gateway:
        yield gateway


def responses_of(gateway: Gateway) -> ResponseCache:
    found = gateway.responses
    assert found is not None
    return found


@contextmanager
def lane_passes(responses: ResponseCache) -> Iterator[None]:
    """The lane sees no vetted document, so the view answers (from the same cache)."""
    original = responses.vetted
    responses.vetted = lambda document: False  # type: ignore[method-assign]
    try:
        yield
    finally:
        responses.vetted = original  # type: ignore[method-assign]


async def post(
    http: aiohttp.ClientSession,
    gateway: Gateway,
    payload: Any,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    sent = {"Content-Type": "application/json", "X-API-Key": FULL_KEY, **(headers or {})}
    async with http.post(gateway.url + "/graphql", data=body, headers=sent) as resp:
        kept = {k.lower(): v for k, v in resp.headers.items() if k.lower() not in _PER_ANSWER}
        return resp.status, kept, await resp.read()


async def view_then_lane(
    http: aiohttp.ClientSession,
    gateway: Gateway,
    payload: Any,
    headers: dict[str, str] | None = None,
) -> tuple[tuple[int, dict[str, str], bytes], tuple[int, dict[str, str], bytes]]:
    """The same repeat answered by the view, then by the lane (after one to fill the cache)."""
    responses = responses_of(gateway)
    await post(http, gateway, payload, headers)
    with lane_passes(responses):
        by_view = await post(http, gateway, payload, headers)
    early = responses.answered_early
    by_lane = await post(http, gateway, payload, headers)
    assert await post(http, gateway, payload, headers) == by_lane, "a prepared answer"
    assert responses.answered_early == early + 2, "the lane answered both repeats"
    return by_view, by_lane


REQUESTS = [
    pytest.param({"query": ANONYMOUS}, {}, id="anonymous"),
    pytest.param({"query": NAMED}, {}, id="named-without-operationName"),
    pytest.param({"query": NAMED, "operationName": "Few"}, {}, id="named"),
    pytest.param({"query": WITH_VARIABLES, "variables": {"n": 4}}, {}, id="variables"),
    pytest.param({"query": TWO_OPERATIONS, "operationName": "B"}, {}, id="two-operations"),
    pytest.param({"query": ANONYMOUS}, {"Accept": "application/json"}, id="accept-json"),
    pytest.param(
        {"query": ANONYMOUS}, {"Accept": "application/graphql-response+json"}, id="accept-new"
    ),
    pytest.param({"query": ANONYMOUS}, {"Accept": "*/*"}, id="accept-any"),
    pytest.param({"query": ANONYMOUS}, {"X-Request-Id": "given-id-1"}, id="request-id"),
    pytest.param(
        {"query": ANONYMOUS}, {"Content-Type": "application/json; charset=UTF-8"}, id="charset"
    ),
    pytest.param({"query": ANONYMOUS}, {"Authorization": f"Bearer {FULL_KEY}"}, id="bearer"),
]


@pytest.mark.parametrize(("payload", "headers"), REQUESTS)
async def test_the_lane_answers_a_repeat_as_the_view_does(served, http, stats, payload, headers):
    responses = responses_of(served)
    first = await post(http, served, payload, headers)
    assert first[0] == 200 and b'"errors"' not in first[2], first
    assert responses.kept == 1
    await stats.reset()
    with lane_passes(responses):
        by_view = await post(http, served, payload, headers)
    assert (responses.hits, responses.answered_early) == (1, 0)
    by_lane = await post(http, served, payload, headers)
    assert (responses.hits, responses.answered_early) == (2, 1)
    assert by_lane == by_view
    # Again: now from the answer the lane prepared for these request bytes.
    again = await post(http, served, payload, headers)
    assert (responses.hits, responses.answered_early) == (3, 2)
    assert again == by_view
    assert await stats.requests() == 0
    if "X-Request-Id" in headers:
        async with http.post(
            served.url + "/graphql",
            json=payload,
            headers={"X-API-Key": FULL_KEY, **headers},
        ) as resp:
            assert resp.headers["X-Request-Id"] == headers["X-Request-Id"]


async def test_without_response_extensions_the_answers_still_match(sim, http):
    async with Gateway(settings_for(sim, response_extensions=False)) as gateway:
        by_view, by_lane = await view_then_lane(http, gateway, {"query": NAMED})
        assert by_lane == by_view
        assert b"extensions" not in by_lane[2]


async def test_cors_headers_are_the_same(sim, http):
    origin = "http://app.example"
    async with Gateway(settings_for(sim, cors_origins=[origin])) as gateway:
        headers = {"Origin": origin}
        by_view, by_lane = await view_then_lane(http, gateway, {"query": NAMED}, headers)
        assert by_lane == by_view
        assert by_lane[1]["access-control-allow-origin"] == origin
        assert by_lane[1]["access-control-expose-headers"] == "X-Request-Id"


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Idempotency-Key": "k-1"}, "checked by the view"),
        ({"X-Org-Unit": "ou_1"}, "changes who the upstream sees"),
        ({"X-Impersonate-User-Id": "usr_1"}, "changes who the upstream sees"),
        ({"Content-Type": "application/jsonx"}, "415 from the view"),
        ({"Accept": "text/html"}, "406 from the view"),
    ],
)
async def test_requests_the_view_must_handle_pass_the_lane(served, http, headers, reason):
    responses = responses_of(served)
    await post(http, served, {"query": NAMED})
    await post(http, served, {"query": NAMED})
    assert responses.answered_early == 1
    with lane_passes(responses):
        by_view = await post(http, served, {"query": NAMED}, headers)
    through_lane = await post(http, served, {"query": NAMED}, headers)
    assert responses.answered_early == 1, reason
    # What the view answers, whatever it is (a hit, an error, a refusal).
    assert through_lane[0] == by_view[0]
    assert orjson.loads(through_lane[2]).keys() == orjson.loads(by_view[2]).keys()


async def test_a_body_the_lane_read_reaches_the_view_whole(served, http, stats):
    responses = responses_of(served)
    # The first request is read by the lane (a plain POST), then executed by the view.
    await stats.reset()
    status, _, body = await post(http, served, {"query": NAMED})
    assert status == 200 and orjson.loads(body)["data"]["contacts"]["nodes"]
    assert await stats.requests() == 1
    # Malformed requests, read by the lane and refused by the view as always.
    for payload, message in [
        (b'{"query": ', "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (orjson.dumps({"query": NAMED, "extensions": {"x": 1}}), None),
    ]:
        status, _, body = await post(http, served, payload)
        if message is None:
            assert status == 200  # extensions: the view's business, answered normally
        else:
            assert status == 400 and message in body.decode()
    assert responses.answered_early == 0


async def test_a_body_over_the_cap_is_refused_before_it_is_read(sim, http):
    async with Gateway(settings_for(sim, max_body_bytes=2048)) as gateway:
        padding = " " * 4096
        status, _, body = await post(http, gateway, {"query": NAMED + padding})
        assert status == 413 and b"2048" in body
        assert responses_of(gateway).answered_early == 0


async def test_a_write_makes_the_lane_miss_at_once(served, http, stats):
    responses = responses_of(served)
    first = orjson.loads((await post(http, served, {"query": NAMED}))[2])
    await post(http, served, {"query": NAMED})
    assert responses.answered_early == 1
    target = first["data"]["contacts"]["nodes"][0]
    name = f"Lane{uuid.uuid4().hex[:6]}"
    variables = {"input": {"id": target["id"], "firstName": name}}
    await post(http, served, {"query": UPDATE_CONTACT, "variables": variables})
    await stats.reset()
    after = orjson.loads((await post(http, served, {"query": NAMED}))[2])
    assert after["data"]["contacts"]["nodes"][0]["firstName"] == name
    assert await stats.requests() == 1
    assert responses.answered_early == 1


async def test_principals_never_share_an_answer(served, http, stats):
    viewer = "{ viewer { databaseId } }"
    full = orjson.loads((await post(http, served, {"query": viewer}))[2])
    await post(http, served, {"query": viewer})
    assert responses_of(served).answered_early == 1
    await stats.reset()
    read_only = orjson.loads(
        (await post(http, served, {"query": viewer}, {"X-API-Key": READ_KEY}))[2]
    )
    assert read_only["data"] != full["data"]
    assert await stats.requests() == 1
    assert responses_of(served).answered_early == 1


async def test_the_lane_logs_the_operation_as_the_view_does(served, http, caplog):
    caplog.set_level(logging.INFO, logger="restloom.requests")
    await post(http, served, {"query": NAMED})
    await post(http, served, {"query": NAMED})
    assert responses_of(served).answered_early == 1
    lines = [r.getMessage() for r in caplog.records if r.name == "restloom.requests"]
    assert len(lines) == 2
    assert "operation=Few type=query outcome=ok" in lines[1]
    assert "upstream_calls=0 cache_hits=1" in lines[1]


async def test_an_entry_in_shared_redis_is_not_answered_before_this_instance_checked_it(
    sim: SimServer, http: aiohttp.ClientSession, stats: SimStats
) -> None:
    url = await require_redis()
    namespace = f"restloom-test-{uuid.uuid4().hex[:12]}"
    shared = settings_for(sim, redis_url=url, redis_namespace=namespace)
    try:
        async with Gateway(shared) as a, Gateway(shared) as b:
            await post(http, a, {"query": NAMED})
            await post(http, a, {"query": NAMED})
            assert responses_of(a).answered_early == 1
            await stats.reset()
            # B never checked this document: its view does (then answers from Redis).
            await post(http, b, {"query": NAMED})
            assert (responses_of(b).hits, responses_of(b).answered_early) == (1, 0)
            await post(http, b, {"query": NAMED})
            assert (responses_of(b).hits, responses_of(b).answered_early) == (2, 1)
            assert await stats.requests() == 0
    finally:
        await drop_namespace(url, namespace)


async def test_below_a_root_path_the_lane_still_answers(sim, http):
    async with Gateway(settings_for(sim), root_path="/gateway") as gateway:
        by_view, by_lane = await view_then_lane(http, gateway, {"query": NAMED})
        assert by_lane == by_view


async def test_a_prepared_answer_ends_with_its_ttl(sim, http, stats):
    async with Gateway(settings_for(sim, cache_ttl=1)) as gateway:
        responses = responses_of(gateway)
        for _ in range(3):  # kept, answered from the store, then from the prepared answer
            await post(http, gateway, {"query": NAMED})
        assert responses.answered_early == 2
        await asyncio.sleep(1.2)  # past the 1 s TTL of the entry and of its prepared answer
        await stats.reset()
        await post(http, gateway, {"query": NAMED})
        assert responses.answered_early == 2
        assert await stats.requests() == 1


async def test_a_prepared_answer_is_per_principal_and_media_type(served, http, stats):
    viewer = "{ viewer { databaseId } }"
    for _ in range(3):
        await post(http, served, {"query": viewer})
    responses = responses_of(served)
    assert responses.answered_early == 2
    await stats.reset()
    # The same request bytes from another principal: its own execution, its own data.
    read_only = await post(http, served, {"query": viewer}, {"X-API-Key": READ_KEY})
    assert await stats.requests() == 1
    assert responses.answered_early == 2
    full = await post(http, served, {"query": viewer})  # aiohttp's Accept: */*
    assert orjson.loads(read_only[2])["data"] != orjson.loads(full[2])["data"]
    # Another media type: the same kept data, under its own content type.
    graphql_response = "application/graphql-response+json"
    newer = await post(http, served, {"query": viewer}, {"Accept": graphql_response})
    assert newer[1]["content-type"] == f"{graphql_response}; charset=utf-8"
    assert full[1]["content-type"] == "application/json; charset=utf-8"
    assert newer[2] == full[2]
    assert responses.answered_early == 4
