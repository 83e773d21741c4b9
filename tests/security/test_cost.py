"""Cost is predicted upstream requests (issue 8, item 4).

Every test but the first two talks to a real gateway over a real upstream on
loopback: the sim in each of its styles, or (for the hard cap) a small upstream of
our own that serves short pages. Refusals are checked with the upstream's own
request counter: a refused operation sends nothing. `extensions.cost` is checked
against the sim's count too, and `actual <= predicted` across the conformance suite's
queries, its cursor walks, lookups and writes, for all three profiles.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from graphql import GraphQLObjectType, parse
from restloom.config import Settings
from restloom.graphql.cost import predict
from restloom.graphql.cost_rules import RULES
from restloom.graphql.cost_walk import MAX_VISITS, TooComplex
from restloom.graphql.schema import build_schema
from restloom.sim.server import SimServer
from restloom.upstream.profile import BUILTIN_PROFILES
from tests.conformance.test_styles import READS, WINDOW, stack
from tests.conftest import FULL_KEY, TEST_DATASET
from tests.support import GatewayServer, GraphQLClient, Reply, SimStats

STYLES = ["mossdesk", "moco", "template"]

NESTED = (
    "{ organizations(first: 25) { nodes { name members(first: 10) "
    "{ totalCount edges { role node { email } } } } } }"
)
# README.md, "A short tour" (the nested query is NESTED).
TOUR = [
    "{ viewer { email role profile { firstName lastName } } }",
    '{ contacts(first: 5, search: "smith", orderBy: {field: LAST_NAME, direction: ASC}) '
    "{ totalCount pageInfo { hasNextPage endCursor } "
    "edges { cursor node { id databaseId firstName lastName email } } } }",
    "{ resources(last: 3, filter: {status: ACTIVE}) { nodes { name type owner { email } } } }",
    NESTED,
    '{ node(id: "Q29udGFjdDpjbnRfMTIz") { id ... on Contact { email } } }',
    '{ contact(id: "cnt_0a1b2c3d4e") { email } }',
]


def aliased(count: int, members: int) -> str:
    """The issue's probe: `count` aliases of organizations -> members(first: members)."""
    one = "organizations(first: 25) {{ nodes {{ members(first: {m}) {{ nodes {{ email }} }} }} }}"
    return "{ " + " ".join(f"a{i}: " + one.format(m=members) for i in range(count)) + " }"


def cost_of(reply: Reply) -> dict[str, int]:
    cost = reply.body["extensions"]["cost"]
    assert set(cost) == {"predicted", "actual"}, cost
    return cost


def predicted_for(query: str, style: str, variables: dict[str, Any] | None = None) -> int:
    schema = build_schema()._schema
    return predict(schema, parse(query), None, variables, BUILTIN_PROFILES[style]).requests


# --- the prediction on its own --------------------------------------------------------


def test_nested_lists_multiply_and_lookups_batch_per_field():
    # 1 organizations page + 25 member lists + the users: ceil(250 / 100) batches where
    # the upstream has a batch lookup, one GET per member where it has none (moco).
    assert predicted_for(NESTED, "mossdesk") == 1 + 25 + 3
    assert predicted_for(NESTED, "template") == 1 + 25 + 3
    assert predicted_for(NESTED, "moco") == 1 + 25 + 250
    # `last` without `before`: a page for the total, then at most two for the tail;
    # 3 owners in one batch lookup (mossdesk) or 3 GETs (moco).
    last = "{ resources(last: 3) { nodes { owner { email } } } }"
    assert predicted_for(last, "mossdesk") == 3 + 1
    assert predicted_for(last, "moco") == 3 + 3
    # A member list without its users costs no user lookup (moco: 100 per page by default).
    assert predicted_for("{ organizations { nodes { members { totalCount } } } }", "moco") == 101
    # Mutations run one after another: each write, plus the merge read of a
    # replace_on_patch map (moco's customProperties) when one is given.
    update = (
        'mutation { updateContact(input: {id: "1", customProperties: {a: 1}}) { contact { id } } }'
    )
    assert predicted_for(update, "moco") == 2
    assert predicted_for(update, "mossdesk") == 1


