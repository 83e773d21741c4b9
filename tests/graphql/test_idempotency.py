"""Idempotency: replays never duplicate a write; retries happen only when a key makes them safe."""

import uuid

import pytest

from restloom.config import Settings
from tests.conftest import FULL_KEY
from tests.graphql.test_mutations import CREATE_CONTACT, contacts_with_email, unique_email
from tests.support import GatewayServer, GraphQLClient


def key() -> str:
    return f"idem-{uuid.uuid4().hex}"


async def arm(http, sim, **fault):
    async with http.post(sim.url + "/__sim/faults", json=fault) as resp:
        assert resp.status in (200, 201, 204), await resp.text()


async def posts_to_contacts(stats) -> int:
    return (await stats.read())["by_route"].get("POST /contacts", 0)


async def test_same_key_twice_creates_one_contact(client, http, sim):
    email, idem = unique_email(), key()
    variables = {"input": {"firstName": "Once", "email": email}}
    first = await client.data(CREATE_CONTACT, variables, headers={"Idempotency-Key": idem})
    second = await client.data(CREATE_CONTACT, variables, headers={"Idempotency-Key": idem})
    assert first == second
    assert len(await contacts_with_email(http, sim, email)) == 1


async def test_same_key_with_a_different_body_is_refused(client, http, sim):
    idem = key()
    await client.data(
        CREATE_CONTACT,
        {"input": {"firstName": "A", "email": unique_email()}},
        headers={"Idempotency-Key": idem},
    )
    other_email = unique_email()
    reply = await client.send(
        CREATE_CONTACT,
        {"input": {"firstName": "B", "email": other_email}},
        headers={"Idempotency-Key": idem},
    )
    assert reply.codes() == ["CONFLICT"]
    assert reply.errors[0]["extensions"]["upstreamCode"] == "IDEMPOTENCY_KEY_REUSED"
    assert await contacts_with_email(http, sim, other_email) == []


async def test_several_mutations_get_their_own_keys(client, http, sim):
    idem = key()
    a, b = unique_email(), unique_email()
    query = """mutation($a: CreateContactInput!, $b: CreateContactInput!) {
                 a: createContact(input: $a) { contact { databaseId } }
                 b: createContact(input: $b) { contact { databaseId } } }"""
    variables = {"a": {"firstName": "A", "email": a}, "b": {"firstName": "B", "email": b}}
    first = await client.data(query, variables, headers={"Idempotency-Key": idem})
    assert first["a"]["contact"]["databaseId"] != first["b"]["contact"]["databaseId"]
    replay = await client.data(query, variables, headers={"Idempotency-Key": idem})
    assert replay == first
    assert len(await contacts_with_email(http, sim, a)) == 1
    assert len(await contacts_with_email(http, sim, b)) == 1


async def test_partial_failure_keeps_earlier_and_later_results(client):
    query = """mutation($ok: CreateContactInput!, $bad: CreateContactInput!, $ok2: CreateContactInput!) {
                 one: createContact(input: $ok) { contact { email } }
                 two: createContact(input: $bad) { contact { email } }
                 three: createContact(input: $ok2) { contact { email } } }"""
    ok, ok2 = unique_email(), unique_email()
    reply = await client.send(
        query,
        {
            "ok": {"firstName": "A", "email": ok},
            "bad": {"firstName": "B", "email": "broken"},
            "ok2": {"firstName": "C", "email": ok2},
        },
    )
    assert reply.data == {
        "one": {"contact": {"email": ok}},
        "two": None,
        "three": {"contact": {"email": ok2}},
    }
    assert reply.codes() == ["VALIDATION_ERROR"]
    assert reply.errors[0]["path"] == ["two"]


async def test_commit_then_drop_is_retried_with_the_same_key(client, http, sim, stats):
    email = unique_email()
    await arm(
        http, sim, mode="drop_after_commit", count=1, method="POST", path_prefix="/api/v1/contacts"
    )
    await stats.reset()
    reply = await client.send(
        CREATE_CONTACT,
        {"input": {"firstName": "Retry", "email": email}},
        headers={"Idempotency-Key": key()},
    )
    assert not reply.errors, reply.errors
    assert reply.data["createContact"]["contact"]["email"] == email
    assert await posts_to_contacts(stats) == 2  # the dropped one and its replay
    assert len(await contacts_with_email(http, sim, email)) == 1


async def test_without_a_key_a_dropped_write_is_not_retried(client, http, sim, stats):
    email = unique_email()
    await arm(
        http, sim, mode="drop_after_commit", count=1, method="POST", path_prefix="/api/v1/contacts"
    )
    await stats.reset()
    reply = await client.send(CREATE_CONTACT, {"input": {"firstName": "NoKey", "email": email}})
    assert reply.codes() == ["UPSTREAM_UNAVAILABLE"]
    assert reply.errors[0]["extensions"]["requestId"]
    assert await posts_to_contacts(stats) == 1
    # The upstream did the work; restloom did not do it twice.
    assert len(await contacts_with_email(http, sim, email)) == 1


async def test_timed_out_write_is_retried_with_the_same_key(http, sim, stats):
    settings = Settings(upstream_url=sim.url, upstream_timeout=0.5)
    async with GatewayServer(settings) as gateway:
        client = GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})
        email = unique_email()
        await arm(http, sim, mode="timeout", count=1, method="POST", path_prefix="/api/v1/contacts")
        await stats.reset()
        reply = await client.send(
            CREATE_CONTACT,
            {"input": {"firstName": "Slow", "email": email}},
            headers={"Idempotency-Key": key()},
        )
    assert not reply.errors, reply.errors
    assert await posts_to_contacts(stats) == 2
    assert len(await contacts_with_email(http, sim, email)) == 1


async def test_a_dropped_delete_without_a_key_is_sent_once(client, http, sim, stats):
    created = await client.data(
        CREATE_CONTACT, {"input": {"firstName": "Gone", "email": unique_email()}}
    )
    contact = created["createContact"]["contact"]
    await arm(
        http,
        sim,
        mode="drop_after_commit",
        count=1,
        method="DELETE",
        path_prefix="/api/v1/contacts/",
    )
    await stats.reset()
    reply = await client.send(
        "mutation($id: ID!) { deleteContact(input: {id: $id}) { deletedId } }",
        {"id": contact["id"]},
    )
    assert reply.codes() == ["UPSTREAM_UNAVAILABLE"]
    assert (await stats.read())["by_route"] == {"DELETE /contacts/{id}": 1}


@pytest.mark.parametrize("bad", ["é-not-ascii", "x" * 256, "tab\tinside"])
async def test_a_key_that_cannot_be_a_header_is_refused_before_any_write(client, stats, bad):
    await stats.reset()
    reply = await client.send(
        CREATE_CONTACT,
        {"input": {"firstName": "Ada", "email": unique_email()}},
        headers={"Idempotency-Key": bad},
    )
    assert reply.codes() == ["BAD_USER_INPUT"]
    assert reply.errors[0]["extensions"]["argument"] == "Idempotency-Key"
    assert await posts_to_contacts(stats) == 0
