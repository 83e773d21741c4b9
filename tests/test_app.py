"""The HTTP surface: request ids, credentials, GET queries, GraphiQL, health."""

from restloom.config import Settings
from tests.conftest import FULL_KEY, READ_KEY
from tests.support import GatewayServer, GraphQLClient


async def test_request_id_is_kept_and_returned(client):
    reply = await client.send(
        '{ contact(id: "cnt_nope") { email } }', headers={"X-Request-Id": "trace-abc-123"}
    )
    assert reply.headers["X-Request-Id"] == "trace-abc-123"
    assert reply.errors[0]["extensions"]["requestId"] == "trace-abc-123"


async def test_request_id_is_generated_when_absent_or_unsafe(client):
    plain = await client.send("{ viewer { email } }")
    unsafe = await client.send(
        "{ viewer { email } }", headers={"X-Request-Id": "bad id\twith spaces"}
    )
    assert len(plain.headers["X-Request-Id"]) == 32
    assert unsafe.headers["X-Request-Id"] != "bad id\twith spaces"


async def test_request_id_reaches_every_upstream_call(client, http, sim):
    async with http.delete(sim.url + "/__sim/requests"):
        pass
    await client.data(
        "{ viewer { email } organizations(first: 3) { nodes { members(first: 2) { nodes { email } } } } }",
        headers={"X-Request-Id": "trace-read-7"},
    )
    async with http.get(sim.url + "/__sim/requests") as resp:
        seen = (await resp.json())["requests"]
    assert len(seen) == 1 + 1 + 3 + 1  # viewer, organizations, 3 member lists, 1 user batch
    assert {r["request_id"] for r in seen} == {"trace-read-7"}


async def test_request_id_reaches_the_upstream_on_writes(client, http, sim):
    await client.data(
        'mutation { updateViewer(input: {username: "traced_user"}) { user { username } } }',
        headers={"X-Request-Id": "trace-upstream-1"},
    )
    async with http.get(sim.url + "/__sim/audit") as resp:
        entries = (await resp.json())["entries"]
    assert entries[-1]["request_id"] == "trace-upstream-1"


async def test_service_credential_is_used_when_caller_sends_none(http, sim):
    async with GatewayServer(Settings(upstream_url=sim.url, api_key=FULL_KEY)) as gateway:
        anonymous = GraphQLClient(http, gateway.url)
        keyed = GraphQLClient(http, gateway.url, {"X-API-Key": READ_KEY})
        service_viewer = await anonymous.data("{ viewer { databaseId } }")
        caller_viewer = await keyed.data("{ viewer { databaseId } }")
        full_viewer = await keyed.data("{ viewer { databaseId } }", headers={"X-API-Key": FULL_KEY})
    assert service_viewer == full_viewer
    assert caller_viewer != service_viewer


async def test_bearer_token_is_forwarded(client, http, sim):
    user = await client.data(
        "{ users(first: 1, orderBy: {field: EMAIL, direction: ASC}) { nodes { databaseId email } } }"
    )
    someone = user["users"]["nodes"][0]
    async with http.post(
        sim.url + "/api/v1/auth/login", json={"email": someone["email"], "password": "password"}
    ) as resp:
        token = (await resp.json())["access_token"]
    me = await client.data(
        "{ viewer { databaseId } }", headers={"X-API-Key": "", "Authorization": f"Bearer {token}"}
    )
    assert me["viewer"]["databaseId"] == someone["databaseId"]


async def test_get_queries_graphiql_and_health(http, gateway):
    async with http.get(gateway.url + "/graphql", params={"query": "{ __typename }"}) as resp:
        assert (await resp.json())["data"] == {"__typename": "Query"}
    async with http.get(gateway.url + "/graphql", headers={"Accept": "text/html"}) as resp:
        assert resp.status == 200
        assert "graphiql" in (await resp.text()).lower()
    async with http.get(gateway.url + "/healthz") as resp:
        assert (await resp.json()) == {"status": "ok"}
