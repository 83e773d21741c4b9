"""MOCO's session through the moco profile: login gives the user's API key, `session`
tells whether a key is valid; against the real sim (moco style)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from restloom.config import Settings
from restloom.sim.server import SimServer
from tests.conftest import FULL_KEY, TEST_DATASET
from tests.support import GatewayServer, GraphQLClient, SimStats

MOCO_SIM = dataclasses.replace(TEST_DATASET, style="moco", rate_limit=0)
LOGIN = """mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) {
    accessToken refreshToken tokenType expiresIn
  }
}"""
SESSION = "{ session { valid userId uuid } }"
VIEWER = "{ viewer { databaseId email } }"


@pytest.fixture
async def moco(http) -> AsyncIterator[tuple[SimServer, GraphQLClient]]:
    async with SimServer(MOCO_SIM) as sim:
        settings = Settings(upstream_url=sim.url, profile="moco", rate_limit="off")
        async with GatewayServer(settings) as gw:
            yield sim, GraphQLClient(http, gw.url)


def third_user(sim: SimServer) -> tuple[str, int]:
    user = sim.state.data.first_users(3)[2]
    return str(user.fields["email"]), user.num


async def test_login_gives_the_users_key_and_the_key_works(moco, http):
    sim, client = moco
    stats = SimStats(http, sim.url)
    email, num = third_user(sim)
    reply = await client.data(LOGIN, {"email": email, "password": "password"})
    token = reply["login"]
    assert token["tokenType"] == "ApiKey"
    assert token["refreshToken"] is None and token["expiresIn"] is None
    key = token["accessToken"]
    assert key and key not in (FULL_KEY, TEST_DATASET.read_key)
    assert (await stats.read())["by_route"].get("POST /session") == 1
    # The key as X-API-Key and as a bearer token: the user it belongs to.
    for headers in ({"X-API-Key": key}, {"Authorization": f"Bearer {key}"}):
        viewer = await client.data(VIEWER, headers=headers)
        assert viewer["viewer"] == {"databaseId": str(num), "email": email}
        session = await client.data(SESSION, headers=headers)
        assert session["session"]["valid"] is True
        assert session["session"]["userId"] == str(num)
        assert len(session["session"]["uuid"]) == 36


async def test_wrong_password_is_unauthenticated(moco):
    sim, client = moco
    email, _ = third_user(sim)
    reply = await client.send(LOGIN, {"email": email, "password": "not-the-password"})
    assert reply.data == {"login": None}
    assert reply.codes() == ["UNAUTHENTICATED"]
    assert "password" not in str(reply.body).replace("Invalid email or password", "")


async def test_an_invalid_key_is_not_valid(moco, http):
    sim, client = moco
    stats = SimStats(http, sim.url)
    reply = await client.data(SESSION, headers={"X-API-Key": "moco_k_not_a_key"})
    assert reply["session"] == {"valid": False, "userId": None, "uuid": None}
    assert (await stats.read())["by_route"].get("GET /session") == 1
    # No key at all: nothing to check, nothing sent.
    await stats.reset()
    assert (await client.data(SESSION))["session"]["valid"] is False
    assert await stats.requests() == 0
    # The invalid key is refused elsewhere too.
    refused = await client.send(VIEWER, headers={"X-API-Key": "moco_k_not_a_key"})
    assert refused.codes() == ["UNAUTHENTICATED"]


async def test_other_profiles_say_session_is_not_supported(sim, client, stats):
    reply = await client.send(SESSION)
    assert reply.data == {"session": None}
    assert reply.codes() == ["BAD_USER_INPUT"]
    assert "not supported by this upstream" in reply.errors[0]["message"]
    assert await stats.requests() == 0
