"""The cross-request cache through one gateway, on the memory backend and on Redis.

Upstream requests are counted by the sim; `extensions.upstream` is what the
gateway says it did. Both must agree that a cached read sends nothing.
"""

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from restloom.config import Settings
from restloom.sim.server import SimServer
from tests.conftest import FULL_KEY, READ_KEY, TEST_DATASET
from tests.redis_support import drop_namespace, require_redis
from tests.support import GatewayServer, GraphQLClient, SimStats

CONTACTS = "{ contacts(first: 10) { totalCount nodes { id databaseId firstName } } }"
CONTACT = "query($id: ID!) { contact(id: $id) { databaseId firstName } }"
UPDATE_CONTACT = """mutation($input: UpdateContactInput!) {
  updateContact(input: $input) { contact { firstName } } }"""
VIEWER = "{ viewer { databaseId email } }"
NESTED = "{ organizations(first: 5) { nodes { name members(first: 3) { nodes { email } } } } }"


@pytest.fixture(params=["memory", "redis"])
async def cache_settings(request) -> AsyncIterator[dict[str, Any]]:
    namespace = f"restloom-test-{uuid.uuid4().hex[:12]}"
    url = await require_redis() if request.param == "redis" else None
    yield {
        "cache_ttl": 60,
        "redis_url": url,
        "redis_namespace": namespace,
        "cursor_secret": "test-cursor-secret",
    }
    if url:
        await drop_namespace(url, namespace)


@pytest.fixture
def gateway_settings(sim, cache_settings) -> Settings:
    return Settings(upstream_url=sim.url, **cache_settings)


def upstream_of(reply) -> dict[str, int]:
    return reply.body["extensions"]["upstream"]


async def test_a_repeated_query_is_served_from_the_cache(client, stats):
    await stats.reset()
    cold = await client.send(CONTACTS)
    assert not cold.errors
    assert await stats.requests() == 1
    assert upstream_of(cold) == {"requests": 1, "cacheHits": 0, "coalesced": 0, "retries": 0}
    await stats.reset()
    warm = await client.send(CONTACTS)
    assert warm.data == cold.data
    assert await stats.requests() == 0
    assert upstream_of(warm)["requests"] == 0 and upstream_of(warm)["cacheHits"] == 1


async def test_nested_lists_and_batched_users_come_from_the_cache(client, stats):
    cold = await client.data(NESTED)
    await stats.reset()
    warm = await client.send(NESTED)
    assert warm.data == cold
    assert await stats.requests() == 0
    # The users were fetched in one batch and are kept one by one.
    assert upstream_of(warm)["cacheHits"] > 6


async def test_a_principal_never_sees_another_principals_entries(client, stats):
    full = await client.data(VIEWER)
    await stats.reset()
    read_only = await client.data(VIEWER, headers={"X-API-Key": READ_KEY})
    assert read_only["viewer"]["databaseId"] != full["viewer"]["databaseId"]
    assert await stats.requests() == 1
    # Each has its own entry now.
    await stats.reset()
    assert await client.data(VIEWER) == full
    assert await client.data(VIEWER, headers={"X-API-Key": READ_KEY}) == read_only
    assert await stats.requests() == 0


async def test_impersonated_reads_are_keyed_by_the_impersonated_user(client, stats):
    own = await client.data(VIEWER)
    users = await client.data("{ users(first: 5) { nodes { databaseId } } }")
    other = next(
        u["databaseId"]
        for u in users["users"]["nodes"]
        if u["databaseId"] != own["viewer"]["databaseId"]
    )
    as_other = await client.data(VIEWER, headers={"X-Impersonate-User-Id": other})
    assert as_other["viewer"]["databaseId"] == other
    await stats.reset()
    assert await client.data(VIEWER) == own
    assert await client.data(VIEWER, headers={"X-Impersonate-User-Id": other}) == as_other
    assert await stats.requests() == 0


async def test_a_write_makes_the_object_and_its_lists_fresh(client):
    listed = await client.data(CONTACTS)
    target = listed["contacts"]["nodes"][0]
    await client.data(CONTACT, {"id": target["id"]})  # now cached as well
    name = f"Renamed{uuid.uuid4().hex[:6]}"
    await client.data(UPDATE_CONTACT, {"input": {"id": target["id"], "firstName": name}})
    item = await client.data(CONTACT, {"id": target["id"]})
    assert item["contact"]["firstName"] == name
    relisted = await client.data(CONTACTS)
    assert relisted["contacts"]["nodes"][0]["firstName"] == name


async def test_a_new_member_refreshes_the_organization_and_its_members(client):
    created = await client.data(
        """mutation($input: CreateOrganizationInput!) {
             createOrganization(input: $input) { organization { id } } }""",
        {"input": {"name": "Cached Co", "slug": f"cached-{uuid.uuid4().hex[:8]}"}},
    )
    org_id = created["createOrganization"]["organization"]["id"]
    query = """query($o: ID!) { organization(id: $o) { memberCount members { totalCount } } }"""
    before = (await client.data(query, {"o": org_id}))["organization"]
    # Not the caller: the creator is already the owner.
    users = await client.data("{ viewer { id } users(first: 2) { nodes { id } } }")
    newcomer = next(u["id"] for u in users["users"]["nodes"] if u["id"] != users["viewer"]["id"])
    await client.data(
        """mutation($o: ID!, $u: ID!) {
             addOrganizationMember(input: {organizationId: $o, userId: $u}) { role } }""",
        {"o": org_id, "u": newcomer},
    )
    after = (await client.data(query, {"o": org_id}))["organization"]
    assert after["memberCount"] == before["memberCount"] + 1
    assert after["members"]["totalCount"] == before["members"]["totalCount"] + 1


async def test_a_zero_ttl_turns_caching_off_for_that_type(sim, stats, http, cache_settings):
    from tests.conftest import FULL_KEY
    from tests.support import GatewayServer, GraphQLClient

    settings = Settings(upstream_url=sim.url, **cache_settings, cache_ttls={"contacts": 0})
    async with GatewayServer(settings) as gateway:
        client = GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})
        both = "{ contacts(first: 3) { totalCount } viewer { email } }"
        await client.data(both)
        await stats.reset()
        await client.data(both)
        assert (await stats.read())["by_route"] == {"GET /contacts": 1}


@pytest.mark.parametrize(("honour", "viewer_requests"), [(True, 2), (False, 1)])
async def test_cache_control_private_and_no_store_are_honoured(
    http, cache_settings, honour, viewer_requests
):
    marked = replace(
        TEST_DATASET,
        cache_control={"GET /users/me": "private, max-age=60", "GET /webhooks": "no-store"},
    )
    async with SimServer(marked) as sim:
        settings = Settings(
            upstream_url=sim.url,
            profile="marked",
            profiles={"marked": {"extends": "mossdesk", "honour_cache_control": honour}},
            **cache_settings,
        )
        async with GatewayServer(settings) as gateway:
            client = GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})
            for _ in range(2):
                await client.data(
                    "{ viewer { email } webhooks(first: 2) { totalCount } contacts(first: 2) { totalCount } }"
                )
            by_route = (await SimStats(http, sim.url).read())["by_route"]
    assert by_route["GET /users/me"] == viewer_requests
    assert by_route["GET /webhooks"] == viewer_requests
    assert by_route["GET /contacts"] == 1  # unmarked: cached either way
