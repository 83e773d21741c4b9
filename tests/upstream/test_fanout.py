"""One level of a nested query goes upstream at once: nothing serialises its calls.

A proxy between the gateway and the sim holds every member-list request until all
25 of the query's member lists have arrived (or a few seconds have passed), and
counts how many were in flight together. A limit anywhere on the way (a semaphore,
a connection pool or per-host limit, a rate-budget spacing) would keep that count
below 25 and the lists would only arrive after the wait. Counts, not timings.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from restloom.config import Settings
from restloom.sim.server import SimServer
from tests.conftest import FULL_KEY, TEST_DATASET
from tests.recording_proxy import RecordingProxy
from tests.support import GatewayServer, GraphQLClient

ORGANIZATIONS = 25
NESTED = (
    "{ organizations(first: 25) { edges { node { id name members(first: 10) "
    "{ edges { role node { id email } } } } } } }"
)
# Long enough for any serialised call to show, short enough not to stall a failing run.
PATIENCE = 5.0


class LevelProxy(RecordingProxy):
    """Holds member-list requests until `expected` of them are in flight together."""

    def __init__(self, target: str, expected: int) -> None:
        super().__init__(target)
        self.expected = expected
        self.in_flight = 0
        self.most_in_flight = 0
        self.users_sent_while_members_in_flight = 0
        self._all_arrived = asyncio.Event()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        if request.path.endswith("/users") and self.in_flight:
            self.users_sent_while_members_in_flight += 1
        if not request.path.endswith("/members"):
            return await super()._forward(request)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        if self.in_flight >= self.expected:
            self._all_arrived.set()
        # A limit held some back: after the wait the rest go through, and the count tells.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._all_arrived.wait(), PATIENCE)
        try:
            return await super()._forward(request)
        finally:
            self.in_flight -= 1


@pytest.fixture
async def level_proxy(sim: SimServer) -> AsyncIterator[LevelProxy]:
    async with LevelProxy(sim.url, ORGANIZATIONS) as proxy:
        yield proxy


async def test_member_lists_of_one_query_are_in_flight_together(
    level_proxy: LevelProxy,
    sim: SimServer,
    gateway_settings: Settings,
    http: aiohttp.ClientSession,
) -> None:
    upstream = str(gateway_settings.upstream_url).replace(sim.url, level_proxy.url)
    settings = gateway_settings.model_copy(update={"upstream_url": upstream})
    async with GatewayServer(settings) as gateway:
        client = GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})
        reply = await client.send(NESTED)
    # Every member list was sent before any of them was answered...
    assert level_proxy.most_in_flight == ORGANIZATIONS
    assert not reply.errors, reply.errors
    edges = reply.data["organizations"]["edges"]
    assert len(edges) == ORGANIZATIONS
    assert all(edge["node"]["members"]["edges"] for edge in edges)
    members = [s for s in level_proxy.api_requests() if s.path.endswith("/members")]
    users = [s for s in level_proxy.api_requests() if s.path.endswith("/users")]
    assert len(members) == ORGANIZATIONS
    # ...and their users went in one batch after the last of them (split only by the
    # upstream's largest page), never a batch per list.
    assert level_proxy.users_sent_while_members_in_flight == 0
    assert 1 <= len(users) <= 3


class StaggeredProxy(RecordingProxy):
    """Answers member lists one at a time, `STAGGER` apart, in the order they came, and
    notes how many lists were still unanswered when each user batch lookup arrived."""

    STAGGER = 0.03

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.unanswered = 0
        self.arrived = 0
        self.user_lookups: list[tuple[int, int]] = []  # (ids asked for, lists unanswered)

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        if request.path.endswith("/users"):
            ids = [i for v in request.query.getall("filter[id]", []) for i in v.split(",")]
            self.user_lookups.append((len(ids), self.unanswered))
            return await super()._forward(request)
        if not request.path.endswith("/members"):
            return await super()._forward(request)
        self.unanswered += 1
        self.arrived += 1
        await asyncio.sleep(self.STAGGER * self.arrived)
        try:
            return await super()._forward(request)
        finally:
            self.unanswered -= 1


# More users than one batch lookup holds, so the members' users need two.
@pytest.mark.parametrize("sim_config", [dataclasses.replace(TEST_DATASET, users=1000)])
async def test_member_users_go_in_full_batches_while_lists_still_travel(
    sim: SimServer, gateway_settings: Settings, http: aiohttp.ClientSession
) -> None:
    async with StaggeredProxy(sim.url) as proxy:
        upstream = str(gateway_settings.upstream_url).replace(sim.url, proxy.url)
        settings = gateway_settings.model_copy(update={"upstream_url": upstream})
        async with GatewayServer(settings) as gateway:
            client = GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})
            reply = await client.send(NESTED.replace("members(first: 10)", "members(first: 40)"))
    assert not reply.errors, reply.errors
    edges = reply.data["organizations"]["edges"]
    users = {m["node"]["id"] for e in edges for m in e["node"]["members"]["edges"]}
    assert all(m["node"] for e in edges for m in e["node"]["members"]["edges"])
    chunk = 100  # the sim's largest page, and so its largest batch lookup
    assert len(users) > chunk, "the test needs more than one batch of users"
    # As few lookups as the users need, every id asked for once...
    assert len(proxy.user_lookups) == -(-len(users) // chunk)
    assert sum(asked for asked, _ in proxy.user_lookups) == len(users)
    # ...the full ones sent while later lists were still out, the rest after the last.
    early = [asked for asked, unanswered in proxy.user_lookups if unanswered]
    assert early and all(asked == chunk for asked in early)
    assert proxy.user_lookups[-1] == (len(users) % chunk or chunk, 0)
