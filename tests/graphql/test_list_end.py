"""Exact windows at the end of a list, whatever the upstream answers past it.

Each test runs against the sim in the three ways real upstreams answer a page past
the end: an empty page, 404 "Invalid page." (Django REST Framework), and the last
page again (json-server 1.0).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import parse_qs

import pytest

from restloom.config import Settings
from restloom.sim.config import SimConfig
from restloom.sim.server import SimServer
from tests.conftest import FULL_KEY
from tests.support import GatewayServer, GraphQLClient, SimStats, upstream_list

MODES = ["empty", "not_found", "last_page"]

WINDOW = """query($first: Int, $after: String, $last: Int, $before: String) {
  contacts(first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { databaseId } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


@asynccontextmanager
async def stack(http, mode: str, contacts: int) -> AsyncIterator[tuple[GraphQLClient, SimServer]]:
    config = SimConfig(
        seed=11,
        contacts=contacts,
        resources=3,
        users=6,
        organizations=2,
        webhooks=1,
        past_end=mode,
    )
    async with (
        SimServer(config) as sim,
        GatewayServer(Settings(upstream_url=sim.url, cursor_secret="list-end")) as gateway,
    ):
        yield GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY}), sim


def ids_of(conn: dict) -> list[str]:
    return [edge["node"]["databaseId"] for edge in conn["edges"]]


def list_requests(sim: SimServer) -> list[tuple[int, int, int | None]]:
    """(page, per_page, status) of every contacts page request since the last reset."""
    found = []
    for entry in sim.state.requests.entries:
        query = parse_qs(entry.query)
        if entry.path.endswith("/contacts") and "page" in query:
            found.append((int(query["page"][0]), int(query["per_page"][0]), entry.status))
    return found


async def window(client: GraphQLClient, **variables: object) -> dict:
    return (await client.data(WINDOW, variables))["contacts"]


@pytest.mark.parametrize("mode", MODES)
async def test_first_60_after_item_50_of_57_is_exactly_7(http, mode):
    async with stack(http, mode, 57) as (client, sim):
        expected = [r["id"] for r in await upstream_list(http, sim.url, "/contacts", FULL_KEY)]
        head = await window(client, first=50)
        assert ids_of(head) == expected[:50]
        stats = SimStats(http, sim.url)
        await stats.reset()
        tail = await window(client, first=60, after=head["pageInfo"]["endCursor"])
        assert ids_of(tail) == expected[50:57]
        assert tail["totalCount"] == 57
        assert tail["pageInfo"]["hasNextPage"] is False
        assert tail["pageInfo"]["hasPreviousPage"] is True
        # One request, and no page at or past the total the cursor knew.
        requests = list_requests(sim)
        assert len(requests) == 1
        assert all((page - 1) * size < 57 and status == 200 for page, size, status in requests)
        # And past the very end: nothing, from one request for the cursor's own item.
        await stats.reset()
        after_end = await window(client, first=10, after=tail["pageInfo"]["endCursor"])
        assert after_end["edges"] == [] and after_end["totalCount"] == 57
        assert after_end["pageInfo"]["hasNextPage"] is False
        assert len(list_requests(sim)) == 1


@pytest.mark.parametrize("mode", MODES)
async def test_whole_walks_both_ways_at_odd_sizes(http, mode):
    async with stack(http, mode, 57) as (client, sim):
        expected = [r["id"] for r in await upstream_list(http, sim.url, "/contacts", FULL_KEY)]
        for size in (8, 19, 56, 57, 250):
            seen, after = [], None
            while True:
                conn = await window(client, first=size, after=after)
                seen += ids_of(conn)
                if not conn["pageInfo"]["hasNextPage"]:
                    break
                after = conn["pageInfo"]["endCursor"]
            assert seen == expected, size
            seen, before = [], None
            while True:
                conn = await window(client, last=size, before=before)
                seen = ids_of(conn) + seen
                if not conn["pageInfo"]["hasPreviousPage"]:
                    break
                before = conn["pageInfo"]["startCursor"]
            assert seen == expected, size
        # Nothing the gateway asked for was answered with an error.
        assert all(status == 200 for _, _, status in list_requests(sim))


