"""The gateway in front of a misbehaving upstream: each bad answer is a coded error, never data.

A real gateway (uvicorn on loopback) talks to `HostileUpstream` (aiohttp on
loopback). Each test asserts the client's `extensions.code`, that the answer is
HTTP 200 with errors (not a 500), how many requests reached the upstream, and,
for the read modes, that nothing was cached: with `cache_ttl = 60` the next
query still reaches the upstream.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from restloom.config import Settings
from tests.support import GatewayServer, GraphQLClient, Reply
from tests.upstream.hostile import HostileUpstream, Recorder

KEY = "hostile-test-key"
CONTACTS = "{ contacts(first: 2) { totalCount nodes { databaseId firstName } } }"
CREATE = """mutation($input: CreateContactInput!) {
  createContact(input: $input) { contact { databaseId email } } }"""
NEW_CONTACT = {"input": {"firstName": "Eve", "email": "eve@example.com"}}
MB = 1024 * 1024


@pytest.fixture
async def upstream() -> AsyncIterator[HostileUpstream]:
    async with HostileUpstream() as server:
        yield server


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    async with Recorder() as server:
        yield server


def settings_for(upstream: HostileUpstream, **overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "upstream_url": upstream.url,
        "cache_ttl": 60,
        "read_retries": 0,
        "upstream_timeout": 2,
    }
    return Settings(**{**base, **overrides})


async def query(client: GraphQLClient, text: str, variables: Any = None, **headers: str) -> Reply:
    reply = await client.send(text, variables, headers=headers or None)
    assert reply.status == 200, reply.body  # a broken upstream is never a gateway 500
    return reply


def only_error(reply: Reply) -> dict[str, Any]:
    assert len(reply.errors) == 1, reply.errors
    return reply.errors[0]


@pytest.fixture
async def gateway_client(
    upstream: HostileUpstream, http: aiohttp.ClientSession
) -> AsyncIterator[GraphQLClient]:
    async with GatewayServer(settings_for(upstream)) as gateway:
        yield GraphQLClient(http, gateway.url, {"X-API-Key": KEY})


async def assert_not_cached(client: GraphQLClient, upstream: HostileUpstream) -> None:
    """The refused answer was not kept: the same query goes upstream again, and once the
    upstream behaves it is answered with real data."""
    before = upstream.requests()
    reply = await query(client, CONTACTS)
    assert upstream.requests() == before + 1
    assert reply.errors, "the mode still applies: still an error, not a cached empty list"
    upstream.set("ok")
    reply = await query(client, CONTACTS)
    assert not reply.errors, reply.errors
    assert reply.data["contacts"]["totalCount"] == 3
    assert upstream.requests() == before + 2


@pytest.mark.parametrize("mode", ["html", "truncated"])
async def test_a_2xx_that_is_not_json_is_invalid_and_never_cached(
    gateway_client: GraphQLClient, upstream: HostileUpstream, mode: str
) -> None:
    upstream.set(mode)
    reply = await query(gateway_client, CONTACTS, **{"X-Request-Id": f"trace-{mode}"})
    error = only_error(reply)
    assert error["extensions"]["code"] == "UPSTREAM_INVALID_RESPONSE"
    assert error["extensions"]["status"] == 200
    assert error["extensions"]["requestId"] == f"trace-{mode}"
    assert reply.data == {"contacts": None}  # not totalCount 0 and an empty list
    assert upstream.requests() == 1  # not retried: the upstream answered
    await assert_not_cached(gateway_client, upstream)


@pytest.mark.parametrize("mode", ["data_object", "total_lots", "total_negative", "no_id"])
async def test_a_page_of_the_wrong_shape_is_invalid_and_never_cached(
    gateway_client: GraphQLClient, upstream: HostileUpstream, mode: str
) -> None:
    # The shape checks themselves are the profile's (pages.py / api.py, `Exchange.get(check=)`).
    upstream.set(mode)
    reply = await query(gateway_client, CONTACTS)
    assert only_error(reply)["extensions"]["code"] == "UPSTREAM_INVALID_RESPONSE"
    assert reply.data == {"contacts": None}
    await assert_not_cached(gateway_client, upstream)


async def test_invalid_json_is_logged_with_a_short_printable_excerpt(
    gateway_client: GraphQLClient, upstream: HostileUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    upstream.set("html")
    with caplog.at_level("WARNING", logger="restloom.upstream"):
        await query(gateway_client, CONTACTS, **{"X-Request-Id": "trace-excerpt"})
    lines = [r.getMessage() for r in caplog.records if "trace-excerpt" in r.getMessage()]
    assert len(lines) == 1, lines
    excerpt = lines[0].split("): ", 1)[1]
    assert excerpt.startswith("<html><body><h1>Welcome to nginx!</h1>")
    assert len(excerpt) <= 200
    assert all(" " <= c <= "~" for c in excerpt)  # the newline and the escape became "?"


async def test_a_write_answered_with_html_is_invalid(
    gateway_client: GraphQLClient, upstream: HostileUpstream
) -> None:
    upstream.set("html")
    reply = await query(gateway_client, CREATE, NEW_CONTACT)
    assert only_error(reply)["extensions"]["code"] == "UPSTREAM_INVALID_RESPONSE"
    assert reply.data == {"createContact": None}


async def test_an_empty_204_to_a_delete_is_fine(
    gateway_client: GraphQLClient, upstream: HostileUpstream
) -> None:
    reply = await query(
        gateway_client,
        'mutation { deleteContact(input: {id: "cnt_hostile1"}) { deletedDatabaseId } }',
    )
    assert not reply.errors, reply.errors
    assert reply.data["deleteContact"]["deletedDatabaseId"] == "cnt_hostile1"
    assert any(s.method == "DELETE" for s in upstream.counters.seen)


async def test_a_delete_answered_with_text_still_succeeded(
    gateway_client: GraphQLClient, upstream: HostileUpstream
) -> None:
    # The delete happened; a body nobody reads must not make it look failed (and repeated).
    upstream.set("text_ok")
    reply = await query(
        gateway_client,
        'mutation { deleteContact(input: {id: "cnt_hostile1"}) { deletedDatabaseId } }',
    )
    assert not reply.errors, reply.errors


async def test_a_write_with_an_unreadable_answer_still_invalidates_the_cache(
    gateway_client: GraphQLClient, upstream: HostileUpstream
) -> None:
    assert not (await query(gateway_client, CONTACTS)).errors
    cached = await query(gateway_client, CONTACTS)
    assert cached.body["extensions"]["upstream"]["requests"] == 0  # served from the cache
    upstream.set("html", times=1)  # the POST: a 2xx whose body is HTML, the write done
    reply = await query(gateway_client, CREATE, NEW_CONTACT)
    assert only_error(reply)["extensions"]["code"] == "UPSTREAM_INVALID_RESPONSE"
    after = await query(gateway_client, CONTACTS)
    assert not after.errors, after.errors
    assert after.body["extensions"]["upstream"]["requests"] == 1  # the cache forgot the list


@pytest.mark.parametrize("mode", ["huge", "huge_declared"])
async def test_a_body_over_the_cap_is_too_large_and_the_connection_dropped(
    upstream: HostileUpstream, http: aiohttp.ClientSession, mode: str
) -> None:
    upstream.set(mode, huge_bytes=50 * MB)
    settings = settings_for(upstream, max_upstream_body_bytes=1 * MB)
    async with GatewayServer(settings) as gateway:
        client = GraphQLClient(http, gateway.url, {"X-API-Key": KEY})
        reply = await query(client, CONTACTS)
        error = only_error(reply)
        assert error["extensions"]["code"] == "UPSTREAM_RESPONSE_TOO_LARGE"
        assert error["extensions"]["status"] == 200
        assert upstream.requests() == 1
        # The gateway hung up instead of reading 50 MB: the upstream never got to finish.
        assert upstream.counters.finished_huge == 0
        await assert_not_cached(client, upstream)


def _memory_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/self/status")


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
async def test_a_gzip_bomb_stops_at_the_cap_with_memory_bounded(
    gateway_client: GraphQLClient, upstream: HostileUpstream
) -> None:
    # 200 MB of zeros in ~200 KB of gzip, under the 10 MB default cap on the wire.
    upstream.set("gzip_bomb", bomb_bytes=200 * MB)
    rss_before = _memory_kib("VmRSS")
    peak_before = _memory_kib("VmHWM")
    reply = await query(gateway_client, CONTACTS)
    assert only_error(reply)["extensions"]["code"] == "UPSTREAM_RESPONSE_TOO_LARGE"
    # The gateway runs in this process: its peak may not rise by more than a bounded
    # amount over where it stood (the cap is 10 MB; the bomb expands to 200 MB).
    peak_after = _memory_kib("VmHWM")
    assert peak_after <= max(peak_before, rss_before + 100 * 1024), (rss_before, peak_after)
    await assert_not_cached(gateway_client, upstream)


@pytest.mark.parametrize("status", [302, 307])
async def test_a_redirect_is_never_followed_and_nothing_reaches_its_target(
    gateway_client: GraphQLClient, upstream: HostileUpstream, recorder: Recorder, status: int
) -> None:
    upstream.set(f"redirect{status}", redirect_to=recorder.url)
    read = await query(gateway_client, CONTACTS)
    error = only_error(read)
    assert error["extensions"]["code"] == "UPSTREAM_REDIRECT"
    assert error["extensions"]["status"] == status
    write = await query(gateway_client, CREATE, NEW_CONTACT, **{"Idempotency-Key": "idem-1"})
    assert only_error(write)["extensions"]["code"] == "UPSTREAM_REDIRECT"
    # The redirect target saw nothing at all: no key, no idempotency key, no body.
    assert recorder.seen == []
    # The upstream itself did get both, with the body as JSON.
    assert upstream.requests() == 2
    post = upstream.last()
    assert post.method == "POST"
    assert post.headers["X-API-Key"] == KEY
    assert post.headers["Idempotency-Key"].startswith("idem-1")
    assert post.headers["Content-Type"] == "application/json"
    await assert_not_cached(gateway_client, upstream)


async def test_a_body_dripping_past_the_timeout_is_upstream_timeout(
    upstream: HostileUpstream, http: aiohttp.ClientSession
) -> None:
    upstream.set("slow_body", drip_seconds=5)
    settings = settings_for(upstream, upstream_timeout=0.5)
    async with GatewayServer(settings) as gateway:
        client = GraphQLClient(http, gateway.url, {"X-API-Key": KEY})
        reply = await query(client, CONTACTS)
    assert only_error(reply)["extensions"]["code"] == "UPSTREAM_TIMEOUT"
    assert upstream.requests() == 1
    # Bytes kept coming (the socket never idled), and still the call ended.
    assert upstream.counters.dripped_bytes > 0


async def test_an_absurd_retry_after_is_capped_so_the_retry_still_happens(
    upstream: HostileUpstream, http: aiohttp.ClientSession
) -> None:
    # Uncapped, 100000 s is past the deadline and the 429 would be the answer; capped at
    # max_retry_after (0.5 s) it is waited out, by this call and by the shared budget.
    upstream.set("429", retry_after="100000", times=1)
    settings = settings_for(
        upstream,
        max_retry_after=0.5,
        request_deadline=5,
        rate_limit={"requests": 100, "per_seconds": 1},
    )
    async with GatewayServer(settings) as gateway:
        client = GraphQLClient(http, gateway.url, {"X-API-Key": KEY})
        reply = await query(client, CONTACTS)
        assert not reply.errors, reply.errors
        assert upstream.requests() == 2
        assert reply.body["extensions"]["upstream"]["retries"] == 1
        # The credential is not parked: the next request goes straight through.
        again = await query(client, "{ viewer { databaseId } }")
        assert not again.errors, again.errors
        assert upstream.requests() == 3


@pytest.mark.parametrize("value", ["inf", "nan", "-5", "1e9", "garbage", "5.5", "0x10"])
async def test_a_retry_after_that_is_not_seconds_or_a_date_is_ignored(
    upstream: HostileUpstream, http: aiohttp.ClientSession, value: str
) -> None:
    upstream.set("429", retry_after=value)
    # A deadline shorter than the default 1 s wait for a 429 that names no time: one call.
    settings = settings_for(upstream, request_deadline=0.9)
    async with GatewayServer(settings) as gateway:
        client = GraphQLClient(http, gateway.url, {"X-API-Key": KEY})
        reply = await query(client, CONTACTS)
    error = only_error(reply)
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["status"] == 429
    assert "retryAfter" not in error["extensions"]  # the header was not believed
    assert upstream.requests() == 1


async def test_a_huge_retry_after_is_reported_capped(
    upstream: HostileUpstream, http: aiohttp.ClientSession
) -> None:
    upstream.set("429", retry_after="100000")
    settings = settings_for(upstream, max_retry_after=2, request_deadline=1)
    async with GatewayServer(settings) as gateway:
        client = GraphQLClient(http, gateway.url, {"X-API-Key": KEY})
        reply = await query(client, CONTACTS)
    error = only_error(reply)
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["retryAfter"] == 2
    assert upstream.requests() == 1  # 2 s does not fit in the 1 s deadline: no retry


@pytest.mark.parametrize("status", [405, 406, 413, 415])
async def test_an_unmapped_4xx_is_upstream_rejected_with_its_status(
    gateway_client: GraphQLClient, upstream: HostileUpstream, status: int
) -> None:
    upstream.set("status", status=status)
    reply = await query(gateway_client, CREATE, NEW_CONTACT)
    error = only_error(reply)
    assert error["extensions"]["code"] == "UPSTREAM_REJECTED"
    assert error["extensions"]["status"] == status
    assert upstream.requests() == 1
