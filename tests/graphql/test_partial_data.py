"""Partial data: a failed child list or child object is null with its error; the rest survives."""

from tests.support import upstream_list

ORGS_WITH_MEMBERS = """{
  organizations(first: 3) {
    nodes { databaseId name members(first: 2) { totalCount nodes { email } } }
  }
}"""


async def arm(http, sim_url: str, mode: str, path_prefix: str, count: int = 1) -> None:
    fault = {"mode": mode, "count": count, "method": "GET", "path_prefix": path_prefix}
    async with http.post(sim_url + "/__sim/faults", json=fault) as resp:
        assert resp.status in (200, 201, 204), await resp.text()


async def test_a_failed_member_list_nulls_only_its_own_field(client, http, sim):
    first = (await client.data("{ organizations(first: 1) { nodes { databaseId } } }"))[
        "organizations"
    ]["nodes"][0]["databaseId"]
    await arm(http, sim.url, "error500", f"/api/v1/organizations/{first}/members")
    reply = await client.send(ORGS_WITH_MEMBERS)
    nodes = reply.data["organizations"]["nodes"]
    assert len(nodes) == 3
    assert nodes[0]["databaseId"] == first and nodes[0]["members"] is None
    assert nodes[0]["name"]
    assert all(n["members"] is not None for n in nodes[1:])
    assert len(reply.errors) == 1
    assert reply.errors[0]["path"] == ["organizations", "nodes", 0, "members"]
    assert reply.errors[0]["extensions"]["status"] == 500


async def test_a_failed_owner_nulls_only_that_owner(client, http, sim):
    from tests.conftest import FULL_KEY

    resources = await upstream_list(http, sim.url, "/resources", FULL_KEY)
    owned = [r for r in resources if r.get("owner_id")]
    assert owned
    # Every user lookup fails: owners are null, the resources themselves are served.
    await arm(http, sim.url, "error500", "/api/v1/users", count=10)
    reply = await client.send("{ resources(first: 5) { nodes { name owner { email } } } }")
    nodes = reply.data["resources"]["nodes"]
    assert len(nodes) == 5 and all(n["name"] for n in nodes)
    assert reply.errors
    assert all(e["path"][-1] == "owner" for e in reply.errors)
