"""Relay windows over the upstream's page-number pagination, end to end."""

import pytest

from restloom.graphql.relay import CursorCodec
from tests.conftest import FULL_KEY
from tests.support import upstream_list

CONTACTS = """
query($first: Int, $after: String, $last: Int, $before: String) {
  contacts(first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { databaseId } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


async def all_contact_ids(http, sim):
    records = await upstream_list(http, sim.url, "/contacts", FULL_KEY)
    return [r["id"] for r in records]


def ids_of(conn):
    return [e["node"]["databaseId"] for e in conn["edges"]]


async def test_forward_walk_crosses_page_boundaries(client, http, sim, stats):
    expected = await all_contact_ids(http, sim)
    seen, after = [], None
    while True:
        data = await client.data(CONTACTS, {"first": 7, "after": after})
        conn = data["contacts"]
        assert conn["totalCount"] == len(expected)
        seen += ids_of(conn)
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert seen == expected


async def test_backward_walk_with_last_and_before(client, http, sim):
    expected = await all_contact_ids(http, sim)
    seen, before = [], None
    while True:
        data = await client.data(CONTACTS, {"last": 11, "before": before})
        conn = data["contacts"]
        seen = ids_of(conn) + seen
        if not conn["pageInfo"]["hasPreviousPage"]:
            break
        before = conn["pageInfo"]["startCursor"]
    assert seen == expected


async def test_last_without_before_is_the_tail(client, http, sim, stats):
    expected = await all_contact_ids(http, sim)
    await stats.reset()
    conn = (await client.data(CONTACTS, {"last": 5}))["contacts"]
    assert ids_of(conn) == expected[-5:]
    assert conn["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "startCursor": conn["edges"][0]["cursor"],
        "endCursor": conn["edges"][-1]["cursor"],
    }
    # One request learns the total, one fetches the tail.
    assert await stats.requests() == 2


async def test_window_is_served_by_fewest_pages(client, http, sim, stats):
    expected = await all_contact_ids(http, sim)
    first_page = (await client.data(CONTACTS, {"first": 5}))["contacts"]
    await stats.reset()
    # Items 5..19: one upstream page of 20 covers them.
    conn = (
        await client.data(CONTACTS, {"first": 15, "after": first_page["pageInfo"]["endCursor"]})
    )["contacts"]
    assert ids_of(conn) == expected[5:20]
    assert await stats.requests() == 1


async def test_past_the_end_and_empty(client, http, sim):
    expected = await all_contact_ids(http, sim)
    tail = (await client.data(CONTACTS, {"last": 1}))["contacts"]
    after_last = tail["pageInfo"]["endCursor"]
    conn = (await client.data(CONTACTS, {"first": 10, "after": after_last}))["contacts"]
    assert conn["edges"] == []
    assert conn["totalCount"] == len(expected)
    assert conn["pageInfo"]["hasNextPage"] is False
    empty = (await client.data(CONTACTS, {"first": 0}))["contacts"]
    assert empty["edges"] == [] and empty["totalCount"] == len(expected)


async def test_default_window_is_the_profile_page_size(client, http, sim):
    expected = await all_contact_ids(http, sim)
    conn = (await client.data(CONTACTS))["contacts"]
    assert ids_of(conn) == expected[:25]


@pytest.mark.parametrize("args", [{"first": 1000}, {"last": 251}, {"first": -1}])
async def test_oversized_window_is_bad_user_input(client, stats, args):
    await stats.reset()
    reply = await client.send(CONTACTS, args)
    assert reply.codes() == ["BAD_USER_INPUT"]
    assert reply.data == {"contacts": None}
    assert await stats.requests() == 0


async def test_tampered_cursor_is_bad_user_input(client):
    cursor = (await client.data(CONTACTS, {"first": 1}))["contacts"]["pageInfo"]["endCursor"]
    tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    for bad in (tampered, "bm90LWEtY3Vyc29y"):
        reply = await client.send(CONTACTS, {"first": 3, "after": bad})
        assert reply.codes() == ["BAD_USER_INPUT"]
        assert reply.errors[0]["extensions"]["argument"] == "after"


async def test_cursor_of_another_list_is_refused(client):
    users = await client.data("{ users(first: 1) { pageInfo { endCursor } } }")
    reply = await client.send(
        CONTACTS, {"first": 3, "after": users["users"]["pageInfo"]["endCursor"]}
    )
    assert reply.codes() == ["BAD_USER_INPUT"]


@pytest.fixture
def cursor_windows(monkeypatch) -> list[int]:
    """The size of each window whose cursors were worked out."""
    windows: list[int] = []
    real = CursorCodec.window

    def counting(self, scope, offsets, *rest):
        windows.append(len(offsets))
        return real(self, scope, offsets, *rest)

    monkeypatch.setattr(CursorCodec, "window", counting)
    return windows


async def test_cursors_are_worked_out_only_when_selected(client, cursor_windows):
    """Edges without `cursor` and a pageInfo without cursors cost no cursor work; asking
    for either works out the window's cursors once, and they agree."""
    plain = "{ contacts(first: 30) { edges { node { databaseId } } pageInfo { hasNextPage } } }"
    assert len((await client.data(plain))["contacts"]["edges"]) == 30
    assert cursor_windows == []

    data = await client.data(
        "{ contacts(first: 30) { edges { cursor } pageInfo { startCursor endCursor } } }"
    )
    assert cursor_windows == [30]
    edges, info = data["contacts"]["edges"], data["contacts"]["pageInfo"]
    assert len({e["cursor"] for e in edges}) == 30
    assert (info["startCursor"], info["endCursor"]) == (edges[0]["cursor"], edges[-1]["cursor"])


async def test_member_cursors_are_worked_out_only_when_selected(client, cursor_windows):
    members = "members(first: 4) { edges { role node { databaseId } } }"
    data = await client.data(
        f"{{ organizations(first: 3) {{ edges {{ node {{ {members} }} }} }} }}"
    )
    assert len(data["organizations"]["edges"]) == 3
    assert cursor_windows == []

    members = "members(first: 4) { edges { cursor } }"
    await client.data(f"{{ organizations(first: 3) {{ edges {{ node {{ {members} }} }} }} }}")
    assert sorted(cursor_windows) == [4, 4, 4]
