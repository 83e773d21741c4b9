"""Concurrent misses of one key: one upstream call per instance, counted by the sim.

Each query below is its own GraphQL request (its own HTTP call), so the sharing
shown here is across requests, not the per-request coalescing of identical GETs.
"""

import asyncio
import uuid
from dataclasses import replace

import pytest

from restloom.config import Settings
from restloom.sim.server import SimServer
from restloom.upstream.cachedread import says_the_upstream
from restloom.upstream.errors import FailureKind, UpstreamError
from restloom.upstream.singleflight import SingleFlight
from tests.conftest import FULL_KEY, TEST_DATASET
from tests.support import GatewayServer, GraphQLClient

CLIENTS = 20
CONTACTS = "{ contacts(first: 10) { totalCount nodes { id firstName } } }"
RENAME = "mutation($i: UpdateContactInput!) { updateContact(input: $i) { contact { id } } }"

# Long enough that the 20 requests of a wave all arrive while the first one's
# upstream call is still out (the counts hold either way: a late one is a cache hit).
SLOW = replace(TEST_DATASET, latency_ms=200)


@pytest.fixture
def sim_config():
    return SLOW


def settings_for(sim: SimServer, **extra) -> Settings:
    return Settings(upstream_url=sim.url, cursor_secret="test-cursor-secret", **extra)


async def wave(clients: list[GraphQLClient]) -> list[dict]:
    replies = await asyncio.gather(
        *(clients[i % len(clients)].send(CONTACTS) for i in range(CLIENTS))
    )
    assert all(not r.errors for r in replies), [r.errors for r in replies if r.errors]
    assert len({str(r.data) for r in replies}) == 1
    return [r.body["extensions"]["upstream"] for r in replies]


async def test_concurrent_misses_through_one_gateway_make_one_upstream_call(sim, http, stats):
    async with GatewayServer(settings_for(sim, cache_ttl=60)) as gateway:
        client = GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})
        await stats.reset()
        counted = await wave([client])
    assert (await stats.read())["by_route"] == {"GET /contacts": 1}
    assert sum(c["requests"] for c in counted) == 1
    # The other 19 shared the call in flight, or (arriving after it) hit the cache.
    assert sum(c["coalesced"] + c["cacheHits"] for c in counted) == CLIENTS - 1


async def test_two_gateways_on_one_redis_make_at_most_one_call_each(
    sim, http, stats, redis_url, redis_namespace
):
    settings = settings_for(sim, cache_ttl=60, redis_url=redis_url, redis_namespace=redis_namespace)
    async with GatewayServer(settings) as a, GatewayServer(settings) as b:
        clients = [GraphQLClient(http, g.url, {"X-API-Key": FULL_KEY}) for g in (a, b)]
        await stats.reset()
        await wave(clients)
    assert (await stats.read())["by_route"]["GET /contacts"] <= 2


async def test_each_wave_of_misses_after_a_write_makes_one_call(sim, http, stats):
    async with GatewayServer(settings_for(sim, cache_ttl=60)) as gateway:
        client = GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})
        target = (await client.data(CONTACTS))["contacts"]["nodes"][0]["id"]
        await stats.reset()
        waves = 4
        for _ in range(waves):
            # The write makes every cached contacts read stale: the next wave is all misses.
            await client.data(RENAME, {"i": {"id": target, "firstName": uuid.uuid4().hex[:8]}})
            await wave([client])
    assert (await stats.read())["by_route"]["GET /contacts"] == waves


async def test_each_wave_of_misses_after_an_expiry_makes_one_call(sim, http, stats):
    ttl = 2.0
    async with GatewayServer(settings_for(sim, cache_ttl=ttl)) as gateway:
        client = GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})
        await stats.reset()
        waves = 3
        for _ in range(waves):
            await wave([client])
            await asyncio.sleep(ttl + 0.2)  # the entry has expired when the next wave starts
    assert (await stats.read())["by_route"]["GET /contacts"] == waves


async def test_a_cancelled_leader_hands_over_instead_of_failing_its_followers():
    flights: SingleFlight[str] = SingleFlight()
    calls = 0
    release = asyncio.Event()

    async def fetch() -> str:
        nonlocal calls
        calls += 1
        await release.wait()
        return f"answer {calls}"

    leader = asyncio.create_task(flights.run("k", fetch))
    await asyncio.sleep(0)
    followers = [asyncio.create_task(flights.run("k", fetch)) for _ in range(5)]
    await asyncio.sleep(0)
    assert calls == 1 and len(flights) == 1
    leader.cancel()
    await asyncio.gather(leader, return_exceptions=True)
    await asyncio.sleep(0)
    assert calls == 2  # one follower took over; the others follow it
    release.set()
    results = await asyncio.gather(*followers)
    assert [r.value for r in results] == ["answer 2"] * 5
    assert sorted(r.shared for r in results) == [False] + [True] * 4
    assert len(flights) == 0


async def test_followers_get_the_leaders_error_without_another_call():
    flights: SingleFlight[str] = SingleFlight()
    calls = 0
    release = asyncio.Event()

    async def fetch() -> str:
        nonlocal calls
        calls += 1
        await release.wait()
        raise LookupError("upstream said no")

    tasks = [asyncio.create_task(flights.run("k", fetch)) for _ in range(3)]
    await asyncio.sleep(0)
    release.set()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert calls == 1
    assert all(isinstance(o, LookupError) for o in outcomes)


async def test_a_failure_of_the_leaders_own_request_is_not_passed_on():
    flights: SingleFlight[str] = SingleFlight()
    calls = 0
    release = asyncio.Event()

    async def fetch() -> str:
        nonlocal calls
        calls += 1
        await release.wait()
        await asyncio.sleep(0)  # as a real call would: the others queue up meanwhile
        if calls == 1:  # the leader's deadline ran out, not the upstream's fault
            raise UpstreamError(FailureKind.TIMEOUT, "deadline passed", "leader")
        return "answer"

    tasks = [
        asyncio.create_task(flights.run("k", fetch, shareable=says_the_upstream)) for _ in range(4)
    ]
    await asyncio.sleep(0)
    release.set()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(outcomes[0], UpstreamError)
    assert [o.value for o in outcomes[1:]] == ["answer"] * 3
    assert calls == 2


@pytest.mark.parametrize(
    ("kind", "status", "shared"),
    [
        (FailureKind.HTTP, 404, True),
        (FailureKind.HTTP, 429, True),
        (FailureKind.INVALID_RESPONSE, 200, True),
        (FailureKind.UNAVAILABLE, None, True),
        (FailureKind.TIMEOUT, None, False),
        (FailureKind.RATE_LIMITED, None, False),
        (FailureKind.TOO_MANY_REQUESTS, None, False),
    ],
)
def test_which_failures_followers_share(kind, status, shared):
    assert says_the_upstream(UpstreamError(kind, "m", "r", status=status)) is shared
