"""Two gateway instances (two real servers) over one sim and one Redis behave as one."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from restloom.config import Settings
from restloom.sim.server import SimServer
from tests.conftest import FULL_KEY, READ_KEY, TEST_DATASET
from tests.redis_support import redis_cache_settings
from tests.support import GatewayServer, GraphQLClient, within

CONTACTS = "{ contacts(first: 20) { totalCount nodes { id firstName } } }"
ORGANIZATION = "query($o: ID!) { organization(id: $o) { memberCount members { totalCount } } }"


@pytest.fixture
async def instances(sim, http, redis_url, redis_namespace) -> AsyncIterator[tuple]:
    settings = redis_cache_settings(sim.url, redis_url, redis_namespace)
    async with GatewayServer(settings) as a, GatewayServer(settings) as b:
        yield (
            GraphQLClient(http, a.url, {"X-API-Key": FULL_KEY}),
            GraphQLClient(http, b.url, {"X-API-Key": FULL_KEY}),
        )


async def test_a_list_filled_through_one_instance_is_served_by_the_other(instances, stats):
    a, b = instances
    filled = await a.data(CONTACTS)
    await stats.reset()
    served = await b.send(CONTACTS)
    assert served.data == filled
    assert await stats.requests() == 0
    assert served.body["extensions"]["upstream"]["cacheHits"] == 1
    # Another principal through the same instance gets nothing of the first one's.
    other = await b.send(CONTACTS, headers={"X-API-Key": READ_KEY})
    assert not other.errors
    assert await stats.requests() == 1
    assert other.body["extensions"]["upstream"]["cacheHits"] == 0


async def test_a_write_through_one_instance_is_seen_through_the_other_at_once(instances):
    a, b = instances
    listed = await a.data(CONTACTS)
    target = listed["contacts"]["nodes"][3]
    contact = "query($id: ID!) { contact(id: $id) { firstName } }"
    await a.data(contact, {"id": target["id"]})
    name = f"Seen{uuid.uuid4().hex[:6]}"
    await b.data(
        "mutation($i: UpdateContactInput!) { updateContact(input: $i) { contact { id } } }",
        {"i": {"id": target["id"], "firstName": name}},
    )
    assert (await a.data(contact, {"id": target["id"]}))["contact"]["firstName"] == name
    relisted = await a.data(CONTACTS)
    assert relisted["contacts"]["nodes"][3]["firstName"] == name


async def test_a_member_added_through_one_instance_shows_on_the_other(instances):
    a, b = instances
    created = await a.data(
        """mutation($i: CreateOrganizationInput!) {
             createOrganization(input: $i) { organization { id } } }""",
        {"i": {"name": "Shared", "slug": f"shared-{uuid.uuid4().hex[:8]}"}},
    )
    org = created["createOrganization"]["organization"]["id"]
    before = (await a.data(ORGANIZATION, {"o": org}))["organization"]
    people = await a.data("{ viewer { id } users(first: 2) { nodes { id } } }")
    newcomer = next(u["id"] for u in people["users"]["nodes"] if u["id"] != people["viewer"]["id"])
    await b.data(
        "mutation($o: ID!, $u: ID!) { addOrganizationMember(input: {organizationId: $o, userId: $u}) { role } }",
        {"o": org, "u": newcomer},
    )
    after = (await a.data(ORGANIZATION, {"o": org}))["organization"]
    assert after["memberCount"] == before["memberCount"] + 1
    assert after["members"]["totalCount"] == before["members"]["totalCount"] + 1


BUDGET = 15
COUNT = "{ contacts(first: 1) { totalCount } }"


def most_in_any_window(times: list[float], window: float) -> int:
    """The largest number of arrivals in any (t - window, t], as the sim counts them."""
    times = sorted(times)
    return max(sum(1 for s in times if t - window < s <= t) for t in times)


# The 15 requests per 15 s (about 20 s of test: the budget is spent evenly),
# and the same budget squeezed into 2 s for a longer burst.
@pytest.mark.parametrize(("window", "queries"), [(15.0, BUDGET + 5), (2.0, 2 * BUDGET + 2)])
async def test_a_burst_through_both_instances_stays_within_the_shared_budget(
    http, redis_url, redis_namespace, window, queries
):
    limited = replace(TEST_DATASET, rate_limit=BUDGET, rate_window=window)
    async with SimServer(limited) as sim:
        settings = Settings(
            upstream_url=sim.url,
            redis_url=redis_url,
            cursor_secret="test-cursor-secret",
            redis_namespace=redis_namespace,
            rate_limit={"requests": BUDGET, "per_seconds": window},
        )
        async with GatewayServer(settings) as a, GatewayServer(settings) as b:
            clients = [GraphQLClient(http, g.url, {"X-API-Key": FULL_KEY}) for g in (a, b)]
            # No cache TTL: every query costs one upstream request.
            burst = [clients[i % 2].send(COUNT) for i in range(queries)]
            # Well past the request deadline (30 s): a request still out then is stuck.
            replies = await within(90, asyncio.gather(*burst))
        async with http.get(sim.url + "/__sim/stats", params={"times": "1"}) as resp:
            stats = await resp.json()
    assert all(not r.errors for r in replies), [r.errors for r in replies if r.errors]
    assert stats["rate_limited"] == 0
    assert "429" not in stats["status"]
    [arrivals] = stats["times"].values()
    assert len(arrivals) == len(replies)
    assert most_in_any_window(arrivals, window) <= BUDGET
