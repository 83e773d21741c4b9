"""Upstream requests per query: DataLoaders batch one level into one lookup."""

import math

from restloom.config import Settings
from tests.conftest import FULL_KEY
from tests.support import GatewayServer, GraphQLClient

NESTED = """{
  organizations(first: 25) {
    nodes { members(first: 10) { edges { role node { email } } } }
  }
}"""


def distinct_members(data):
    return {
        e["node"]["email"]
        for org in data["organizations"]["nodes"]
        for e in org["members"]["edges"]
    }


async def test_nested_members_cost_one_plus_25_plus_one(client, stats):
    await stats.reset()
    data = await client.data(NESTED)
    users = distinct_members(data)
    assert len(data["organizations"]["nodes"]) == 25
    assert 25 < len(users) <= 100  # the test dataset keeps one batch enough
    assert await stats.requests() == 1 + 25 + math.ceil(len(users) / 100)
    by_route = (await stats.read())["by_route"]
    assert by_route.get("GET /users") == 1
    assert "GET /users/{id}" not in by_route


async def test_without_batch_lookup_each_user_once(http, sim, stats):
    settings = Settings(
        upstream_url=sim.url,
        profile="no-batch",
        profiles={"no-batch": {"extends": "mossdesk", "batch": False}},
    )
    async with GatewayServer(settings) as gateway:
        client = GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})
        await stats.reset()
        data = await client.data(NESTED)
    users = distinct_members(data)
    assert await stats.requests() == 1 + 25 + len(users)
    assert (await stats.read())["by_route"].get("GET /users/{id}") == len(users)


async def test_identical_gets_in_flight_share_one_call(client, stats):
    await stats.reset()
    reply = await client.send("{ a: viewer { email } b: viewer { username } c: viewer { email } }")
    assert not reply.errors
    assert await stats.requests() == 1
    assert reply.body["extensions"]["upstream"]["coalesced"] == 2
