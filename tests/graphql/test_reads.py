"""Every root field of the read side, checked against the sim's own answers."""

from tests.conftest import FULL_KEY, READ_KEY
from tests.support import upstream_list


async def test_contact_by_database_id_and_global_id(client, http, sim):
    record = (await upstream_list(http, sim.url, "/contacts", FULL_KEY))[3]
    query = (
        "query($id: ID!) { contact(id: $id) { id databaseId firstName lastName email createdAt } }"
    )
    by_db = (await client.data(query, {"id": record["id"]}))["contact"]
    assert by_db["databaseId"] == record["id"]
    assert by_db["firstName"] == record["first_name"]
    assert by_db["email"] == record["email"]
    by_global = (await client.data(query, {"id": by_db["id"]}))["contact"]
    assert by_global == by_db


async def test_contacts_search_order_and_updated_after(client, http, sim):
    records = await upstream_list(http, sim.url, "/contacts", FULL_KEY)
    needle = records[0]["last_name"]
    expected = await upstream_list(
        http, sim.url, "/contacts", FULL_KEY, search=needle, sort="email", order="asc"
    )
    data = await client.data(
        """query($s: String) { contacts(first: 100, search: $s, orderBy: {field: EMAIL, direction: ASC}) {
             totalCount nodes { databaseId } } }""",
        {"s": needle},
    )
    assert [n["databaseId"] for n in data["contacts"]["nodes"]] == [r["id"] for r in expected]
    assert data["contacts"]["totalCount"] == len(expected) > 0

    cutoff = sorted(r["updated_at"] for r in records)[len(records) // 2]
    newer = {r["id"] for r in records if r["updated_at"] > cutoff}
    data = await client.data(
        "query($t: DateTime) { contacts(first: 250, updatedAfter: $t) { totalCount nodes { databaseId } } }",
        {"t": cutoff},
    )
    assert {n["databaseId"] for n in data["contacts"]["nodes"]} == newer
    assert data["contacts"]["totalCount"] == len(newer)


async def test_resources_filter_order_and_owner(client, http, sim):
    expected = await upstream_list(
        http,
        sim.url,
        "/resources",
        FULL_KEY,
        **{"filter[status]": "active", "sort": "name", "order": "asc"},
    )
    data = await client.data(
        """{ resources(first: 250, filter: {status: ACTIVE}, orderBy: {field: NAME, direction: ASC}) {
             totalCount nodes { databaseId name status type metadata owner { databaseId } } } }"""
    )
    nodes = data["resources"]["nodes"]
    assert [n["databaseId"] for n in nodes] == [r["id"] for r in expected]
    assert {n["status"] for n in nodes} == {"ACTIVE"}
    assert all(
        n["owner"]["databaseId"] == r["owner_id"] for n, r in zip(nodes, expected, strict=True)
    )
    assert nodes[0]["metadata"] == expected[0]["metadata"]

    premium = await upstream_list(
        http, sim.url, "/resources", FULL_KEY, **{"filter[type]": "premium"}
    )
    by_type = await client.data(
        "{ resources(first: 250, filter: {type: PREMIUM}) { totalCount nodes { databaseId type } } }"
    )
    nodes = by_type["resources"]["nodes"]
    assert by_type["resources"]["totalCount"] == len(premium) > 0
    assert {n["databaseId"] for n in nodes} == {r["id"] for r in premium}
    assert {n["type"] for n in nodes} == {"PREMIUM"}
    one = expected[0]["id"]
    single = await client.data(f'{{ resource(id: "{one}") {{ name }} }}')
    assert single["resource"]["name"] == expected[0]["name"]


async def test_users_search_role_and_single(client, http, sim):
    admins = await upstream_list(http, sim.url, "/users", FULL_KEY, role="admin")
    data = await client.data(
        "{ users(first: 250, role: ADMIN) { totalCount nodes { databaseId role } } }"
    )
    assert [n["databaseId"] for n in data["users"]["nodes"]] == [u["id"] for u in admins]
    assert {n["role"] for n in data["users"]["nodes"]} == {"ADMIN"}

    someone = admins[0]
    found = await client.data(
        "query($s: String) { users(first: 10, search: $s) { nodes { email } } }",
        {"s": someone["email"]},
    )
    assert someone["email"] in [n["email"] for n in found["users"]["nodes"]]
    user = await client.data(
        f'{{ user(id: "{someone["id"]}") {{ username profile {{ firstName lastName avatarUrl }} }} }}'
    )
    assert user["user"]["profile"]["firstName"] == someone["profile"]["first_name"]


async def test_viewer_follows_the_callers_key(client):
    full = await client.data("{ viewer { databaseId } }")
    read = await client.data("{ viewer { databaseId } }", headers={"X-API-Key": READ_KEY})
    assert full["viewer"]["databaseId"] != read["viewer"]["databaseId"]


async def test_organizations_and_members(client, http, sim):
    orgs = await upstream_list(http, sim.url, "/organizations", FULL_KEY)
    org = orgs[0]
    members = await upstream_list(http, sim.url, f"/organizations/{org['id']}/members", FULL_KEY)
    data = await client.data(
        """query($id: ID!) { organization(id: $id) { name slug memberCount
             members(first: 50) { totalCount edges { role joinedAt node { databaseId } } nodes { databaseId } } } }""",
        {"id": org["id"]},
    )
    got = data["organization"]
    assert got["slug"] == org["slug"]
    assert got["members"]["totalCount"] == len(members)
    assert [e["node"]["databaseId"] for e in got["members"]["edges"]] == [
        m["user_id"] for m in members
    ]
    assert [e["role"] for e in got["members"]["edges"]] == [m["role"].upper() for m in members]
    assert [n["databaseId"] for n in got["members"]["nodes"]] == [m["user_id"] for m in members]

    listed = await client.data("{ organizations(first: 250) { totalCount nodes { databaseId } } }")
    assert listed["organizations"]["totalCount"] == len(orgs)


async def test_webhooks(client, http, sim):
    hooks = await upstream_list(http, sim.url, "/webhooks", FULL_KEY)
    data = await client.data(
        "{ webhooks(first: 250) { totalCount nodes { databaseId url events active } } }"
    )
    assert [n["databaseId"] for n in data["webhooks"]["nodes"]] == [h["id"] for h in hooks]
    one = await client.data(f'{{ webhook(id: "{hooks[0]["id"]}") {{ url events }} }}')
    assert one["webhook"]["url"] == hooks[0]["url"]


async def test_node_and_nodes(client, stats):
    data = await client.data(
        "{ contacts(first: 3) { nodes { id databaseId } } users(first: 2) { nodes { id } } }"
    )
    ids = [n["id"] for n in data["contacts"]["nodes"]] + [n["id"] for n in data["users"]["nodes"]]
    await stats.reset()
    got = await client.data(
        """query($ids: [ID!]!, $one: ID!) {
             nodes(ids: $ids) { __typename id ... on Contact { databaseId } }
             node(id: $one) { id }
           }""",
        {"ids": ids, "one": ids[0]},
    )
    assert [n["id"] for n in got["nodes"]] == ids
    assert [n["__typename"] for n in got["nodes"]] == ["Contact"] * 3 + ["User"] * 2
    assert got["node"]["id"] == ids[0]
    # One batch lookup per collection; the repeated contact comes from the loader.
    assert await stats.requests() == 2