def test_a_document_too_large_to_walk_is_refused_not_walked():
    # The front door's limits stop such documents long before; the walk has its own bound.
    def wide(count: int) -> str:  # two fields to visit per alias
        return "{ " + " ".join(f"a{i}: viewer {{ id }}" for i in range(count)) + " }"

    assert predicted_for(wide(MAX_VISITS // 2), "mossdesk") == MAX_VISITS // 2
    with pytest.raises(TooComplex):
        predicted_for(wide(MAX_VISITS // 2 + 1), "mossdesk")


def test_every_resolver_has_a_rule():
    """A new resolver must say what it costs: none is silently free."""
    schema = build_schema()._schema
    missing = []
    for type_name, type_ in schema.type_map.items():
        if type_name.startswith("__") or not isinstance(type_, GraphQLObjectType):
            continue
        for field_name, field in type_.fields.items():
            definition = (field.extensions or {}).get("strawberry-definition")
            if definition is None or definition.base_resolver is None:
                continue
            if type_name.endswith("Connection") and field_name == "nodes":
                continue  # a generic connection's nodes are its edges' nodes
            if (type_name, field_name) not in RULES.by_field and type_name not in RULES.by_type:
                missing.append(f"{type_name}.{field_name}")
    assert missing == []


# --- refused before any upstream call -------------------------------------------------


@pytest.fixture
async def mossdesk(http: aiohttp.ClientSession) -> AsyncIterator[tuple[GraphQLClient, SimStats]]:
    async with stack(http, "mossdesk") as pair:
        yield pair


async def test_probe_is_refused_with_no_upstream_call(mossdesk):
    client, stats = mossdesk
    await stats.reset()
    # The probe: 30 aliases (the alias limit may refuse it first).
    probe = await client.send(aliased(30, 250))
    assert probe.data is None and probe.errors
    # Within the alias limit, the cost limit refuses it.
    variant = await client.send(aliased(10, 250))
    assert variant.data is None
    assert variant.codes() == ["QUERY_TOO_COSTLY"]
    extensions = variant.errors[0]["extensions"]
    assert extensions["cost"] == {"predicted": 10 * (1 + 25 + 63), "limit": 300}
    assert cost_of(variant) == {"predicted": 890, "actual": 0}
    assert await stats.requests() == 0


async def test_variables_fragments_and_skipped_fields_count(mossdesk):
    client, stats = mossdesk
    query = """
      query($n: Int, $m: Int, $skip: Boolean!) {
        ...Orgs @skip(if: $skip)
      }
      fragment Orgs on Query {
        organizations(first: $n) { edges { node { ...Members } } }
      }
      fragment Members on Organization { members(first: $m) { nodes { email } } }
    """
    await stats.reset()
    # 1 + 250 member lists + ceil(250 * 250 / 100) user batches, even when skipped.
    for skip in (True, False):
        refused = await client.send(query, {"n": 250, "m": 250, "skip": skip})
        assert refused.codes() == ["QUERY_TOO_COSTLY"]
        assert refused.errors[0]["extensions"]["cost"]["predicted"] == 1 + 250 + 625
    assert await stats.requests() == 0
    served = await client.send(query, {"n": 4, "m": 5, "skip": False})
    assert not served.errors
    assert cost_of(served) == {"predicted": 1 + 4 + 1, "actual": await stats.requests()}


async def test_the_limit_is_a_setting(http):
    config = TEST_DATASET
    async with SimServer(config) as sim:
        stats = SimStats(http, sim.url)
        for limit, refused in ((28, True), (29, False)):
            settings = Settings(upstream_url=sim.url, max_upstream_requests=limit)
            async with GatewayServer(settings) as gateway:
                client = GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})
                await stats.reset()
                reply = await client.send(NESTED)
                if refused:
                    assert reply.codes() == ["QUERY_TOO_COSTLY"]
                    assert reply.errors[0]["extensions"]["cost"] == {"predicted": 29, "limit": 28}
                    assert await stats.requests() == 0
                else:
                    assert not reply.errors
                    assert cost_of(reply)["actual"] == await stats.requests() == 27


# --- actual <= predicted ------------------------------------------------------------------


@pytest.mark.parametrize("style", STYLES)
async def test_the_readme_tour_runs_within_the_default_limit(http, style):
    async with stack(http, style) as (client, stats):
        for query in TOUR:
            await stats.reset()
            reply = await client.send(query)
            assert "QUERY_TOO_COSTLY" not in reply.codes(), query
            cost = cost_of(reply)
            assert cost["actual"] == await stats.requests()
            assert cost["actual"] <= cost["predicted"] <= 300, (query, cost)


class Recorder:
    """Sends each operation and checks its `extensions.cost` against the sim's count."""

    def __init__(self, client: GraphQLClient, stats: SimStats) -> None:
        self.client = client
        self.stats = stats
        self.checked = 0

    async def send(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        await self.stats.reset()
        reply = await self.client.send(query, variables)
        cost = cost_of(reply)
        assert cost["actual"] == await self.stats.requests(), query
        assert cost["actual"] <= cost["predicted"], (query, variables, cost)
        self.checked += 1
        return reply.data


@pytest.mark.parametrize("style", STYLES)
async def test_actual_never_exceeds_predicted(http, style):
    async with stack(http, style) as (client, stats):
        run = Recorder(client, stats)
        for query in READS:
            await run.send(query)
        # Cursor walks, forwards and backwards (the conformance suite's windows).
        after: str | None = None
        while True:
            page = (await run.send(WINDOW, {"first": 23, "after": after}))["contacts"]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        before: str | None = None
        while True:
            page = (await run.send(WINDOW, {"last": 31, "before": before}))["contacts"]
            if not page["pageInfo"]["hasPreviousPage"]:
                break
            before = page["pageInfo"]["startCursor"]
        ids = await run.send(
            "{ contacts(first: 3) { nodes { id databaseId } } users(first: 2) { nodes { id } } "
            "webhooks(first: 1) { nodes { id } } }"
        )
        every = [n["id"] for n in ids["contacts"]["nodes"] + ids["users"]["nodes"]]
        await run.send(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Contact { email } } }",
            {"ids": every},
        )
        await run.send(
            "query($id: ID!) { a: contact(id: $id) { email } b: node(id: $id) { id } }",
            {"id": every[0]},
        )
        await writes(run, ids["webhooks"]["nodes"][0]["id"])
        assert run.checked > 20


async def writes(run: Recorder, webhook_id: str) -> None:
    email = f"cost-{uuid.uuid4().hex[:8]}@example.com"
    created = await run.send(
        'mutation($e: String!) { createContact(input: {firstName: "C", email: $e}) '
        "{ contact { id } } }",
        {"e": email},
    )
    contact_id = created["createContact"]["contact"]["id"]
    await run.send(
        'mutation($id: ID!) { updateContact(input: {id: $id, company: "Acme", '
        'customProperties: {Tier: "gold"}}) { contact { company } } }',
        {"id": contact_id},
    )
    org = await run.send(
        'mutation($s: String!) { createOrganization(input: {name: "Cost", slug: $s}) '
        "{ organization { id } } }",
        {"s": "cost-" + uuid.uuid4().hex[:6]},
    )
    org_id = org["createOrganization"]["organization"]["id"]
    user = await run.send("{ users(first: 1) { nodes { id } } }")
    user_id = user["users"]["nodes"][0]["id"]
    await run.send(
        "mutation($o: ID!, $u: ID!) { addOrganizationMember(input: {organizationId: $o, "
        "userId: $u}) { role user { email } organization { memberCount "
        "members(first: 5) { nodes { email } } } } }",
        {"o": org_id, "u": user_id},
    )
    await run.send(
        "mutation($o: ID!, $u: ID!) { removeOrganizationMember(input: {organizationId: $o, "
        "userId: $u}) { organization { memberCount } } }",
        {"o": org_id, "u": user_id},
    )
    await run.send(
        "mutation($id: ID!) { testWebhook(input: {id: $id}) { delivered webhook { url } } }",
        {"id": webhook_id},
    )
    await run.send(
        "mutation($id: ID!) { deleteContact(input: {id: $id}) { deletedId } }",
        {"id": contact_id},
    )


# --- the hard cap ---------------------------------------------------------------------


class ShortPages:
    """A mossdesk-style upstream that first answers 429 (retry at once), then serves
    contact pages of one item that claim 50: the window reads again for the items it
    was promised, which no prediction of a well-behaved list counts. Counts every API
    request it receives."""

    def __init__(self) -> None:
        self.requests = 0
        self.app = web.Application()
        self.app.router.add_get("/api/v1/contacts", self.contacts)
        self.runner = web.AppRunner(self.app)
        self.url = ""

    async def contacts(self, request: web.Request) -> web.Response:
        self.requests += 1
        if self.requests == 1:
            error = {"error": {"code": "RATE_LIMITED", "message": "slow down"}}
            return web.json_response(error, status=429, headers={"Retry-After": "0"})
        page = int(request.query.get("page", "1"))
        item = {"id": f"cnt_short{page}", "first_name": "Short", "email": "s@example.com"}
        meta = {"page": page, "per_page": 1, "total": 50, "total_pages": 50}
        return web.json_response({"data": [item], "meta": meta})

    async def __aenter__(self) -> ShortPages:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.runner.cleanup()


async def test_the_hard_cap_stops_what_the_prediction_did_not_count(http):
    query = "{ contacts(first: 5) { nodes { firstName } } }"
    # Predicted: 1 read. Sent: the 429, its repeat, then a second read for the short page.
    for read_retries, refused in ((0, True), (1, False)):
        async with ShortPages() as upstream:
            # The cap: 1 read x (1 + read_retries + one repeat after a 429).
            settings = Settings(upstream_url=upstream.url, api_key="k", read_retries=read_retries)
            async with GatewayServer(settings) as gateway:
                reply = await GraphQLClient(http, gateway.url).send(query)
        if refused:
            assert reply.codes() == ["QUERY_TOO_COSTLY"]
            assert cost_of(reply) == {"predicted": 1, "actual": 2}
            assert upstream.requests == 2  # the third call was never sent
        else:
            assert not reply.errors
            assert cost_of(reply) == {"predicted": 1, "actual": 3}
            assert upstream.requests == 3


async def test_without_response_extensions_only_the_refusal_says_what_it_cost(http):
    async with SimServer(TEST_DATASET) as sim:
        settings = Settings(upstream_url=sim.url, response_extensions=False)
        async with GatewayServer(settings) as gateway:
            client = GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})
            served = await client.send(NESTED)
            refused = await client.send(aliased(10, 250))
    assert not served.errors and "extensions" not in served.body
    assert refused.codes() == ["QUERY_TOO_COSTLY"]
    assert refused.errors[0]["extensions"]["cost"] == {"predicted": 890, "limit": 300}
    assert "extensions" not in refused.body


MOVED = """query($after: String, $before: String, $first: Int, $last: Int) {
  contacts(first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { email } }
  }
}"""


@pytest.mark.parametrize("style", STYLES)
async def test_cursors_of_a_list_that_moved_stay_within_the_prediction(http, style):
    """Cursors far apart, and cursors whose items moved: the realigning reads are counted."""
    async with stack(http, style) as (client, stats):
        run = Recorder(client, stats)
        edges = (await run.send(MOVED, {"first": 100}))["contacts"]["edges"]
        near, far = edges[3]["cursor"], edges[90]["cursor"]
        await run.send(MOVED, {"after": near, "before": far, "first": 4})
        await run.send(MOVED, {"after": near, "before": far, "last": 4})
        # New contacts come first (newest first): every cursor's item moves down by 30.
        for n in range(30):
            await run.send(
                'mutation($e: String!) { createContact(input: {firstName: "M", email: $e}) '
                "{ contact { id } } }",
                {"e": f"moved-{n}-{uuid.uuid4().hex[:6]}@example.com"},
            )
        for variables in (
            {"after": near, "first": 10},
            {"before": far, "last": 10},
            {"after": near, "before": far, "first": 5},
            {"after": far, "last": 3},
        ):
            await run.send(MOVED, variables)