@pytest.mark.parametrize("mode", MODES)
async def test_list_shrank_between_requests(http, mode):
    """The cursor saw 400 items; when it comes back there are 200 and its item is first.

    The window's two pages go out together, and the second is now past the end:
    empty, 404 or the last page again. The answer is still the exact rest of the list.
    """
    async with stack(http, mode, 400) as (client, sim):
        head = await window(client, first=200)
        anchor = head["edges"][-1]["node"]["databaseId"]
        ids = ids_of(head)
        data = sim.state.data
        for contact_id in ids[:-1]:  # every contact before the cursor's item
            data.delete("contacts", contact_id)
        remaining = [r["id"] for r in await upstream_list(http, sim.url, "/contacts", FULL_KEY)]
        data.delete("contacts", remaining[-1])  # and the last one: 200 are left
        remaining = remaining[:-1]
        assert remaining[0] == anchor and len(remaining) == 200
        stats = SimStats(http, sim.url)
        await stats.reset()
        rest = await window(client, first=200, after=head["pageInfo"]["endCursor"])
        assert ids_of(rest) == remaining[1:]
        assert rest["totalCount"] == 200
        assert rest["pageInfo"]["hasNextPage"] is False
        # Two pages for the window as the cursor placed it (the second now past the
        # end), one more to find the cursor's item 199 places earlier.
        requests = list_requests(sim)
        assert len(requests) == 3
        statuses = sorted(status for _, _, status in requests)
        assert statuses == ([200, 200, 404] if mode == "not_found" else [200, 200, 200])


@pytest.mark.parametrize("mode", MODES)
async def test_member_list_end(http, mode):
    async with stack(http, mode, 5) as (client, _):
        query = """query($after: String) { organizations(first: 1) { nodes {
            members(first: 250, after: $after) {
              totalCount edges { node { databaseId } } pageInfo { endCursor hasNextPage } } } } }"""
        first = (await client.data(query))["organizations"]["nodes"][0]["members"]
        total = first["totalCount"]
        assert total >= 2
        cursor_query = query.replace("first: 250, after", "first: 1, after")
        one = (await client.data(cursor_query))["organizations"]["nodes"][0]["members"]
        after = one["pageInfo"]["endCursor"]
        rest = (await client.data(query, {"after": after}))["organizations"]["nodes"][0]
        assert [e["node"] for e in rest["members"]["edges"]] == [e["node"] for e in first["edges"]][
            1:
        ]
        assert rest["members"]["pageInfo"]["hasNextPage"] is False


async def test_far_apart_cursor_and_window_read_only_what_they_need(http):
    """`last` after a cursor near the start is the tail: the cursor's item and the
    tail are read, not the 400 items between them; likewise `first` before one."""
    async with stack(http, "not_found", 400) as (client, sim):
        expected = [r["id"] for r in await upstream_list(http, sim.url, "/contacts", FULL_KEY)]
        head = await window(client, first=2)
        tail = await window(client, last=2)
        stats = SimStats(http, sim.url)
        await stats.reset()
        conn = await window(client, last=5, after=head["pageInfo"]["endCursor"])
        assert ids_of(conn) == expected[-5:]
        requests = list_requests(sim)
        assert len(requests) <= 3
        assert sum(size for _, size, _ in requests) <= 20
        await stats.reset()
        conn = await window(client, first=5, before=tail["pageInfo"]["startCursor"])
        assert ids_of(conn) == expected[:5]
        requests = list_requests(sim)
        assert len(requests) <= 3
        assert sum(size for _, size, _ in requests) <= 20


async def test_list_grew_since_the_cursor(http):
    """The cursor saw 57 items; 13 more came after it since. No page past 57 goes out
    before the upstream has told the new total; then the rest of the window is read."""
    async with stack(http, "not_found", 57) as (client, sim):
        head = await window(client, first=50)
        data = sim.state.data
        oldest = min(data.collections["contacts"].values(), key=lambda r: r.created_at)
        for n in range(13):  # as old as the oldest contact: they sort at the end
            data.insert("contacts", {**oldest.fields, "email": f"late-{n}@example.test"},
                        oldest.created_at)  # fmt: skip
        expected = [r["id"] for r in await upstream_list(http, sim.url, "/contacts", FULL_KEY)]
        assert expected[:50] == ids_of(head) and len(expected) == 70
        stats = SimStats(http, sim.url)
        await stats.reset()
        rest = await window(client, first=60, after=head["pageInfo"]["endCursor"])
        assert ids_of(rest) == expected[50:70]
        assert rest["totalCount"] == 70 and rest["pageInfo"]["hasNextPage"] is False
        requests = list_requests(sim)
        assert len(requests) == 2 and all(status == 200 for _, _, status in requests)
        first_page, first_size, _ = requests[0]
        assert (first_page - 1) * first_size < 57  # the first read started below 57
