"""Organizational units through the gateway: per-request OU, no leaks, few switches.

A real sim (template style with OUs) and real gateways; which OU each contact belongs
to is read from the sim's own state, and switches from its stats.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import aiohttp
import pytest

from restloom.config import ConfigError, Settings
from restloom.sim.orgunits import OU_FIELD
from restloom.sim.server import SimServer
from tests.conftest import FULL_KEY, READ_KEY, TEST_DATASET
from tests.support import GatewayServer, GraphQLClient, SimStats

OU_SIM = dataclasses.replace(TEST_DATASET, style="template", org_units=3, rate_limit=0)
SWITCH = "POST /org-units/active"
CONTACTS = "{ contacts(first: 50) { totalCount nodes { databaseId } } }"
UNITS = "{ viewer { orgUnits { id name role } activeOrgUnit { id name } } }"


@pytest.fixture
async def ou_sim() -> AsyncIterator[SimServer]:
    async with SimServer(OU_SIM) as server:
        yield server


def settings_for(sim: SimServer, **extra: object) -> Settings:
    # The sim's rate limit is off: the gateway's budget need not space calls out either.
    return Settings(upstream_url=sim.url, profile="template", rate_limit="off", **extra)


def unit_of(sim: SimServer, contact_id: str) -> str:
    record = sim.state.data.get("contacts", contact_id)
    assert record is not None
    return str(record.hidden[OU_FIELD])


def units_in(sim: SimServer, data: dict) -> set[str]:
    return {unit_of(sim, n["databaseId"]) for n in data["contacts"]["nodes"]}


def scoped_total(sim: SimServer, unit: str) -> int:
    contacts = sim.state.data.collections["contacts"].values()
    return sum(1 for c in contacts if c.hidden[OU_FIELD] == unit)


async def switches(stats: SimStats) -> int:
    return int((await stats.read())["by_route"].get(SWITCH, 0))


async def test_viewer_lists_units_and_the_header_picks_one(ou_sim, http):
    async with GatewayServer(settings_for(ou_sim)) as gw:
        client = GraphQLClient(http, gw.url, {"X-API-Key": FULL_KEY})
        home = await client.data(UNITS)
        assert [u["id"] for u in home["viewer"]["orgUnits"]] == ["ou_1", "ou_2"]
        assert home["viewer"]["orgUnits"][0]["role"] == "admin"
        assert home["viewer"]["activeOrgUnit"]["id"] == "ou_1"

        picked = await client.data(UNITS, headers={"X-Org-Unit": "ou_2"})
        assert picked["viewer"]["activeOrgUnit"] == {"id": "ou_2", "name": "Sales"}

        for unit in ("ou_2", "ou_1", "ou_2"):
            data = await client.data(CONTACTS, headers={"X-Org-Unit": unit})
            assert units_in(ou_sim, data) == {unit}
            assert data["contacts"]["totalCount"] == scoped_total(ou_sim, unit)
        # Without the header: the home unit again (the one active before any switch).
        data = await client.data(CONTACTS)
        assert units_in(ou_sim, data) == {"ou_1"}


async def test_an_ou_without_a_role_is_forbidden_and_a_bad_header_is_refused(ou_sim, http):
    async with GatewayServer(settings_for(ou_sim)) as gw:
        client = GraphQLClient(http, gw.url, {"X-API-Key": FULL_KEY})
        denied = await client.send(CONTACTS, headers={"X-Org-Unit": "ou_3"})
        assert denied.codes() == ["FORBIDDEN"]
        assert denied.data == {"contacts": None}
        bad = await client.send(CONTACTS, headers={"X-Org-Unit": "../ou_1"})
        assert bad.codes() == ["BAD_USER_INPUT"]
        # The refused switch left the home unit active: no leak into the next request.
        data = await client.data(CONTACTS)
        assert units_in(ou_sim, data) == {"ou_1"}


async def test_no_switch_when_the_unit_is_already_active(ou_sim, http):
    stats = SimStats(http, ou_sim.url)
    async with GatewayServer(settings_for(ou_sim)) as gw:
        client = GraphQLClient(http, gw.url, {"X-API-Key": FULL_KEY})
        await client.data(CONTACTS)  # never pinned: no switch at all
        assert await switches(stats) == 0
        for _ in range(3):
            await client.data(CONTACTS, headers={"X-Org-Unit": "ou_2"})
        assert await switches(stats) == 1
        # Another credential has its own active unit on the upstream: its own switch.
        reader = GraphQLClient(http, gw.url, {"X-API-Key": READ_KEY})
        await reader.data(CONTACTS)
        assert await switches(stats) == 1


async def test_cache_keys_include_the_unit(ou_sim, http):
    stats = SimStats(http, ou_sim.url)
    async with GatewayServer(settings_for(ou_sim, cache_ttl=60)) as gw:
        client = GraphQLClient(http, gw.url, {"X-API-Key": FULL_KEY})
        first = {
            u: await client.data(CONTACTS, headers={"X-Org-Unit": u}) for u in ("ou_1", "ou_2")
        }
        await stats.reset()
        again = {
            u: await client.data(CONTACTS, headers={"X-Org-Unit": u}) for u in ("ou_1", "ou_2")
        }
        assert again == first
        assert units_in(ou_sim, again["ou_2"]) == {"ou_2"}
        assert (await stats.read())["by_route"].get("GET /contacts", 0) == 0


async def test_profiles_without_units_say_so(sim, http):
    async with GatewayServer(Settings(upstream_url=sim.url)) as gw:
        client = GraphQLClient(http, gw.url, {"X-API-Key": FULL_KEY})
        reply = await client.send(UNITS)
        assert reply.data == {"viewer": {"orgUnits": None, "activeOrgUnit": None}}
        assert reply.codes() == ["BAD_USER_INPUT", "BAD_USER_INPUT"]
        assert all("not supported by this upstream" in e["message"] for e in reply.errors)
        pinned = await client.send(CONTACTS, headers={"X-Org-Unit": "ou_1"})
        assert pinned.codes() == ["BAD_USER_INPUT"]
        assert "X-Org-Unit" in pinned.errors[0]["message"]


async def _concurrent_answers(clients: list[GraphQLClient], rounds: int) -> list[tuple[str, dict]]:
    async def one(i: int) -> tuple[str, dict]:
        unit = ("ou_1", "ou_2")[i % 2]
        client = clients[(i // 2) % len(clients)]
        return unit, await client.data(CONTACTS, headers={"X-Org-Unit": unit})

    return list(await asyncio.gather(*(one(i) for i in range(rounds))))


async def test_concurrent_requests_for_two_units_through_two_instances(
    ou_sim, http, redis_url, redis_namespace
):
    stats = SimStats(http, ou_sim.url)
    settings = settings_for(
        ou_sim, redis_url=redis_url, redis_namespace=redis_namespace, cursor_secret="ou-test"
    )
    # Every answer takes a while, so requests for the two units really overlap even when
    # a loaded machine spreads the 40 arrivals over a second or more (all of it runs on
    # this one loop): at 20 ms a CI run saw 11 switches, one per 100 ms group window.
    ou_sim.state.latency_ms = 100
    async with GatewayServer(settings) as a, GatewayServer(settings) as b:
        clients = [GraphQLClient(http, gw.url, {"X-API-Key": FULL_KEY}) for gw in (a, b)]
        # Connections open and the query known to both instances, ending in the home OU:
        # what follows is only the concurrent part, and ou_2's calls still need a switch.
        for client in clients:
            for unit in ("ou_2", "ou_1"):
                await client.data(CONTACTS, headers={"X-Org-Unit": unit})
        await stats.reset()
        answers = await _concurrent_answers(clients, 40)
    for unit, data in answers:
        assert units_in(ou_sim, data) == {unit}
        assert data["contacts"]["totalCount"] == scoped_total(ou_sim, unit)
    counted = await stats.read()
    made = int(counted["by_route"].get(SWITCH, 0))
    # Calls of one unit share a switch: far fewer switches than requests (40), and at
    # least one per unit change the answers needed (ou_1 is home: the first pin of ou_2).
    assert 1 <= made <= 10, made
    assert counted["by_route"]["GET /contacts"] == 40
    print(f"40 concurrent requests (2 units, 2 instances): {made} switches")


async def test_concurrent_requests_on_one_instance_without_redis(ou_sim, http):
    ou_sim.state.latency_ms = 20
    async with GatewayServer(settings_for(ou_sim)) as gw:
        clients = [GraphQLClient(http, gw.url, {"X-API-Key": FULL_KEY})]
        answers = await _concurrent_answers(clients, 30)
    for unit, data in answers:
        assert units_in(ou_sim, data) == {unit}


async def test_without_the_gate_answers_would_leak(ou_sim, http: aiohttp.ClientSession):
    """Control: the same interleaving straight against the sim mixes units, so the
    gateway test above can fail."""
    base = ou_sim.api_url
    auth = {"Authorization": aiohttp.encode_basic_auth(FULL_KEY, "")}
    ou_sim.state.latency_ms = 20

    async def pinned(unit: str) -> set[str]:
        async with http.post(base + "/org-units/active", json={"id": unit}, headers=auth) as r:
            assert r.status == 200
        async with http.get(base + "/contacts", params={"limit": "50"}, headers=auth) as r:
            body = await r.json()
        return {unit_of(ou_sim, c["id"]) for c in body["data"]} ^ {unit}

    leaks = await asyncio.gather(*(pinned(("ou_1", "ou_2")[i % 2]) for i in range(20)))
    assert any(leaks)


async def test_browsers_may_send_the_header(ou_sim, http):
    settings = settings_for(ou_sim, cors_origins=["https://app.example"])
    async with GatewayServer(settings) as gw:
        headers = {
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-org-unit, x-api-key",
        }
        async with http.options(gw.url + "/graphql", headers=headers) as resp:
            assert resp.status == 200
            allowed = resp.headers["Access-Control-Allow-Headers"].lower()
            assert "x-org-unit" in allowed


async def test_without_the_coordination_store_no_scoped_call_goes(ou_sim, http, redis_namespace):
    """Redis configured but not answering: OU-scoped calls are refused, not risked."""
    stats = SimStats(http, ou_sim.url)
    settings = settings_for(
        ou_sim,
        redis_url="redis://127.0.0.1:1/0",
        redis_namespace=redis_namespace,
        cursor_secret="ou-test",
    )
    async with GatewayServer(settings) as gw:
        client = GraphQLClient(http, gw.url, {"X-API-Key": FULL_KEY})
        await stats.reset()
        reply = await client.send(CONTACTS, headers={"X-Org-Unit": "ou_2"})
        assert reply.codes() == ["UPSTREAM_UNAVAILABLE"]
        assert (await stats.read())["by_route"].get("GET /contacts", 0) == 0


async def test_a_profile_may_turn_units_off_and_typos_are_refused(ou_sim, http):
    plain = {"extends": "template", "org_units": False}
    settings = Settings(
        upstream_url=ou_sim.url, profile="plain", profiles={"plain": plain}, rate_limit="off"
    )
    async with GatewayServer(settings) as gw:
        client = GraphQLClient(http, gw.url, {"X-API-Key": FULL_KEY})
        reply = await client.send("{ viewer { orgUnits { id } } }")
        assert reply.codes() == ["BAD_USER_INPUT"]
    typo = {"extends": "template", "org_units": {"scope": ["contacts"]}}
    with pytest.raises(ConfigError, match=r"org_units\.scope.*did you mean `scoped`"):
        Settings(
            upstream_url=ou_sim.url, profile="typo", profiles={"typo": typo}
        ).upstream_profile()


async def test_writes_happen_in_the_requests_unit(ou_sim, http):
    create = """mutation { createContact(input: {firstName: "Ou", email: "ou@example.org"}) {
      contact { databaseId } } }"""
    read = "query($id: ID!) { contact(id: $id) { databaseId } }"
    async with GatewayServer(settings_for(ou_sim)) as gw:
        client = GraphQLClient(http, gw.url, {"X-API-Key": FULL_KEY})
        made = await client.data(create, headers={"X-Org-Unit": "ou_2"})
        contact_id = made["createContact"]["contact"]["databaseId"]
        assert unit_of(ou_sim, contact_id) == "ou_2"
        there = await client.data(read, {"id": contact_id}, headers={"X-Org-Unit": "ou_2"})
        assert there["contact"]["databaseId"] == contact_id
        elsewhere = await client.send(read, {"id": contact_id}, headers={"X-Org-Unit": "ou_1"})
        assert elsewhere.codes() == ["NOT_FOUND"]
