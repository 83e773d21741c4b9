"""/auth/login, /auth/refresh, /auth/logout, /auth/register and bearer tokens."""

from __future__ import annotations

import asyncio

from restloom.sim import SimServer

from .conftest import Api, small_config


async def _login(api: Api, email: str, password: str = "password"):
    return await api.post("/auth/login", json={"email": email, "password": password}, auth=False)


def _bearer(api: Api, token: str) -> Api:
    return api.as_({"Authorization": f"Bearer {token}"})


async def test_login_and_bearer(api: Api):
    users = (await api.get("/users", params={"per_page": 5})).data
    reply = await _login(api, users[2]["email"].upper())
    assert reply.status == 200, reply.body
    body = reply.body
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    me = await _bearer(api, body["access_token"]).get("/users/me")
    assert me.data == users[2]
    # A token has full scope: its user can write.
    created = await _bearer(api, body["access_token"]).post(
        "/contacts", json={"first_name": "T", "email": "t@example.com"}
    )
    assert created.status == 201


async def test_login_failures(api: Api):
    users = (await api.get("/users")).data
    wrong = await _login(api, users[0]["email"], "hunter2")
    assert wrong.status == 401
    assert wrong.error["code"] == "UNAUTHORIZED"
    assert (await _login(api, "nobody@example.com")).status == 401
    missing = await api.post("/auth/login", json={"email": users[0]["email"]}, auth=False)
    assert missing.status == 400
    assert missing.error["field"] == "password"


async def test_refresh_rotates(api: Api):
    email = (await api.get("/users/me")).data["email"]
    first = (await _login(api, email)).body
    second = await api.post(
        "/auth/refresh", json={"refresh_token": first["refresh_token"]}, auth=False
    )
    assert second.status == 200
    assert second.body["refresh_token"] != first["refresh_token"]
    assert (await _bearer(api, second.body["access_token"]).get("/users/me")).status == 200
    reused = await api.post(
        "/auth/refresh", json={"refresh_token": first["refresh_token"]}, auth=False
    )
    assert reused.status == 401
    assert reused.error["code"] == "UNAUTHORIZED"


async def test_logout_revokes_the_token(api: Api, read_api: Api):
    email = (await api.get("/users/me")).data["email"]
    tokens = (await _login(api, email)).body
    bearer = _bearer(api, tokens["access_token"])
    assert (await bearer.post("/auth/logout")).status == 204
    after = await bearer.get("/users/me")
    assert after.status == 401
    refused = await api.post(
        "/auth/refresh", json={"refresh_token": tokens["refresh_token"]}, auth=False
    )
    assert refused.status == 401
    # Logout needs a credential, but any will do (nothing to revoke for a key).
    assert (await api.post("/auth/logout", auth=False)).status == 401
    assert (await read_api.post("/auth/logout")).status == 204


async def test_register(api: Api):
    body = {"email": "new@example.com", "username": "newbie", "password": "securepassword"}
    reply = await api.post("/auth/register", json=body, auth=False)
    assert reply.status == 201, reply.body
    user = reply.data
    assert user["role"] == "member"
    assert user["email"] == "new@example.com"
    assert set(user["profile"]) == {"first_name", "last_name", "avatar_url"}
    assert "password" not in user
    assert (await api.get(f"/users/{user['id']}")).data == user
    tokens = (await _login(api, "new@example.com", "securepassword")).body
    assert (await _bearer(api, tokens["access_token"]).get("/users/me")).data == user
    taken = await api.post("/auth/register", json={**body, "username": "other"}, auth=False)
    assert taken.status == 409
    assert taken.error["code"] == "CONFLICT"
    bad = await api.post("/auth/register", json={**body, "email": "nope"}, auth=False)
    assert bad.status == 400
    assert bad.error["field"] == "email"


async def test_tokens_expire(session):
    async with SimServer(small_config(token_ttl=0.3)) as sim:
        api = Api(session, sim.api_url, {"X-API-Key": "moss_k_demo_full"})
        email = (await api.get("/users/me")).data["email"]
        tokens = (await _login(api, email)).body
        assert tokens["expires_in"] == 1
        bearer = _bearer(api, tokens["access_token"])
        assert (await bearer.get("/users/me")).status == 200
        await asyncio.sleep(0.35)
        expired = await bearer.get("/users/me")
        assert expired.status == 401
        assert "expired" in expired.error["message"].lower()


async def test_bearer_token_cannot_impersonate(api: Api):
    email = (await api.get("/users/me")).data["email"]
    tokens = (await _login(api, email)).body
    users = (await api.get("/users")).data
    reply = await _bearer(api, tokens["access_token"]).get(
        "/users/me", headers={"X-IMPERSONATE-USER-ID": users[3]["id"]}
    )
    assert reply.status == 403
