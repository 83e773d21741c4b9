"""One query suite against the sim in every style: the GraphQL answers must agree.

For each non-default style, the same sim dataset is served by a mossdesk sim and a
sim speaking that style, each behind its own gateway with the matching profile.
Every query goes to both; the answers must be identical once ids (which differ by
design: strings vs integers) are taken out.
"""

import base64
import dataclasses
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from restloom.config import Settings
from restloom.sim.server import SimServer
from tests.conftest import FULL_KEY, TEST_DATASET
from tests.support import GatewayServer, GraphQLClient, SimStats

# Cursors carry the item's upstream id (to find it again when the list changes), so they
# differ between styles like the ids do.
ID_KEYS = {"id", "databaseId", "deletedId", "deletedDatabaseId", "removedUserId"} | {
    "cursor",
    "startCursor",
    "endCursor",
}


def without_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_ids(v) for k, v in value.items() if k not in ID_KEYS}
    if isinstance(value, list):
        return [without_ids(v) for v in value]
    return value


def answer(reply) -> dict[str, Any]:
    """What must agree across styles: data without ids, and each error's code and path."""
    errors = [(e["extensions"]["code"], e.get("path")) for e in reply.errors]
    return {"data": without_ids(reply.data), "errors": errors}


@asynccontextmanager
async def stack(http, style: str) -> AsyncIterator[tuple[GraphQLClient, SimStats]]:
    # No rate limit here: budgets are tested on their own, this suite is about answers.
    config = dataclasses.replace(TEST_DATASET, style=style, rate_limit=0)
    async with (
        SimServer(config) as sim,
        GatewayServer(
            Settings(
                upstream_url=sim.url,
                profile=style,
                rate_limit="off",
                cursor_secret="same-everywhere",
            )
        ) as gw,
    ):
        yield GraphQLClient(http, gw.url, {"X-API-Key": FULL_KEY}), SimStats(http, sim.url)


@pytest.fixture(params=["moco", "template"])
async def pair(request, http) -> AsyncIterator[tuple[GraphQLClient, GraphQLClient, SimStats]]:
    async with (
        stack(http, "mossdesk") as (reference, _),
        stack(http, request.param) as (other, stats),
    ):
        yield reference, other, stats


READS = [
    "{ viewer { email username role profile { firstName lastName } } }",
    "{ contacts(first: 7) { totalCount edges { cursor node { firstName lastName email createdAt } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }",
    "{ contacts(last: 9) { edges { cursor node { email } } pageInfo { hasNextPage hasPreviousPage } } }",
    "{ contacts(first: 100, orderBy: {field: EMAIL, direction: ASC}) { nodes { email phone company jobTitle updatedAt } } }",
    '{ contacts(first: 50, search: "an") { totalCount nodes { email } } }',
    '{ contacts(first: 100, updatedAfter: "2025-06-01T00:00:00Z") { totalCount nodes { email updatedAt } } }',
    "{ resources(first: 30, filter: {status: ACTIVE}, orderBy: {field: NAME, direction: ASC}) { totalCount nodes { name type status metadata owner { email } } } }",
    "{ resources(first: 40, filter: {type: PREMIUM}) { totalCount nodes { name } } }",
    "{ users(first: 100, role: ADMIN) { totalCount nodes { email role } } }",
    '{ users(first: 10, search: "a", orderBy: {field: USERNAME, direction: DESC}) { totalCount nodes { username } } }',
    "{ organizations(first: 25) { totalCount nodes { name slug memberCount members(first: 10) { totalCount edges { role joinedAt node { email } } } } } }",
    "{ organizations(first: 3, orderBy: {field: NAME, direction: DESC}) { nodes { name members(last: 2) { edges { cursor role } pageInfo { hasPreviousPage } } } } }",
    "{ webhooks(first: 10) { totalCount nodes { url events active } } }",
    "{ contacts(first: 1000) { totalCount } }",
]


@pytest.mark.parametrize("query", READS)
async def test_reads_agree(pair, query):
    reference, other, _ = pair
    expected = answer(await reference.send(query))
    assert expected["data"] is not None
    assert answer(await other.send(query)) == expected


