"""No caller can open the circuit breaker for everyone else (issue 8, item 7).

The breaker counts only timeouts, broken connections and 502/503/504: signs that
the upstream (or the proxy in front of it) is down. A 500 or a 4xx is the
upstream's answer to the request that drew it, and a body restloom refuses is
about that one answer; one caller sending requests that draw them must leave
every other caller served. The control test shows that the same harness does see
the breaker open when the upstream really fails.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from restloom.config import Settings
from restloom.sim.server import SimServer
from tests.conftest import FULL_KEY, READ_KEY
from tests.support import GatewayServer, GraphQLClient, SimStats
from tests.upstream.hostile import HostileUpstream

CONTACTS = "{ contacts(first: 2) { totalCount } }"
RESOURCES = "{ resources(first: 2) { totalCount } }"
FAILURES = 3  # breaker_failures: a burst of 20 is far past it


def breaker_settings(upstream_url: str) -> Settings:
    return Settings(
        upstream_url=upstream_url, read_retries=0, breaker_failures=FAILURES, breaker_cooldown=30
    )


async def arm(http: aiohttp.ClientSession, sim: SimServer, mode: str, count: int) -> None:
    fault = {"mode": mode, "count": count, "method": "GET", "path_prefix": "/api/v1/contacts"}
    async with http.post(sim.url + "/__sim/faults", json=fault) as resp:
        assert resp.status in (200, 201, 204), await resp.text()


async def breaker(http: aiohttp.ClientSession, gateway: GatewayServer) -> dict[str, Any]:
    async with http.get(gateway.url + "/readyz") as resp:
        upstream: dict[str, Any] = (await resp.json())["checks"]["upstream"]
        return upstream


async def test_a_burst_of_upstream_500s_from_one_caller_leaves_others_served(
    http: aiohttp.ClientSession, sim: SimServer, stats: SimStats
) -> None:
    async with GatewayServer(breaker_settings(sim.url)) as gateway:
        attacker = GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})
        other = GraphQLClient(http, gateway.url, {"X-API-Key": READ_KEY})
        await arm(http, sim, "error500", count=20)
        await stats.reset()
        # The attacker's 20 requests that the upstream answers 500, while another caller reads.
        replies = await asyncio.gather(
            *(attacker.send(CONTACTS) for _ in range(20)),
            *(other.send(RESOURCES) for _ in range(5)),
        )
        assert [r.codes() for r in replies[:20]] == [["UPSTREAM_ERROR"]] * 20
        assert [r.errors for r in replies[20:]] == [[]] * 5
        assert await stats.requests() == 25  # every call reached the upstream: none refused
        assert (await breaker(http, gateway))["breaker"] == "closed"
        # Afterwards the other caller reads the very list the attacker broke.
        reply = await other.send(CONTACTS)
        assert not reply.errors, reply.errors
        assert (await breaker(http, gateway))["consecutiveFailures"] == 0


async def test_a_burst_of_bad_ids_and_bad_arguments_does_not_count(
    http: aiohttp.ClientSession, sim: SimServer, stats: SimStats
) -> None:
    async with GatewayServer(breaker_settings(sim.url)) as gateway:
        attacker = GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})
        other = GraphQLClient(http, gateway.url, {"X-API-Key": READ_KEY})
        bad = [
            '{ contact(id: "cnt_doesnotexist") { email } }',
            'mutation { deleteContact(input: {id: "cnt_doesnotexist"}) { deletedId } }',
            '{ contacts(first: 1, search: "%00") { totalCount } }',
        ]
        replies = await asyncio.gather(*(attacker.send(q) for q in bad * 7))
        assert all(r.status == 200 and r.errors for r in replies[:2])
        reply = await other.send(CONTACTS)
        assert not reply.errors, reply.errors
        status = await breaker(http, gateway)
        assert status["breaker"] == "closed" and status["consecutiveFailures"] == 0


async def test_answers_restloom_refuses_do_not_count(http: aiohttp.ClientSession) -> None:
    async with HostileUpstream() as upstream:
        await _refused_answers_then_served(http, upstream)


async def _refused_answers_then_served(
    http: aiohttp.ClientSession, upstream: HostileUpstream
) -> None:
    async with GatewayServer(breaker_settings(upstream.url)) as gateway:
        attacker = GraphQLClient(http, gateway.url, {"X-API-Key": "caller-a"})
        other = GraphQLClient(http, gateway.url, {"X-API-Key": "caller-b"})
        for mode in ("html", "truncated", "redirect302", "status"):
            upstream.set(mode, times=FAILURES * 2, status=500, redirect_to="http://127.0.0.1:9")
            for _ in range(FAILURES * 2):
                assert (await attacker.send(CONTACTS)).errors
        before = upstream.requests()
        reply = await other.send(CONTACTS)
        assert not reply.errors, reply.errors
        assert upstream.requests() == before + 1
        assert (await breaker(http, gateway))["breaker"] == "closed"


async def test_control_an_upstream_that_is_down_does_open_it(
    http: aiohttp.ClientSession, sim: SimServer, stats: SimStats
) -> None:
    async with GatewayServer(breaker_settings(sim.url)) as gateway:
        client = GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})
        await arm(http, sim, "error502", count=FAILURES)
        for _ in range(FAILURES):
            assert (await client.send(CONTACTS)).codes() == ["UPSTREAM_UNAVAILABLE"]
        await stats.reset()
        assert (await client.send(RESOURCES)).codes() == ["UPSTREAM_UNAVAILABLE"]
        assert await stats.requests() == 0  # open: failed fast, nothing sent
        assert (await breaker(http, gateway))["breaker"] == "open"
