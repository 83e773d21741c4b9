"""Ids are data, never paths (issue 8, item 1).

Every probe goes through a real gateway over the sim. A hostile id is refused in
the GraphQL layer with BAD_USER_INPUT naming the argument, and the sim's request
counter does not move; afterwards the object the probe aimed at is read straight
from the sim to show it is still there. A second gateway, whose profile's id
pattern lets `?`, `#`, `%` and `=` through, shows the layer behind it: `urls.py`
quotes such an id as one path segment, so it reaches the upstream as a (missing)
object id, never as a query string, a fragment or a parent directory.
"""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import aiohttp
import pytest

from restloom.config import Settings
from restloom.sim.server import SimServer
from restloom.upstream.errors import Unsupported
from restloom.upstream.profile import MOCO, MOSSDESK, profile_from_table
from restloom.upstream.urls import collection_path, member_path, object_path
from tests.conftest import FULL_KEY, TEST_DATASET
from tests.support import GatewayServer, GraphQLClient, SimStats


def global_id(type_name: str, database_id: str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{database_id}".encode()).decode().rstrip("=")


async def sim_get(http: aiohttp.ClientSession, sim: SimServer, path: str) -> tuple[int, Any]:
    async with http.get(f"{sim.url}/api/v1{path}", headers={"X-API-Key": FULL_KEY}) as resp:
        return resp.status, await resp.json()


async def first_ids(client: GraphQLClient) -> dict[str, str]:
    data = await client.data(
        """{ viewer { databaseId email }
             contacts(first: 1) { nodes { databaseId } }
             organizations(first: 1) { nodes { databaseId } }
             webhooks(first: 1) { nodes { databaseId } } }"""
    )
    return {
        "me": data["viewer"]["databaseId"],
        "email": data["viewer"]["email"],
        "contact": data["contacts"]["nodes"][0]["databaseId"],
        "organization": data["organizations"]["nodes"][0]["databaseId"],
        "webhook": data["webhooks"]["nodes"][0]["databaseId"],
    }


async def refused(
    client: GraphQLClient, stats: SimStats, query: str, variables: dict[str, Any], argument: str
) -> None:
    """`query` is BAD_USER_INPUT naming `argument`, and reaches the upstream 0 times."""
    await stats.reset()
    reply = await client.send(query, variables)
    assert reply.codes() == ["BAD_USER_INPUT"], reply.errors
    assert reply.errors[0]["extensions"]["argument"] == argument, reply.errors
    assert await stats.requests() == 0


DELETE_CONTACT = "mutation($id: ID!) { deleteContact(input: {id: $id}) { deletedId } }"
UPDATE_CONTACT = (
    'mutation($id: ID!) { updateContact(input: {id: $id, firstName: "Mallory"}) '
    "{ contact { id } } }"
)
REMOVE_MEMBER = """mutation($org: ID!, $user: ID!) {
  removeOrganizationMember(input: {organizationId: $org, userId: $user}) { removedUserId } }"""
ADD_MEMBER = """mutation($org: ID!, $user: ID!) {
  addOrganizationMember(input: {organizationId: $org, userId: $user}) { role } }"""


async def test_delete_contact_cannot_reach_an_organization(client, stats, http, sim):
    ids = await first_ids(client)
    probe = f"../organizations/{ids['organization']}"
    await refused(client, stats, DELETE_CONTACT, {"id": probe}, "id")
    assert (await sim_get(http, sim, f"/organizations/{ids['organization']}"))[0] == 200


async def test_update_contact_cannot_reach_the_callers_own_user(client, stats, http, sim):
    ids = await first_ids(client)
    await refused(client, stats, UPDATE_CONTACT, {"id": "../users/me"}, "id")
    status, body = await sim_get(http, sim, "/users/me")
    assert status == 200 and body["data"]["email"] == ids["email"]
    assert body["data"].get("first_name") != "Mallory"


async def test_remove_member_cannot_reach_a_contact(client, stats, http, sim):
    ids = await first_ids(client)
    variables = {"org": ids["organization"], "user": f"../../../contacts/{ids['contact']}"}
    await refused(client, stats, REMOVE_MEMBER, variables, "userId")
    assert (await sim_get(http, sim, f"/contacts/{ids['contact']}"))[0] == 200


HOSTILE = [
    "x?force=1",
    "x#y",
    "%2e%2e",
    "%2E%2E",
    "..",
    ".",
    "a/b",
    "a\\b",
    "cnt_ok\n",
    " cnt_ok",
    "cnt_ok&per_page=1",
    "é",
    "c" * 300,
]


@pytest.mark.parametrize("probe", HOSTILE)
async def test_hostile_ids_never_reach_the_upstream(client, stats, probe):
    ids = await first_ids(client)
    await refused(client, stats, "query($id: ID!) { contact(id: $id) { id } }", {"id": probe}, "id")
    await refused(client, stats, DELETE_CONTACT, {"id": probe}, "id")
    await refused(client, stats, UPDATE_CONTACT, {"id": probe}, "id")
    await refused(
        client,
        stats,
        "mutation($id: ID!) { testWebhook(input: {id: $id}) { delivered } }",
        {"id": probe},
        "id",
    )
    await refused(client, stats, ADD_MEMBER, {"org": probe, "user": ids["me"]}, "organizationId")
    await refused(client, stats, ADD_MEMBER, {"org": ids["organization"], "user": probe}, "userId")
    await refused(
        client, stats, REMOVE_MEMBER, {"org": ids["organization"], "user": probe}, "userId"
    )


@pytest.mark.parametrize("inner", ["../organizations/org_0000000000", "x?force=1", "%2e%2e", ".."])
async def test_global_ids_carrying_hostile_ids_are_refused(client, stats, inner):
    hostile = global_id("Contact", inner)
    await refused(client, stats, "query($id: ID!) { node(id: $id) { id } }", {"id": hostile}, "id")
    await refused(
        client, stats, "query($id: ID!) { contact(id: $id) { id } }", {"id": hostile}, "id"
    )
    await refused(client, stats, DELETE_CONTACT, {"id": hostile}, "id")
    await stats.reset()
    reply = await client.send(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [hostile, hostile + "x"]}
    )
    assert reply.codes() == ["BAD_USER_INPUT", "BAD_USER_INPUT"]
    assert {e["extensions"]["argument"] for e in reply.errors} == {"ids"}
    assert await stats.requests() == 0


