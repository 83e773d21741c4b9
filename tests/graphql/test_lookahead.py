"""Reading ahead: member lists start as soon as the page of organizations is in.

`lone_field` decides from the document alone whether a child field is certain to run,
and with which arguments; over the gateway, the lists then leave before any `members`
resolver runs, and every query shape costs the upstream calls it cost without it.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
import strawberry
from strawberry.types import Info

from restloom.graphql import organizations
from restloom.graphql.loaders import WindowLoader
from restloom.graphql.lookahead import field_arguments, lone_field
from tests.support import GraphQLClient, SimStats

# --- lone_field over a small schema ---------------------------------------------------

seen: list[dict[str, Any] | None] = []


@strawberry.type
class Org:
    id: str = "o"

    @strawberry.field
    def members(self, first: int | None = None, after: str | None = None) -> str:
        return "m"


@strawberry.type
class OrgEdge:
    node: Org = strawberry.field(default_factory=Org)


@strawberry.type
class OrgConnection:
    edges: list[OrgEdge] = strawberry.field(default_factory=lambda: [OrgEdge()])
    nodes: list[Org] = strawberry.field(default_factory=lambda: [Org()])


@strawberry.type
class Query:
    @strawberry.field
    def orgs(self, info: Info) -> OrgConnection:
        field = lone_field(info, ("edges", "node", "members"), ("nodes", "members"))
        seen.append(None if field is None else field_arguments(info, "Org", field))
        return OrgConnection()


SCHEMA = strawberry.Schema(Query)

CASES = [
    ("{ orgs { edges { node { members(first: 3) } } } }", None, {"first": 3, "after": None}),
    (
        "query($n: Int) { orgs { nodes { members(first: $n) } } }",
        {"n": 7},
        {"first": 7, "after": None},
    ),
    ('{ orgs { nodes { members(after: "c") } } }', None, {"first": None, "after": "c"}),
    (
        "{ orgs { nodes { ...F } } } fragment F on Org { members(first: 2) }",
        None,
        {"first": 2, "after": None},
    ),
    ("{ orgs { nodes { ... on Org { members(first: 4) } } } }", None, {"first": 4, "after": None}),
    (
        "{ orgs { nodes { id @include(if: true) members(first: 5) } } }",
        None,
        {"first": 5, "after": None},
    ),
    # Twice, or not certain to run: nothing is read ahead.
    ("{ orgs { edges { node { members(first: 1) } } nodes { members(first: 1) } } }", None, None),
    ("{ orgs { nodes { a: members(first: 1) b: members(first: 2) } } }", None, None),
    ("{ orgs { nodes { members(first: 1) @include(if: true) } } }", None, None),
    ("{ orgs { nodes @skip(if: false) { members } } }", None, None),
    ("{ orgs { nodes { ...F @include(if: true) } } } fragment F on Org { members }", None, None),
    ("{ orgs { nodes { ... @skip(if: false) { members } } } }", None, None),
    ("{ orgs { nodes { id } } }", None, None),
]


@pytest.mark.parametrize(("query", "variables", "expected"), CASES)
def test_lone_field(query: str, variables: dict[str, Any] | None, expected: Any) -> None:
    seen.clear()
    result = SCHEMA.execute_sync(query, variable_values=variables)
    assert result.errors is None
    assert seen == [expected]


# --- over the gateway -----------------------------------------------------------------


class Recorder:
    """What happened, in order: lists started ahead (how many), `members` resolvers run."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.events: list[tuple[str, int]] = []
        dispatch_now = WindowLoader.dispatch_now
        member_connection = organizations.member_connection

        def recorded_dispatch(loader: WindowLoader) -> None:
            batch = loader._open
            self.events.append(("ahead", len(batch.keys) if batch else 0))
            dispatch_now(loader)

        async def recorded_member_connection(*args: Any) -> Any:
            self.events.append(("resolver", 1))
            return await member_connection(*args)

        monkeypatch.setattr(WindowLoader, "dispatch_now", recorded_dispatch)
        monkeypatch.setattr(organizations, "member_connection", recorded_member_connection)


def member_emails(data: dict[str, Any]) -> set[str]:
    return {
        edge["node"]["email"]
        for org in data["organizations"]["nodes"]
        for edge in org["members"]["edges"]
    }


async def test_member_lists_start_before_any_members_resolver_runs(
    client: GraphQLClient, stats: SimStats, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder(monkeypatch)
    await stats.reset()
    data = await client.data(
        "query($n: Int) { organizations(first: 25) { nodes { id "
        "members(first: $n) { edges { role node { email } } } } } }",
        {"n": 10},
    )
    assert recorder.events[0] == ("ahead", 25)
    assert recorder.events[1:] == [("resolver", 1)] * 25
    users = member_emails(data)
    assert await stats.requests() == 1 + 25 + math.ceil(len(users) / 100)


@pytest.mark.parametrize(
    ("selection", "member_lists"),
    [
        ("members(first: 2) @include(if: false) { edges { node { email } } }", 0),
        (
            "a: members(first: 2) { edges { node { email } } } b: members(first: 3) { totalCount }",
            50,
        ),
        ("members(first: 2) @include(if: true) { edges { node { email } } }", 25),
    ],
)
async def test_without_read_ahead_the_same_calls(
    client: GraphQLClient,
    stats: SimStats,
    monkeypatch: pytest.MonkeyPatch,
    selection: str,
    member_lists: int,
) -> None:
    recorder = Recorder(monkeypatch)
    await stats.reset()
    await client.data(f"{{ organizations(first: 25) {{ nodes {{ id {selection} }} }} }}")
    assert ("ahead", 25) not in recorder.events
    by_route = (await stats.read())["by_route"]
    assert by_route.get("GET /organizations/{id}/members", 0) == member_lists
    assert by_route.get("GET /organizations") == 1


async def test_a_bad_cursor_is_each_lists_own_error_and_nothing_is_sent(
    client: GraphQLClient, stats: SimStats, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder(monkeypatch)
    await stats.reset()
    reply = await client.send(
        '{ organizations(first: 3) { nodes { members(after: "nope") { totalCount } } } }'
    )
    assert len(reply.errors) == 3
    assert {tuple(error["path"]) for error in reply.errors} == {
        ("organizations", "nodes", i, "members") for i in range(3)
    }
    assert [event for event in recorder.events if event[0] == "ahead"] == []
    assert await stats.requests() == 1


async def test_lists_already_loading_are_shared_not_read_ahead_again(
    client: GraphQLClient, stats: SimStats, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder(monkeypatch)
    await stats.reset()
    half = "organizations(first: 3) { nodes { members(first: 2) { nodes { email } } } }"
    data = await client.data(f"{{ a: {half} b: {half} }}")
    assert data["a"] == data["b"]
    assert [event for event in recorder.events if event[0] == "ahead"] == [("ahead", 3)]
    by_route = (await stats.read())["by_route"]
    assert by_route.get("GET /organizations/{id}/members") == 3
