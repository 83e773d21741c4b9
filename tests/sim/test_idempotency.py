"""Idempotency-Key: replay, reuse, per-credential scope, expiry."""

from __future__ import annotations

import asyncio

from restloom.sim import SimServer

from .conftest import READ, Api, small_config

CONTACT = {"first_name": "Jane", "email": "jane@acme.com"}


async def _total(api: Api) -> int:
    return (await api.get("/contacts")).body["meta"]["total"]


async def test_replay_returns_the_stored_answer_without_redoing_work(api: Api, control: Api):
    key = {"Idempotency-Key": "unique-request-id-123"}
    first = await api.post("/contacts", json=CONTACT, headers=key)
    assert first.status == 201
    assert "Idempotent-Replayed" not in first.headers
    # Same JSON, different spelling: still the same request.
    spaced = b'{ "email": "jane@acme.com",  "first_name": "Jane" }'
    second = await api.post(
        "/contacts", data=spaced, headers={**key, "Content-Type": "application/json"}
    )
    assert second.status == 201
    assert second.raw == first.raw
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.headers["Content-Type"] == first.headers["Content-Type"]
    assert await _total(api) == 61
    audit = (await control.get("/audit")).body["entries"]
    assert [e["replayed"] for e in audit] == [False, True]
    assert {e["idempotency_key"] for e in audit} == {"unique-request-id-123"}


async def test_reuse_with_a_different_request_is_422(api: Api):
    key = {"Idempotency-Key": "k-reuse"}
    assert (await api.post("/contacts", json=CONTACT, headers=key)).status == 201
    for method, path, body in [
        ("POST", "/contacts", {**CONTACT, "first_name": "Bob"}),
        ("POST", "/resources", {"name": "R", "type": "standard"}),
        ("PATCH", "/users/me", {"username": "someone"}),
    ]:
        reply = await api.request(method, path, json=body, headers=key)
        assert reply.status == 422
        assert reply.error["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert await _total(api) == 61


async def test_errors_are_replayed_too_and_delete_replays_204(api: Api):
    key = {"Idempotency-Key": "k-bad"}
    bad = await api.post("/contacts", json={"first_name": "x"}, headers=key)
    again = await api.post("/contacts", json={"first_name": "x"}, headers=key)
    assert bad.status == again.status == 400
    assert again.raw == bad.raw
    contact = (await api.get("/contacts")).data[0]
    dkey = {"Idempotency-Key": "k-del"}
    assert (await api.delete(f"/contacts/{contact['id']}", headers=dkey)).status == 204
    replay = await api.delete(f"/contacts/{contact['id']}", headers=dkey)
    assert replay.status == 204
    assert replay.headers["Idempotent-Replayed"] == "true"


async def test_keys_are_scoped_per_credential(api: Api, session):
    key = {"Idempotency-Key": "shared"}
    assert (await api.post("/contacts", json=CONTACT, headers=key)).status == 201
    email = (await api.get("/users/me")).data["email"]
    tokens = (
        await api.post("/auth/login", json={"email": email, "password": "password"}, auth=False)
    ).body
    bearer = api.as_({"Authorization": f"Bearer {tokens['access_token']}"})
    other = await bearer.post("/contacts", json=CONTACT, headers=key)
    assert other.status == 201
    assert "Idempotent-Replayed" not in other.headers
    assert await _total(api) == 62
    # The read key is refused before idempotency is looked at.
    refused = await api.as_({"X-API-Key": READ}).post("/contacts", json=CONTACT, headers=key)
    assert refused.status == 403


async def test_keys_expire(session):
    async with SimServer(small_config(idempotency_ttl=0.2)) as sim:
        api = Api(session, sim.api_url, {"X-API-Key": "moss_k_demo_full"})
        key = {"Idempotency-Key": "short-lived"}
        first = await api.post("/contacts", json=CONTACT, headers=key)
        await asyncio.sleep(0.25)
        second = await api.post("/contacts", json=CONTACT, headers=key)
        assert second.status == 201
        assert second.data["id"] != first.data["id"]
        assert "Idempotent-Replayed" not in second.headers


async def test_audit_keeps_the_key_of_refused_writes(read_api: Api, control: Api):
    await read_api.post("/contacts", json=CONTACT, headers={"Idempotency-Key": "k-403"})
    [entry] = (await control.get("/audit")).body["entries"]
    assert (entry["status"], entry["idempotency_key"]) == (403, "k-403")