async def test_good_ids_in_a_nodes_list_still_load_beside_a_bad_one(client, stats):
    ids = await first_ids(client)
    good = global_id("Contact", ids["contact"])
    await stats.reset()
    reply = await client.send(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        {"ids": [good, global_id("Contact", "..")]},
    )
    assert reply.data["nodes"][0] == {"id": good} and reply.data["nodes"][1] is None
    assert reply.codes() == ["BAD_USER_INPUT"]
    assert await stats.requests() == 1


async def test_moco_ids_are_integers(http):
    config = dataclasses.replace(TEST_DATASET, style="moco", rate_limit=0)
    async with (
        SimServer(config) as sim,
        GatewayServer(Settings(upstream_url=sim.url, profile="moco")) as gateway,
    ):
        client = GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})
        stats = SimStats(http, sim.url)
        for probe in ("cnt_abc", "12a", "-1", "1.0", "1" * 19):
            await refused(
                client,
                stats,
                "query($id: ID!) { contact(id: $id) { id } }",
                {"id": probe},
                "id",
            )
        await stats.reset()
        reply = await client.send('{ contact(id: "999999999") { id } }')
        assert reply.codes() == ["NOT_FOUND"] and await stats.requests() == 1


# --- the layer behind: urls.py quotes and refuses on its own ------------------------


PERMISSIVE = {"extends": "mossdesk", "id_pattern": r"[A-Za-z0-9_%?#=&]+"}


@pytest.mark.parametrize(
    ("probe", "decoded_path"),
    [
        ("x?force=1", "/api/v1/contacts/x?force=1"),
        ("x#y", "/api/v1/contacts/x#y"),
        ("%2e%2e", "/api/v1/contacts/%2e%2e"),
        ("a&per_page=1", "/api/v1/contacts/a&per_page=1"),
    ],
)
async def test_an_id_the_pattern_lets_through_is_still_one_quoted_segment(
    http, sim, stats, probe, decoded_path
):
    settings = Settings(upstream_url=sim.url, profile="loose", profiles={"loose": PERMISSIVE})
    async with GatewayServer(settings) as gateway:
        client = GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})
        async with http.delete(sim.url + "/__sim/requests") as resp:
            assert resp.status in (200, 204)
        await stats.reset()
        reply = await client.send(DELETE_CONTACT, {"id": probe})
        assert reply.codes() == ["NOT_FOUND"], reply.errors
        assert await stats.requests() == 1
        async with http.get(sim.url + "/__sim/requests") as resp:
            [entry] = (await resp.json())["requests"]
    # The sim decodes the path once: the whole id arrived as one segment, no query.
    assert (entry["method"], entry["path"], entry["query"]) == ("DELETE", decoded_path, "")


def test_urls_refuse_what_the_pattern_refuses_and_dot_segments_always():
    # Validation would refuse this pattern (see below); model_copy skips it, to show that
    # urls.py refuses dot segments on its own.
    loose = MOSSDESK.model_copy(update={"id_pattern": r"[A-Za-z0-9.]+"})
    for profile, probe in [
        (MOSSDESK, "../x"),
        (MOSSDESK, "a/b"),
        (MOCO, "cnt_1"),
        (loose, "."),
        (loose, ".."),
        (MOSSDESK, "x" * 300),
    ]:
        with pytest.raises(Unsupported):
            object_path(profile, "contacts", probe)
        with pytest.raises(Unsupported):
            member_path(profile, "org_1", probe) if profile is not MOCO else member_path(
                profile, "1", probe
            )
        with pytest.raises(Unsupported):
            collection_path(profile, "members", probe)
    assert object_path(loose, "contacts", "a.b").path == "/api/v1/contacts/a.b"
    assert object_path(MOSSDESK, "webhooks", "whk_1", action="test").path == (
        "/api/v1/webhooks/whk_1/test"
    )


@pytest.mark.parametrize("pattern", [".*", ".+", r"[^/]+", r"\.{1,2}|[a-z]+", "("])
def test_a_profile_whose_pattern_admits_dot_segments_does_not_load(pattern):
    with pytest.raises(ValueError, match="id_pattern"):
        profile_from_table("bad", {"extends": "mossdesk", "id_pattern": pattern})