WINDOW = """query($after: String, $before: String, $first: Int, $last: Int) {
  contacts(first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { email } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


async def walk(client: GraphQLClient) -> tuple[list[Any], list[Any]]:
    """Every contact page forwards (23 at a time) and backwards (31 at a time)."""
    forward, after = [], None
    while True:
        page = (await client.data(WINDOW, {"first": 23, "after": after}))["contacts"]
        forward.append(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    backward, before = [], None
    while True:
        page = (await client.data(WINDOW, {"last": 31, "before": before}))["contacts"]
        backward.append(page)
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    return forward, backward


async def test_windows_across_pages_agree(pair):
    reference, other, _ = pair
    expected = await walk(reference)
    assert len(expected[0]) > 3
    assert without_ids([*await walk(other)]) == without_ids([*expected])


async def test_lookups_by_id_agree(pair):
    reference, other, _ = pair
    answers = []
    for client in (reference, other):
        ids = await client.data(
            "{ contacts(first: 3) { nodes { id databaseId } } users(first: 2) { nodes { id } } }"
        )
        contact = ids["contacts"]["nodes"][2]
        by_db = await client.data(
            "query($id: ID!) { contact(id: $id) { email } }", {"id": contact["databaseId"]}
        )
        by_node = await client.data(
            "query($ids: [ID!]!) { nodes(ids: $ids) { __typename ... on Contact { email } ... on User { userEmail: email } } }",
            {"ids": [n["id"] for n in ids["contacts"]["nodes"] + ids["users"]["nodes"]]},
        )
        missing = await client.send('{ contact(id: "999999999") { email } }')
        answers.append((by_db, by_node, answer(missing)))
        assert answer(missing)["errors"] == [("NOT_FOUND", ["contact"])]
    assert answers[0] == answers[1]


async def test_errors_agree(pair):
    reference, other, _ = pair
    for client in (reference, other):
        wrong = await client.send("{ viewer { email } }", headers={"X-API-Key": "moss_k_wrong"})
        assert answer(wrong)["errors"] == [("UNAUTHENTICATED", ["viewer"])]
        forbidden = await client.send(
            'mutation { createContact(input: {firstName: "A", email: "a@example.com"}) { contact { email } } }',
            headers={"X-API-Key": TEST_DATASET.read_key},
        )
        assert answer(forbidden)["errors"] == [("FORBIDDEN", ["createContact"])]
        invalid = await client.send(
            'mutation { createContact(input: {firstName: "A", email: "nope"}) { contact { email } } }'
        )
        assert [e["extensions"]["field"] for e in invalid.errors] == ["email"]
        assert answer(invalid)["errors"] == [("VALIDATION_ERROR", ["createContact"])]


async def test_writes_agree(pair):
    reference, other, _ = pair
    email = f"conf-{uuid.uuid4().hex[:8]}@example.com"
    slug = "conf-" + uuid.uuid4().hex[:6]  # the two sims are separate: one slug for both
    results = []
    for client in (reference, other):
        created = await client.data(
            'mutation($e: String!) { createContact(input: {firstName: "Con", lastName: "Formance", email: $e}) { contact { id firstName lastName email } } }',
            {"e": email},
        )
        contact_id = created["createContact"]["contact"]["id"]
        updated = await client.data(
            'mutation($id: ID!) { updateContact(input: {id: $id, lastName: null, company: "Acme"}) { contact { firstName lastName company } } }',
            {"id": contact_id},
        )
        org = await client.data(
            'mutation($s: String!) { createOrganization(input: {name: "Conf", slug: $s}) { organization { id name slug } } }',
            {"s": slug},
        )
        org_id = org["createOrganization"]["organization"]["id"]
        user = (
            await client.data(
                "{ users(first: 1, orderBy: {field: EMAIL, direction: DESC}) { nodes { id } } }"
            )
        )["users"]["nodes"][0]
        added = await client.data(
            "mutation($o: ID!, $u: ID!) { addOrganizationMember(input: {organizationId: $o, userId: $u, role: ADMIN}) { role user { email } organization { memberCount } } }",
            {"o": org_id, "u": user["id"]},
        )
        deleted = await client.data(
            "mutation($id: ID!) { deleteContact(input: {id: $id}) { deletedId } }",
            {"id": contact_id},
        )
        assert deleted["deleteContact"]["deletedId"] == contact_id
        results.append(without_ids([created, updated, added, org]))
    assert results[0] == results[1]


NESTED = "{ organizations(first: 25) { nodes { members(first: 10) { edges { role node { email } } } } } }"


@pytest.mark.parametrize(
    ("style", "batch_lookup"), [("mossdesk", True), ("moco", False), ("template", True)]
)
async def test_nested_query_upstream_requests(http, style, batch_lookup):
    async with stack(http, style) as (client, stats):
        await stats.reset()
        data = await client.data(NESTED)
        requests = await stats.requests()
    users = {
        e["node"]["email"] for o in data["organizations"]["nodes"] for e in o["members"]["edges"]
    }
    assert len(users) > 25
    # Header pagination (moco) has no batch lookup: one GET per distinct user, concurrently.
    assert requests == 1 + 25 + (1 if batch_lookup else len(users))


def token_scheme(key: str) -> str:
    return f"Token token={key}"


def basic_scheme(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


@pytest.mark.parametrize(("style", "scheme"), [("moco", token_scheme), ("template", basic_scheme)])
async def test_callers_may_send_the_upstreams_own_scheme(http, style, scheme):
    async with stack(http, style) as (client, _):
        as_key = await client.data("{ viewer { email } }")
        own = await client.data(
            "{ viewer { email } }", headers={"X-API-Key": "", "Authorization": scheme(FULL_KEY)}
        )
        wrong = await client.send(
            "{ viewer { email } }",
            headers={"X-API-Key": "", "Authorization": scheme("moss_k_nope")},
        )
    assert own == as_key
    assert wrong.codes() == ["UNAUTHENTICATED"]
