"""Upstream failures as GraphQL errors: codes, partial data, masking."""

from tests.conftest import FULL_KEY
from tests.support import upstream_list


async def test_missing_contact_is_null_with_not_found_and_siblings_resolve(client, http, sim):
    real = (await upstream_list(http, sim.url, "/contacts", FULL_KEY))[0]
    reply = await client.send(
        f'{{ missing: contact(id: "cnt_doesnotexist") {{ email }} real: contact(id: "{real["id"]}") {{ email }} }}'
    )
    assert reply.data == {"missing": None, "real": {"email": real["email"]}}
    assert reply.codes() == ["NOT_FOUND"]
    error = reply.errors[0]
    assert error["path"] == ["missing"]
    assert error["extensions"]["requestId"] == reply.headers["X-Request-Id"]


async def test_wrong_key_is_unauthenticated(client):
    reply = await client.send("{ viewer { email } }", headers={"X-API-Key": "moss_k_wrong"})
    assert reply.codes() == ["UNAUTHENTICATED"]
    assert reply.errors[0]["extensions"]["status"] == 401
    assert reply.errors[0]["extensions"]["upstreamCode"] == "UNAUTHORIZED"


async def test_no_credential_and_no_service_key_is_unauthenticated(http, gateway, stats):
    await stats.reset()
    async with http.post(gateway.url + "/graphql", json={"query": "{ viewer { email } }"}) as resp:
        body = await resp.json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    assert await stats.requests() == 0


async def test_upstream_500_is_masked(client, http, sim):
    async with http.post(
        sim.url + "/__sim/faults",
        json={"mode": "error500", "count": 1, "path_prefix": "/api/v1/users/me"},
    ) as resp:
        assert resp.status in (200, 201, 204)
    reply = await client.send("{ viewer { email } contacts(first: 1) { totalCount } }")
    assert reply.data["viewer"] is None
    assert reply.data["contacts"]["totalCount"] > 0
    [error] = reply.errors
    assert error["extensions"]["code"] == "UPSTREAM_ERROR"  # the upstream's fault, not ours
    assert error["extensions"]["status"] == 500
    assert error["message"] == "The upstream service failed"
    assert "upstreamCode" not in error["extensions"]


async def test_bad_global_id_is_bad_user_input(client):
    reply = await client.send('{ node(id: "garbage") { id } }')
    assert reply.codes() == ["BAD_USER_INPUT"]


async def test_global_id_of_another_type_is_bad_user_input(client):
    user = await client.data("{ users(first: 1) { nodes { id } } }")
    reply = await client.send(f'{{ contact(id: "{user["users"]["nodes"][0]["id"]}") {{ email }} }}')
    assert reply.codes() == ["BAD_USER_INPUT"]


async def test_validation_errors_keep_their_message(client):
    reply = await client.send("{ contacts { nope } }")
    assert reply.status == 200 or reply.status == 400
    assert reply.codes() == ["GRAPHQL_VALIDATION_FAILED"]
    assert "nope" in reply.errors[0]["message"]
