"""Cursors are bound to their list and signed with a key of the operator's (or the process's)."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs

import pytest

from restloom.app import create_app
from restloom.config import ConfigError, Settings
from tests.conftest import FULL_KEY
from tests.support import GatewayServer, GraphQLClient

ANOTHER_LIST = "is a cursor of another list"


def end_cursor(data: dict, *path: str) -> str:
    for key in path:
        data = data[key]
    return data["pageInfo"]["endCursor"]


def page_requests(sim) -> list[tuple[str, int, int]]:
    """(path, page, per_page) of every list request the sim received since the last reset."""
    found = []
    for entry in sim.state.requests.entries:
        query = parse_qs(entry.query)
        if "page" in query:
            found.append((entry.path, int(query["page"][0]), int(query["per_page"][0])))
    return found


async def assert_refused(client: GraphQLClient, stats, query: str, variables: dict) -> None:
    await stats.reset()
    reply = await client.send(query, variables)
    assert reply.codes() == ["BAD_USER_INPUT"], reply.errors
    assert ANOTHER_LIST in reply.errors[0]["message"]
    assert reply.errors[0]["extensions"]["argument"] in ("after", "before")
    assert await stats.requests() == 0


CONTACTS = """query($after: String, $search: String, $order: ContactOrder, $since: DateTime) {
  contacts(first: 3, after: $after, search: $search, orderBy: $order, updatedAfter: $since) {
    edges { node { databaseId } } pageInfo { endCursor }
  }
}"""


async def test_contact_cursors_are_bound_to_search_order_and_updated_after(client, stats):
    base = {"search": "a"}
    cursor = end_cursor((await client.data(CONTACTS, base))["contacts"])
    # The same list takes it.
    same = await client.data(CONTACTS, {**base, "after": cursor})
    assert len(same["contacts"]["edges"]) == 3
    for other in (
        {"search": "zzz"},
        {},
        {"search": "a", "order": {"field": "EMAIL", "direction": "ASC"}},
        {"search": "a", "order": {"field": "CREATED_AT", "direction": "ASC"}},
        {"search": "a", "since": "2025-06-01T00:00:00Z"},
    ):
        await assert_refused(client, stats, CONTACTS, {**other, "after": cursor})


ORG_MEMBERS = """query($id: ID!, $after: String, $before: String) {
  organization(id: $id) {
    members(first: 2, after: $after, before: $before) { edges { role } pageInfo { endCursor } }
  }
}"""


async def test_member_cursors_are_bound_to_their_organization(client, stats, sim):
    orgs = await client.data("{ organizations(first: 2) { nodes { id } } }")
    first, second = (node["id"] for node in orgs["organizations"]["nodes"])
    data = await client.data(ORG_MEMBERS, {"id": first})
    cursor = end_cursor(data["organization"], "members")
    ok = await client.data(ORG_MEMBERS, {"id": first, "after": cursor})
    assert ok["organization"]["members"] is not None
    for argument in ("after", "before"):
        await stats.reset()
        reply = await client.send(ORG_MEMBERS, {"id": second, argument: cursor})
        assert reply.codes() == ["BAD_USER_INPUT"]
        assert ANOTHER_LIST in reply.errors[0]["message"]
        assert reply.errors[0]["extensions"]["argument"] == argument
        # Only the organization itself was read: no member page.
        assert all("/members" not in path for path, _, _ in page_requests(sim))


RESOURCES = """query($after: String, $status: ResourceStatus) {
  resources(first: 2, after: $after, filter: {status: $status}) { pageInfo { endCursor } }
}"""


async def test_filters_and_collections_bind_cursors(client, stats):
    cursor = end_cursor((await client.data(RESOURCES, {"status": "ACTIVE"}))["resources"])
    assert (await client.send(RESOURCES, {"status": "ACTIVE", "after": cursor})).codes() == []
    await assert_refused(client, stats, RESOURCES, {"after": cursor})
    await assert_refused(client, stats, RESOURCES, {"status": "ARCHIVED", "after": cursor})
    await assert_refused(client, stats, CONTACTS, {"after": cursor})


async def test_a_cursor_of_another_process_is_not_valid(client, stats, sim, http):
    cursor = end_cursor((await client.data(CONTACTS, {}))["contacts"])
    async with GatewayServer(Settings(upstream_url=sim.url)) as other:
        elsewhere = GraphQLClient(http, other.url, {"X-API-Key": FULL_KEY})
        await stats.reset()
        reply = await elsewhere.send(CONTACTS, {"after": cursor})
    assert reply.codes() == ["BAD_USER_INPUT"]
    assert "not a valid cursor" in reply.errors[0]["message"]
    assert await stats.requests() == 0


async def test_no_page_past_the_known_total_is_requested(client, stats, sim):
    tail = await client.data("{ contacts(last: 1) { totalCount pageInfo { endCursor } } }")
    total = tail["contacts"]["totalCount"]
    cursor = tail["contacts"]["pageInfo"]["endCursor"]
    await stats.reset()
    data = await client.data(CONTACTS.replace("first: 3", "first: 250"), {"after": cursor})
    assert data["contacts"]["edges"] == []
    requests = page_requests(sim)
    # One request, for the cursor's own item (to check it), none past the total.
    assert len(requests) == 1
    for _, page, per_page in requests:
        assert (page - 1) * per_page < total


def test_redis_without_cursor_secret_refuses_to_start(sim):
    settings = Settings(upstream_url=sim.url, redis_url="redis://127.0.0.1:6379/0")
    with pytest.raises(ConfigError, match="`cursor_secret` is required when `redis_url` is set"):
        create_app(settings)


async def test_without_redis_a_random_key_and_a_warning(sim, http, caplog):
    caplog.set_level(logging.WARNING, logger="restloom.app")
    async with GatewayServer(Settings(upstream_url=sim.url)) as gateway:
        client = GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})
        cursor = end_cursor((await client.data(CONTACTS, {}))["contacts"])
        assert len((await client.data(CONTACTS, {"after": cursor}))["contacts"]["edges"]) == 3
    warnings = [r.getMessage() for r in caplog.records if r.name == "restloom.app"]
    assert any("no cursor_secret configured" in message for message in warnings)


async def test_a_configured_secret_works_across_processes(sim, http):
    settings = Settings(upstream_url=sim.url, cursor_secret="shared-between-instances")
    async with GatewayServer(settings) as one, GatewayServer(settings) as two:
        first = GraphQLClient(http, one.url, {"X-API-Key": FULL_KEY})
        second = GraphQLClient(http, two.url, {"X-API-Key": FULL_KEY})
        page = await first.data(CONTACTS, {})
        cursor = end_cursor(page["contacts"])
        again = await second.data(CONTACTS, {"after": cursor})
        assert len(again["contacts"]["edges"]) == 3
