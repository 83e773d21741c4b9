"""Two gateway instances sharing the real Redis, one sim that sends real webhooks.

The sim calls instance A's receiver; the subscriber is on instance B. An event reaches
it through the Redis Stream, and its `node` is read fresh through B.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest

from restloom.config import Settings
from restloom.sim.server import SimServer
from tests.conftest import FULL_KEY
from tests.events.conftest import first_contact, patch_on_sim, register_hook, sim_deliveries
from tests.events.wire import SECRET, Subscriber, contact_event, deliver, until_listening
from tests.support import GatewayServer, GraphQLClient, SimStats

CONTACT_EVENTS = ["contact.created", "contact.updated", "contact.deleted"]
UPDATE = """
mutation($id: ID!, $name: String) {
  updateContact(input: {id: $id, firstName: $name}) { contact { firstName } }
}
"""
LIST = "{ contacts(first: 5) { nodes { databaseId firstName } } }"


@dataclass
class Pair:
    a: GatewayServer
    b: GatewayServer


@pytest.fixture
async def pair(sim: SimServer, redis_url: str, redis_namespace: str) -> AsyncIterator[Pair]:
    settings = Settings(
        upstream_url=sim.url,
        webhook_secret=SECRET,
        redis_url=redis_url,
        redis_namespace=redis_namespace,
        cursor_secret="shared-by-both-instances",
        cache_ttl=60,
    )
    async with GatewayServer(settings) as a, GatewayServer(settings) as b:
        yield Pair(a, b)


async def listening(
    http: aiohttp.ClientSession, pair: Pair, cid: str, **vars: object
) -> Subscriber:
    """A subscriber on B, proven to be listening: a probe delivered to A reached it."""
    sub = await Subscriber.connect(http, pair.b.url, {"X-API-Key": FULL_KEY})
    await sub.subscribe(variables=dict(vars))

    async def probe() -> str:
        status, answer = await deliver(http, pair.a.url, contact_event(cid))
        assert status == 202, answer
        return str(answer["id"])

    await until_listening(sub, probe)
    return sub


async def test_writes_through_a_and_on_the_sim_reach_a_subscriber_on_b(
    sim: SimServer, http: aiohttp.ClientSession, pair: Pair
) -> None:
    await register_hook(http, sim.url, f"{pair.a.url}/webhooks/mossdesk", CONTACT_EVENTS)
    cid = await first_contact(http, sim.url)
    sub = await listening(http, pair, cid)

    # 1. A write through instance A: the sim sends contact.updated to A's receiver.
    client_a = GraphQLClient(http, pair.a.url, {"X-API-Key": FULL_KEY})
    await client_a.data(UPDATE, {"id": cid, "name": "ThroughA"})
    event = (await sub.event())["events"]
    assert (event["target"], event["action"], event["objectId"]) == ("CONTACT", "UPDATE", cid)
    assert event["deliveryId"].startswith("evt_")  # the sim's own event id
    assert event["node"]["firstName"] == "ThroughA"

    # 2. A write straight to the sim, bypassing restloom.
    await patch_on_sim(http, sim.url, cid, "OnTheSim")
    event = (await sub.event())["events"]
    assert event["node"]["firstName"] == "OnTheSim"
    assert event["actor"] == {"databaseId": event["actor"]["databaseId"]}

    # Every real delivery was answered 2xx by A.
    attempts = await sim_deliveries(http, sim.url)
    assert len(attempts) == 2
    assert all(a["outcome"] == "delivered" and a["status_code"] == 202 for a in attempts), attempts
    await sub.close()


async def test_a_delivery_seen_by_one_instance_is_a_duplicate_on_the_other(
    sim: SimServer, http: aiohttp.ClientSession, pair: Pair
) -> None:
    cid = await first_contact(http, sim.url)
    sub = await listening(http, pair, cid)
    body = contact_event(cid)
    first = await deliver(http, pair.a.url, body, delivery_id="msg_shared")
    again = await deliver(http, pair.b.url, body, delivery_id="msg_shared")
    assert first[0] == 202
    assert again == (200, {"status": "duplicate"})
    assert (await sub.event())["events"]["id"] == first[1]["id"]
    following = await deliver(http, pair.b.url, body)
    assert (await sub.event())["events"]["id"] == following[1]["id"]
    await sub.close()


async def test_a_cached_list_on_b_is_fresh_after_a_write_that_bypassed_restloom(
    sim: SimServer, http: aiohttp.ClientSession, pair: Pair
) -> None:
    await register_hook(http, sim.url, f"{pair.a.url}/webhooks/mossdesk", CONTACT_EVENTS)
    stats = SimStats(http, sim.url)
    client_b = GraphQLClient(http, pair.b.url, {"X-API-Key": FULL_KEY})
    before = await client_b.data(LIST)
    cid = before["contacts"]["nodes"][0]["databaseId"]
    await stats.reset()
    assert await client_b.data(LIST) == before
    assert await stats.requests() == 0  # served from the cache

    sub = await listening(http, pair, cid)
    await patch_on_sim(http, sim.url, cid, "Bypassed")
    assert (await sub.event())["events"]["node"]["firstName"] == "Bypassed"
    after = await client_b.data(LIST)
    assert after["contacts"]["nodes"][0]["firstName"] == "Bypassed"
    await sub.close()
