"""Jobs against an upstream nobody should trust: what it answers is checked, and a job is
polled on the upstream restloom was given, whatever its `Location` header says."""

import asyncio

from aiohttp import web

from restloom.config import Settings
from tests.loopback import Listener
from tests.support import GatewayServer, GraphQLClient

IMPORT = """mutation($input: CreateContactInput!) {
  importContact(input: $input) { job { databaseId status } }
}"""
NODE = "query($id: ID!) { node(id: $id) { ... on Job { databaseId status } } }"
INPUT = {"input": {"firstName": "Ada", "email": "ada@example.com"}}


async def gateway_over(upstream: Listener):
    settings = Settings(upstream_url=upstream.url, profile="template", rate_limit="off")
    return GatewayServer(settings)


async def test_a_201_without_an_id_is_an_invalid_response(http):
    upstream = Listener()

    async def created(request: web.Request) -> web.Response:
        return web.json_response({"first_name": "Ada"}, status=201)

    upstream.app.router.add_post("/v1/contacts/imports", created)
    async with upstream, await gateway_over(upstream) as gateway:
        reply = await GraphQLClient(http, gateway.url, {"X-API-Key": "k"}).send(IMPORT, INPUT)
    assert reply.data["importContact"] is None
    assert reply.codes() == ["UPSTREAM_INVALID_RESPONSE"]


async def test_a_location_on_another_host_is_never_called(http):
    elsewhere = Listener()
    reached: list[str] = []

    async def record(request: web.Request) -> web.Response:
        reached.append(request.path)
        return web.json_response({"id": "job1", "status": "pending"})

    elsewhere.app.router.add_route("*", "/{tail:.*}", record)
    upstream = Listener()
    polled: list[str] = []

    async def accepted(request: web.Request) -> web.Response:
        location = f"{elsewhere.url}/v1/jobs/job1"
        return web.json_response({"status": "pending"}, status=202, headers={"Location": location})

    async def job(request: web.Request) -> web.Response:
        polled.append(request.match_info["id"])
        return web.json_response({"id": request.match_info["id"], "status": "pending"})

    upstream.app.router.add_post("/v1/contacts/imports", accepted)
    upstream.app.router.add_get("/v1/jobs/{id}", job)
    async with elsewhere, upstream, await gateway_over(upstream) as gateway:
        client = GraphQLClient(http, gateway.url, {"X-API-Key": "k"})
        started = await client.data(IMPORT, INPUT)
        job_id = started["importContact"]["job"]["databaseId"]
        assert job_id == "job1"
        read = await client.data(NODE, {"id": _global_job_id(job_id)})
        assert read["node"]["status"] == "PENDING"
        await asyncio.sleep(0.1)
    assert polled == ["job1"]
    assert reached == []


def _global_job_id(database_id: str) -> str:
    from restloom.graphql.relay import to_global_id

    return to_global_id("Job", database_id)
