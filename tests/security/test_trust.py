"""The service credential is not a master key (issue 8, item 2).

A gateway with `api_key` (as `restloom demo` runs) in front of the sim. Callers
without a credential of their own get queries; mutations and impersonation are
refused before anything reaches the upstream, unless the operator allows them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from restloom.config import Settings
from restloom.sim.server import SimServer
from tests.conftest import FULL_KEY, READ_KEY
from tests.processes import restloom_demo
from tests.support import GatewayServer, GraphQLClient, SimStats


async def user_record(http: aiohttp.ClientSession, sim: SimServer, path: str) -> dict[str, Any]:
    """A user as the upstream has it, read straight from the sim with the full key."""
    async with http.get(f"{sim.url}/api/v1{path}", headers={"X-API-Key": FULL_KEY}) as resp:
        assert resp.status == 200, await resp.text()
        return dict((await resp.json())["data"])


async def another_user(http: aiohttp.ClientSession, sim: SimServer) -> dict[str, Any]:
    me = await user_record(http, sim, "/users/me")
    async with http.get(
        f"{sim.url}/api/v1/users", params={"per_page": "5"}, headers={"X-API-Key": FULL_KEY}
    ) as resp:
        users = (await resp.json())["data"]
    return next(u for u in users if u["id"] != me["id"])


async def serve(sim: SimServer, **settings: Any) -> GatewayServer:
    return GatewayServer(Settings(upstream_url=sim.url, api_key=FULL_KEY, **settings))


@pytest.fixture
async def service_gateway(sim: SimServer) -> AsyncIterator[GatewayServer]:
    async with await serve(sim) as gateway:
        yield gateway


@pytest.fixture
def anonymous(http: aiohttp.ClientSession, service_gateway: GatewayServer) -> GraphQLClient:
    return GraphQLClient(http, service_gateway.url)


async def test_anonymous_impersonation_is_forbidden_without_upstream_calls(
    anonymous: GraphQLClient, http: aiohttp.ClientSession, sim: SimServer, stats: SimStats
) -> None:
    target = await another_user(http, sim)
    await stats.reset()
    reply = await anonymous.send(
        "{ viewer { databaseId email } }", headers={"X-Impersonate-User-Id": target["id"]}
    )
    assert reply.codes() == ["FORBIDDEN"]
    assert "own credential" in reply.errors[0]["message"]
    assert reply.data is None
    assert await stats.requests() == 0


async def test_anonymous_impersonated_update_viewer_changes_nothing(
    anonymous: GraphQLClient, http: aiohttp.ClientSession, sim: SimServer, stats: SimStats
) -> None:
    target = await another_user(http, sim)
    await stats.reset()
    reply = await anonymous.send(
        'mutation { updateViewer(input: {email: "attacker@evil.example"}) { user { email } } }',
        headers={"X-Impersonate-User-Id": target["id"]},
    )
    assert reply.codes() == ["FORBIDDEN"]
    assert await stats.requests() == 0
    after = await user_record(http, sim, f"/users/{target['id']}")
    assert after["email"] == target["email"]


async def test_anonymous_mutation_is_forbidden(
    anonymous: GraphQLClient, http: aiohttp.ClientSession, sim: SimServer, stats: SimStats
) -> None:
    before = await user_record(http, sim, "/users/me")
    await stats.reset()
    reply = await anonymous.send(
        'mutation { updateViewer(input: {email: "attacker@evil.example"}) { user { email } } }'
    )
    assert reply.codes() == ["FORBIDDEN"]
    assert "updateViewer" in reply.errors[0]["message"]
    assert await stats.requests() == 0
    assert (await user_record(http, sim, "/users/me"))["email"] == before["email"]


async def test_a_mutation_hidden_in_a_fragment_is_still_seen(
    anonymous: GraphQLClient, stats: SimStats
) -> None:
    await stats.reset()
    reply = await anonymous.send(
        "mutation { ...Writes } "
        'fragment Writes on Mutation { ... on Mutation { deleteContact(input: {id: "cnt_x"}) '
        "{ deletedId } } }"
    )
    assert reply.codes() == ["FORBIDDEN"]
    assert await stats.requests() == 0


async def test_a_public_mutation_does_not_carry_a_private_one(
    anonymous: GraphQLClient, stats: SimStats
) -> None:
    await stats.reset()
    reply = await anonymous.send(
        'mutation { login(input: {email: "a@b.example", password: "x"}) { accessToken } '
        'createContact(input: {firstName: "Mallory", email: "m@evil.example"}) { contact { id } } }'
    )
    assert reply.codes() == ["FORBIDDEN"]
    assert await stats.requests() == 0


async def test_anonymous_queries_and_public_auth_mutations_still_work(
    anonymous: GraphQLClient, http: aiohttp.ClientSession, sim: SimServer
) -> None:
    me = await user_record(http, sim, "/users/me")
    assert (await anonymous.data("{ viewer { email } }"))["viewer"]["email"] == me["email"]
    someone = await another_user(http, sim)
    login = await anonymous.data(
        'mutation($email: String!) { login(input: {email: $email, password: "password"}) '
        "{ accessToken refreshToken } }",
        {"email": someone["email"]},
    )
    tokens = login["login"]
    assert tokens["accessToken"]
    refreshed = await anonymous.data(
        "mutation($token: String!) { refreshToken(input: {refreshToken: $token}) { accessToken } }",
        {"token": tokens["refreshToken"]},
    )
    assert refreshed["refreshToken"]["accessToken"]
    # The token is the caller's own credential: its mutations go through.
    bearer = {"Authorization": f"Bearer {refreshed['refreshToken']['accessToken']}"}
    changed = await anonymous.data(
        'mutation { updateViewer(input: {username: "own_token_user"}) { user { username } } }',
        headers=bearer,
    )
    assert changed["updateViewer"]["user"]["username"] == "own_token_user"
    registered = await anonymous.data(
        'mutation { register(input: {email: "newcomer@example.com", username: "newcomer", '
        'password: "a-long-password"}) { user { email } } }'
    )
    assert registered["register"]["user"]["email"] == "newcomer@example.com"


async def test_impersonation_with_the_callers_own_credential_is_forwarded(
    anonymous: GraphQLClient, http: aiohttp.ClientSession, sim: SimServer
) -> None:
    target = await another_user(http, sim)
    viewer = await anonymous.data(
        "{ viewer { databaseId } }",
        headers={"X-API-Key": FULL_KEY, "X-Impersonate-User-Id": target["id"]},
    )
    assert viewer["viewer"]["databaseId"] == target["id"]


@pytest.mark.parametrize("bad", ["../users/me", "usr 1", "x" * 300])
async def test_an_impersonation_id_that_is_not_a_user_id_is_never_forwarded(
    anonymous: GraphQLClient, stats: SimStats, bad: str
) -> None:
    await stats.reset()
    reply = await anonymous.send(
        "{ viewer { databaseId } }",
        headers={"X-API-Key": FULL_KEY, "X-Impersonate-User-Id": bad},
    )
    assert reply.codes() == ["BAD_USER_INPUT"]
    assert reply.errors[0]["extensions"]["argument"] == "X-Impersonate-User-Id"
    assert await stats.requests() == 0


async def test_a_callers_own_read_key_is_not_refused_by_the_gateway(
    anonymous: GraphQLClient, stats: SimStats
) -> None:
    # The upstream decides what a caller's own key may do: restloom passes the write on.
    await stats.reset()
    reply = await anonymous.send(
        'mutation { updateViewer(input: {username: "readonly_try"}) { user { username } } }',
        headers={"X-API-Key": READ_KEY},
    )
    assert reply.codes() == ["FORBIDDEN"]
    assert reply.errors[0]["extensions"]["status"] == 403  # the upstream's answer
    assert await stats.requests() >= 1


async def test_operator_may_allow_anonymous_mutations(
    http: aiohttp.ClientSession, sim: SimServer
) -> None:
    async with await serve(sim, anonymous_mutations=True) as gateway:
        anonymous = GraphQLClient(http, gateway.url)
        changed = await anonymous.data(
            'mutation { updateViewer(input: {username: "service_user_2"}) { user { username } } }'
        )
        # Impersonation stays refused: that is a separate switch.
        target = await another_user(http, sim)
        reply = await anonymous.send(
            "{ viewer { databaseId } }", headers={"X-Impersonate-User-Id": target["id"]}
        )
    assert changed["updateViewer"]["user"]["username"] == "service_user_2"
    assert reply.codes() == ["FORBIDDEN"]


async def test_operator_may_allow_service_impersonation(
    http: aiohttp.ClientSession, sim: SimServer
) -> None:
    target = await another_user(http, sim)
    async with await serve(sim, service_impersonation=True) as gateway:
        anonymous = GraphQLClient(http, gateway.url)
        viewer = await anonymous.data(
            "{ viewer { databaseId } }", headers={"X-Impersonate-User-Id": target["id"]}
        )
        write = await anonymous.send(
            'mutation { updateViewer(input: {username: "not_allowed"}) { user { username } } }',
            headers={"X-Impersonate-User-Id": target["id"]},
        )
    assert viewer["viewer"]["databaseId"] == target["id"]
    assert write.codes() == ["FORBIDDEN"]  # mutations are still a separate switch


async def test_restloom_demo_allows_anonymous_mutations_and_says_so(
    http: aiohttp.ClientSession,
) -> None:
    async with restloom_demo(http) as process:
        base = process.url
        demo = GraphQLClient(http, base)
        changed = await demo.data(
            'mutation { updateViewer(input: {username: "demo_anonymous"}) { user { username } } }'
        )
        assert changed["updateViewer"]["user"]["username"] == "demo_anonymous"
        preflight = {"Access-Control-Request-Method": "POST"}
        async with http.options(
            base + "/graphql", headers={"Origin": "http://localhost:5173", **preflight}
        ) as resp:
            assert resp.status == 200
            assert resp.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
        async with http.options(
            base + "/graphql", headers={"Origin": "http://evil.example", **preflight}
        ) as resp:
            assert "Access-Control-Allow-Origin" not in resp.headers
    output = process.output
    assert "anonymous: queries and MUTATIONS" in output
    assert "http://localhost:*" in output
