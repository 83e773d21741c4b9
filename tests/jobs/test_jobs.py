"""202 Accepted through the gateway: a job to read with node(id:) and a subscription told
once when it ends; the sim (template style) runs the job after `job_delay`."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest

from restloom.config import Settings
from restloom.sim.server import SimServer
from tests.conftest import FULL_KEY, TEST_DATASET
from tests.events.wire import Subscriber
from tests.support import GatewayServer, GraphQLClient, SimStats

JOB_SIM = dataclasses.replace(TEST_DATASET, style="template", rate_limit=0, job_delay=0.5)
IMPORT = """mutation($input: CreateContactInput!) {
  importContact(input: $input) { job { id databaseId status result { id } error { message } } }
}"""
JOB_FIELDS = """id databaseId status
  result { id ... on Contact { databaseId firstName email } }
  error { code message field }"""
NODE = "query($id: ID!) { node(id: $id) { ... on Job { " + JOB_FIELDS + " } } }"
COMPLETED = "subscription($id: ID!) { jobCompleted(id: $id) { " + JOB_FIELDS + " } }"
POLL_ROUTE = "GET /jobs/{id}"


@pytest.fixture
async def stack(http) -> AsyncIterator[tuple[SimServer, GatewayServer, GraphQLClient]]:
    async with SimServer(JOB_SIM) as sim:
        settings = Settings(upstream_url=sim.url, profile="template", rate_limit="off")
        async with GatewayServer(settings) as gw:
            yield sim, gw, GraphQLClient(http, gw.url, {"X-API-Key": FULL_KEY})


def sharing_redis(sim: SimServer, redis_url: str, redis_namespace: str) -> Settings:
    """Settings for instances over `sim` that share Redis (and so a cursor key)."""
    return Settings(
        upstream_url=sim.url,
        profile="template",
        rate_limit="off",
        redis_url=redis_url,
        redis_namespace=redis_namespace,
        cursor_secret="jobs-test",
    )


async def start(client: GraphQLClient, email: str) -> dict:
    data = await client.data(IMPORT, {"input": {"firstName": "Ada", "email": email}})
    return data["importContact"]["job"]


async def polls_reach(stats: SimStats, count: int) -> None:
    """Until the sim has counted `count` job reads (the test times out otherwise)."""
    for _ in range(200):
        if (await stats.read())["by_route"].get(POLL_ROUTE, 0) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"fewer than {count} job polls")


async def told(sub: Subscriber) -> list[dict]:
    """Every `next` a subscription sends until its `complete`."""
    messages = []
    while True:
        msg = await sub.message(wait=15)
        if msg["type"] == "complete":
            return messages
        assert msg["type"] == "next", msg
        assert "errors" not in msg["payload"], msg
        messages.append(msg["payload"]["data"]["jobCompleted"])


async def test_job_completes_every_subscriber_told_once_one_poller(stack, http):
    sim, gw, client = stack
    stats = SimStats(http, sim.url)
    job = await start(client, "ada.import@example.org")
    assert job["status"] == "PENDING" and job["result"] is None and job["error"] is None
    pending = await client.data(NODE, {"id": job["id"]})
    assert pending["node"]["status"] == "PENDING"

    await stats.reset()
    subs = [await Subscriber.connect(http, gw.url, {"X-API-Key": FULL_KEY}) for _ in range(4)]
    for sub in subs:
        await sub.subscribe(COMPLETED, {"id": job["id"]})
    messages = await asyncio.gather(*(told(sub) for sub in subs))
    for sub in subs:
        await sub.close()

    for received in messages:
        assert len(received) == 1  # told once, then the subscription completes
        done = received[0]
        assert done["status"] == "SUCCEEDED" and done["error"] is None
        assert done["result"]["email"] == "ada.import@example.org"
    contact_id = messages[0][0]["result"]["databaseId"]
    created = sim.state.data.get("contacts", contact_id)
    assert created is not None and created.fields["first_name"] == "Ada"
    # One poller for four subscribers: pauses 0.1, 0.2, 0.4, 0.8 s over a 0.5 s job.
    polls = (await stats.read())["by_route"].get(POLL_ROUTE, 0)
    assert 1 <= polls <= 6, polls
    print(f"job of 0.5 s, 4 subscribers: {polls} upstream polls")

    # Afterwards the job reads as succeeded, with the contact, through node(id:).
    node = (await client.data(NODE, {"id": job["id"]}))["node"]
    assert node["status"] == "SUCCEEDED"
    assert node["result"]["id"] == messages[0][0]["result"]["id"]
    # And the new contact is in the contact list (cached lists were forgotten).
    listed = await client.data("{ contacts(first: 5) { nodes { databaseId } } }")
    assert contact_id in {n["databaseId"] for n in listed["contacts"]["nodes"]}


async def test_a_failed_job_gives_its_error(stack, http):
    sim, gw, client = stack
    taken = next(iter(sim.state.data.collections["contacts"].values())).fields["email"]
    job = await start(client, taken)
    sub = await Subscriber.connect(http, gw.url, {"X-API-Key": FULL_KEY})
    await sub.subscribe(COMPLETED, {"id": job["databaseId"]})
    (failed,) = await told(sub)
    await sub.close()
    assert failed["status"] == "FAILED" and failed["result"] is None
    assert failed["error"]["code"] == "conflict"
    assert failed["error"]["field"] == "email"
    assert "already exists" in failed["error"]["message"]
    node = (await client.data(NODE, {"id": job["id"]}))["node"]
    assert node["error"] == failed["error"]


async def test_another_credentials_job_is_not_found(stack, http):
    _, gw, client = stack
    job = await start(client, "grace.import@example.org")
    other = GraphQLClient(http, gw.url, {"X-API-Key": TEST_DATASET.read_key})
    # The read key may not write, and may not read the full key's job either.
    reply = await other.send(NODE, {"id": job["id"]})
    assert reply.codes() == ["NOT_FOUND"]


async def test_profiles_without_jobs_say_so(sim, client, stats):
    reply = await client.send(IMPORT, {"input": {"firstName": "A", "email": "a@example.org"}})
    assert reply.data == {"importContact": None}
    assert reply.codes() == ["BAD_USER_INPUT"]
    assert "not supported by this upstream" in reply.errors[0]["message"]
    assert await stats.requests() == 0


async def test_polling_stops_when_every_subscriber_has_left(http):
    slow = dataclasses.replace(JOB_SIM, job_delay=60)
    async with SimServer(slow) as sim:
        settings = Settings(upstream_url=sim.url, profile="template", rate_limit="off")
        async with GatewayServer(settings) as gw:
            client = GraphQLClient(http, gw.url, {"X-API-Key": FULL_KEY})
            stats = SimStats(http, sim.url)
            job = await start(client, "late.import@example.org")
            subs = [
                await Subscriber.connect(http, gw.url, {"X-API-Key": FULL_KEY}) for _ in range(2)
            ]
            for sub in subs:
                await sub.subscribe(COMPLETED, {"id": job["id"]})
            await polls_reach(stats, 3)
            await subs[0].close()  # one left: the other still waits, polling goes on
            await polls_reach(stats, (await stats.read())["by_route"][POLL_ROUTE] + 1)
            await subs[1].close()
            await asyncio.sleep(0.3)  # a poll already on its way may still land
            after_close = (await stats.read())["by_route"][POLL_ROUTE]
            await asyncio.sleep(2.0)  # pauses of at most 1.6 s by now: polls would show
            assert (await stats.read())["by_route"][POLL_ROUTE] == after_close


async def test_two_instances_sharing_redis_poll_a_job_once(http, redis_url, redis_namespace):
    async with SimServer(JOB_SIM) as sim:
        settings = sharing_redis(sim, redis_url, redis_namespace)
        async with GatewayServer(settings) as a, GatewayServer(settings) as b:
            stats = SimStats(http, sim.url)
            job = await start(
                GraphQLClient(http, a.url, {"X-API-Key": FULL_KEY}), "two@example.org"
            )
            await stats.reset()
            subs = [
                await Subscriber.connect(http, gw.url, {"X-API-Key": FULL_KEY})
                for gw in (a, b, a, b)
            ]
            for sub in subs:
                await sub.subscribe(COMPLETED, {"id": job["id"]})
            messages = await asyncio.gather(*(told(sub) for sub in subs))
            for sub in subs:
                await sub.close()
            polls = (await stats.read())["by_route"].get(POLL_ROUTE, 0)
    assert all(len(m) == 1 and m[0]["status"] == "SUCCEEDED" for m in messages)
    assert len({m[0]["result"]["id"] for m in messages}) == 1
    # One instance polls for both (each alone would poll about 4 times: 8 in all).
    assert 1 <= polls <= 5, polls
    print(f"job of 0.5 s, 4 subscribers on 2 instances (Redis): {polls} upstream polls")


async def test_another_instance_takes_over_when_the_polling_one_is_left(
    http, redis_url, redis_namespace
):
    slower = dataclasses.replace(JOB_SIM, job_delay=1.5)
    async with SimServer(slower) as sim:
        settings = sharing_redis(sim, redis_url, redis_namespace)
        async with GatewayServer(settings) as a, GatewayServer(settings) as b:
            stats = SimStats(http, sim.url)
            job = await start(
                GraphQLClient(http, a.url, {"X-API-Key": FULL_KEY}), "hand@example.org"
            )
            first = await Subscriber.connect(http, a.url, {"X-API-Key": FULL_KEY})
            await first.subscribe(COMPLETED, {"id": job["id"]})
            await polls_reach(stats, 1)  # a holds the poll lease
            second = await Subscriber.connect(http, b.url, {"X-API-Key": FULL_KEY})
            await second.subscribe(COMPLETED, {"id": job["id"]})
            await first.close()  # a's poll ends and gives the lease up
            msg = await second.message(wait=5)  # far less than the lease (15 s)
            await second.close()
    assert msg["type"] == "next"
    assert msg["payload"]["data"]["jobCompleted"]["status"] == "SUCCEEDED"
