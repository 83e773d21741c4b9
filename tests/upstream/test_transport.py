"""The HTTP contract with the upstream: JSON writes, the sim's strictness about them, the
per-request call cap, strict Retry-After parsing and what a refused redirect logs."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import aiohttp
import orjson
import pytest

from restloom.config import Settings
from restloom.sim import SimConfig, SimServer
from restloom.upstream.api import ListQuery, fetch_page
from restloom.upstream.client import Caller, UpstreamClient, create_session
from restloom.upstream.credentials import Credential, CredentialKind
from restloom.upstream.errors import FailureKind, UpstreamError
from restloom.upstream.profile import BUILTIN_PROFILES
from restloom.upstream.ratelimit import MemoryBudget
from restloom.upstream.retry import max_read_attempts, retry_after
from tests.support import GatewayServer, GraphQLClient
from tests.upstream.hostile import HostileUpstream, Recorder

KEY = "transport-test-key"
SIM_KEY = SimConfig().full_key
CREATE = """mutation($input: CreateContactInput!) {
  createContact(input: $input) { contact { databaseId email } } }"""


@pytest.fixture
async def upstream() -> AsyncIterator[HostileUpstream]:
    async with HostileUpstream() as server:
        yield server


# ------------------------------------------------------------------ writes are JSON


async def test_every_call_accepts_json_and_every_body_is_labelled_json(
    upstream: HostileUpstream, http: aiohttp.ClientSession
) -> None:
    async with GatewayServer(Settings(upstream_url=upstream.url)) as gateway:
        client = GraphQLClient(http, gateway.url, {"X-API-Key": KEY})
        variables = {"input": {"firstName": "Eve", "lastName": "Ng", "email": "eve@example.com"}}
        reply = await client.send(CREATE, variables)
        assert not reply.errors, reply.errors
        reply = await client.send("{ contacts(first: 1) { totalCount } }")
        assert not reply.errors, reply.errors
    seen = upstream.counters.seen
    assert {s.method for s in seen} >= {"GET", "POST"}
    for request in seen:
        assert request.headers["Accept"] == "application/json"
        if request.body:
            assert request.headers["Content-Type"] == "application/json"
    post = next(s for s in seen if s.method == "POST")
    assert orjson.loads(post.body) == {
        "first_name": "Eve",
        "last_name": "Ng",
        "email": "eve@example.com",
    }


def _sim_auth(style: str, key: str) -> dict[str, str]:
    if style == "moco":
        return {"Authorization": f"Token token={key}"}
    if style == "template":
        return {"Authorization": "Basic " + base64.b64encode(f"{key}:x".encode()).decode()}
    return {"X-API-Key": key}


# Each style's error body, as its documents show it.
_ERROR_SHAPES = {
    "mossdesk": lambda body: body["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE",
    "moco": lambda body: "media type" in body["message"],
    "template": lambda body: body["error"] == "unsupported_media_type",
}


@pytest.mark.parametrize("style", ["mossdesk", "moco", "template"])
async def test_the_sim_refuses_a_write_body_that_is_not_labelled_json(
    http: aiohttp.ClientSession, style: str
) -> None:
    config = SimConfig(style=style, contacts=5, resources=5, users=5, organizations=2, webhooks=1)
    async with SimServer(config) as sim:
        url = sim.api_url + "/contacts"
        body = orjson.dumps({"first_name": "Eve", "last_name": "Ng", "email": "eve@example.com"})
        auth = _sim_auth(style, config.full_key)

        async def post(content_type: str | None) -> tuple[int, Any]:
            headers = dict(auth)
            if content_type is not None:
                headers["Content-Type"] = content_type
            async with http.post(url, data=body, headers=headers) as resp:
                return resp.status, await resp.json(content_type=None)

        for refused in (None, "application/octet-stream", "application/jsonx", "text/json"):
            status, answer = await post(refused)
            assert status == 415, (refused, answer)
            assert _ERROR_SHAPES[style](answer), answer
        status, answer = await post("application/json; charset=utf-8")
        assert status == 201, answer
        async with http.get(url, headers=auth) as resp:
            listed = await resp.json()
    created = listed if style == "moco" else listed["data"]
    assert len(created) == 6  # only the one labelled application/json was stored


# ------------------------------------------------------------------ the call cap


async def test_the_request_cap_refuses_the_call_past_it_unsent() -> None:
    config = SimConfig(contacts=30, resources=5, users=5, organizations=2, webhooks=1)
    async with SimServer(config) as sim:
        session = create_session(10, 2.0)
        try:
            client = UpstreamClient(session, sim.url, BUILTIN_PROFILES["mossdesk"])
            caller = Caller(Credential(CredentialKind.API_KEY, config.full_key), "cap-test")
            exchange = client.exchange(caller)
            exchange.max_requests = 2
            contacts = ListQuery.build("contacts")
            assert len((await fetch_page(exchange, contacts, 1, 5)).items) == 5
            assert len((await fetch_page(exchange, contacts, 2, 5)).items) == 5
            with pytest.raises(UpstreamError) as refused:
                await fetch_page(exchange, contacts, 3, 5)
            assert refused.value.kind is FailureKind.TOO_MANY_REQUESTS
            assert exchange.stats.requests == 2
            async with session.get(sim.url + "/__sim/stats") as resp:
                assert (await resp.json())["requests"] == 2
        finally:
            await session.close()


@pytest.mark.parametrize("read_retries", [0, 2])
async def test_max_read_attempts_is_what_one_get_can_really_send(
    upstream: HostileUpstream, read_retries: int
) -> None:
    # The worst case of the read policy: a 429 waited out, then 503 after 503.
    session = create_session(10, 2.0)
    try:
        client = UpstreamClient(
            session, upstream.url, BUILTIN_PROFILES["mossdesk"], read_retries=read_retries
        )
        caller = Caller(Credential(CredentialKind.API_KEY, KEY), "attempts-test")
        # Capped at exactly that many, or not capped at all: the same calls, the same 503.
        for cap in (max_read_attempts(read_retries), None):
            upstream.set("429", retry_after="0", times=1, then="status", status=503)
            before = upstream.requests()
            exchange = client.exchange(caller)
            exchange.max_requests = cap
            with pytest.raises(UpstreamError) as failed:
                await exchange.get("/api/v1/users/me")
            assert failed.value.status == 503
            assert upstream.requests() - before == max_read_attempts(read_retries)
        upstream.set("429", retry_after="0", times=1, then="status", status=503)
        exchange = client.exchange(caller)
        exchange.max_requests = max_read_attempts(read_retries) - 1
        with pytest.raises(UpstreamError) as capped:
            await exchange.get("/api/v1/users/me")
        assert capped.value.kind is FailureKind.TOO_MANY_REQUESTS
    finally:
        await session.close()


# ------------------------------------------------------------------ Retry-After

NOW = 1_800_000_000.0  # a fixed "now" (2027-01-15) for the parser


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "0"}, 0.0),
        ({"Retry-After": "7"}, 7.0),
        ({"Retry-After": " 30 "}, 30.0),
        ({"retry-after": "100000"}, 60.0),  # capped
        ({"Retry-After": "999999999999"}, 60.0),
        ({"Retry-After": format_datetime(datetime.fromtimestamp(NOW + 20, UTC), True)}, 20.0),
        ({"Retry-After": format_datetime(datetime.fromtimestamp(NOW - 20, UTC), True)}, 0.0),
        ({"Retry-After": format_datetime(datetime.fromtimestamp(NOW + 9e6, UTC), True)}, 60.0),
        ({"X-RateLimit-Reset": str(int(NOW) + 12)}, 12.0),  # a Unix time
        ({"X-RateLimit-Reset": "5"}, 5.0),  # seconds from now
        ({"Retry-After": "3", "X-RateLimit-Reset": "9"}, 3.0),  # Retry-After wins
        ({"Retry-After": "junk", "X-RateLimit-Reset": "9"}, 9.0),
    ],
)
def test_retry_after_reads_seconds_and_dates_capped(
    headers: dict[str, str], expected: float
) -> None:
    assert retry_after(headers, cap=60.0, now=NOW) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    "value",
    ["inf", "-inf", "nan", "-5", "1e9", "5.5", "+5", "0x10", "", "garbage", "٣", "5 s", "1,000"],
)
def test_retry_after_ignores_anything_else(value: str) -> None:
    assert retry_after({"Retry-After": value}, cap=60.0, now=NOW) is None
    assert retry_after({"X-RateLimit-Reset": value}, cap=60.0, now=NOW) is None


# ------------------------------------------------------------------ redirect logging


async def test_a_refused_redirect_logs_the_targets_origin_only(
    upstream: HostileUpstream, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    async with Recorder() as recorder:
        upstream.set("redirect302", redirect_to=recorder.url + "/secret-path?token=s3cr3t&x=")
        async with GatewayServer(Settings(upstream_url=upstream.url)) as gateway:
            client = GraphQLClient(http, gateway.url, {"X-API-Key": KEY})
            with caplog.at_level("WARNING", logger="restloom.upstream"):
                reply = await client.send("{ contacts(first: 1) { totalCount } }")
    assert reply.codes() == ["UPSTREAM_REDIRECT"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert recorder.url in logged
    assert "secret-path" not in logged and "s3cr3t" not in logged
    assert "secret" not in str(reply.body)
    assert recorder.seen == []


# ------------------------------------------------------------------ the 429 hold-off


@pytest.mark.parametrize(
    ("asked", "held"),
    [(100000.0, 60.0), (float("inf"), 1.0), (float("nan"), 1.0), (-5.0, 1.0), (3.0, 3.0)],
)
async def test_the_budgets_hold_off_after_a_429_is_bounded(asked: float, held: float) -> None:
    budget = MemoryBudget(interval=0.001)
    await budget.hold_off("key", asked)
    turn = await budget.reserve("key", max_wait=10_000)
    assert turn.granted
    assert turn.wait == pytest.approx(held, abs=0.05)
