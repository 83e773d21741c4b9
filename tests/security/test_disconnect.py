"""A client that leaves stops its work (issue 8, item 5).

A real gateway under uvicorn, over the sim with 300 ms of latency. The query needs
three sequential levels upstream: the organizations, then their member lists, then
one batch lookup of the members' users. The member-list calls are held by the sim
(a `timeout` fault: the sim answers after a few seconds unless the caller hangs up,
in which case it drops the request and never records a status). The client sends
the query over a raw socket and closes it once the sim has received the member-list
calls. Afterwards the sim's counters show that those calls were dropped by the
gateway and that the users lookup was never sent; the same query from a client that
stays gets all three levels.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import aiohttp
import orjson
import pytest

from restloom.config import Settings
from restloom.sim.server import SimServer
from tests.conftest import FULL_KEY, TEST_DATASET
from tests.support import GatewayServer, GraphQLClient, SimStats

QUERY = "{ organizations(first: 5) { nodes { name members(first: 10) { nodes { email } } } } }"
MEMBERS = "GET /organizations/{id}/members"
HOLD = 2.0  # seconds the sim holds each member-list call (the `timeout` fault)


@dataclasses.dataclass
class Stack:
    http: aiohttp.ClientSession
    sim: SimServer
    gateway: GatewayServer
    stats: SimStats

    async def arm_held_member_calls(self) -> None:
        fault = {
            "mode": "timeout",
            "count": 5,
            "method": "GET",
            "path_prefix": "/api/v1/organizations/",
            "seconds": HOLD,
        }
        async with self.http.post(self.sim.url + "/__sim/faults", json=fault) as resp:
            assert resp.status in (200, 201), await resp.text()
        async with self.http.delete(self.sim.url + "/__sim/requests") as resp:
            assert resp.status in (200, 204)
        await self.stats.reset()

    async def requests_log(self) -> list[dict[str, Any]]:
        async with self.http.get(self.sim.url + "/__sim/requests") as resp:
            return list((await resp.json())["requests"])

    async def wait_for_member_calls(self, count: int) -> None:
        for _ in range(500):  # 10 s at most
            if (await self.stats.read())["by_route"].get(MEMBERS, 0) >= count:
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"the sim never received {count} member-list calls")


@pytest.fixture
async def slow_stack(http: aiohttp.ClientSession) -> AsyncIterator[Stack]:
    config = dataclasses.replace(TEST_DATASET, latency_ms=300)
    async with SimServer(config) as sim, GatewayServer(Settings(upstream_url=sim.url)) as gateway:
        yield Stack(http, sim, gateway, SimStats(http, sim.url))


async def send_and_leave(gateway_url: str, stack: Stack, method: str = "POST") -> None:
    """Send the query over a raw socket, and close it once the member calls are out."""
    host, port = gateway_url.removeprefix("http://").split(":")
    if method == "POST":
        body = orjson.dumps({"query": QUERY})
        head = (
            f"POST /graphql HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Content-Type: application/json\r\nX-API-Key: {FULL_KEY}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
    else:  # a GET has no body: the watch starts at once
        body, target = b"", "/graphql?" + urlencode({"query": QUERY})
        head = (
            f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Accept: application/json\r\nX-API-Key: {FULL_KEY}\r\n\r\n"
        )
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(head.encode() + body)
    await writer.drain()
    await stack.wait_for_member_calls(5)
    writer.close()
    await writer.wait_closed()
    assert await reader.read() == b"", "no answer was written before the client left"


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_a_client_that_leaves_stops_its_upstream_work(slow_stack: Stack, method: str):
    await slow_stack.arm_held_member_calls()
    await send_and_leave(slow_stack.gateway.url, slow_stack, method)
    # Give the sim the time it would need to answer the held calls, and the gateway
    # the time it would need to send the users lookup after them.
    await asyncio.sleep(HOLD + 1.0)
    stats = await slow_stack.stats.read()
    # Level one and the five held member lists; never the users lookup.
    assert stats["by_route"] == {"GET /organizations": 1, MEMBERS: 5}
    assert stats["requests"] == 6
    # The held calls were dropped by the gateway (the sim records no status for them),
    # the first level was answered before the client left.
    log = await slow_stack.requests_log()
    statuses = {(e["route"], e["status"]) for e in log}
    assert statuses == {("/organizations", 200), ("/organizations/{id}/members", None)}
    assert stats["status"] == {"200": 1}


async def test_a_client_that_stays_gets_every_level(slow_stack: Stack):
    """The control: the same query and faults, and the client waits for its answer."""
    await slow_stack.arm_held_member_calls()
    client = GraphQLClient(slow_stack.http, slow_stack.gateway.url, {"X-API-Key": FULL_KEY})
    data = await client.data(QUERY)
    assert len(data["organizations"]["nodes"]) == 5
    stats = await slow_stack.stats.read()
    assert stats["by_route"] == {"GET /organizations": 1, MEMBERS: 5, "GET /users": 1}
    log = await slow_stack.requests_log()
    assert all(e["status"] == 200 for e in log)


async def test_the_gateway_serves_the_next_request_after_a_client_left(slow_stack: Stack):
    await slow_stack.arm_held_member_calls()
    await send_and_leave(slow_stack.gateway.url, slow_stack)
    client = GraphQLClient(slow_stack.http, slow_stack.gateway.url, {"X-API-Key": FULL_KEY})
    viewer = await client.data("{ viewer { email } }")
    assert viewer["viewer"]["email"]
