"""The whole-response cache, through a real gateway over the sim, on memory and on Redis.

Upstream calls are counted by the sim; the response cache's own counters (hits, kept)
say which cache answered, since a read-cache answer also sends nothing upstream.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import uvicorn
from starlette.applications import Starlette

from restloom.app import create_app
from restloom.config import Settings
from restloom.graphql.response_cache import ResponseCache
from restloom.sim.server import SimServer
from tests.conftest import FULL_KEY, READ_KEY, TEST_DATASET
from tests.redis_support import drop_namespace, require_redis
from tests.support import GraphQLClient, SimStats

CONTACTS = "{ contacts(first: 5) { totalCount nodes { id databaseId firstName } } }"
SOME_CONTACTS = "query($n: Int) { contacts(first: $n) { nodes { databaseId } } }"
NESTED = "{ organizations(first: 4) { nodes { name members(first: 3) { nodes { email } } } } }"
VIEWER = "{ viewer { databaseId email } }"
UPDATE_CONTACT = """mutation($input: UpdateContactInput!) {
  updateContact(input: $input) { contact { firstName } } }"""
MISSING_CONTACT = '{ contact(id: "cnt_zzzzzzzzzz") { databaseId } }'


class Gateway:
    """The app under uvicorn on the test's loop, with the app at hand for its counters."""

    def __init__(self, settings: Settings, root_path: str = "") -> None:
        self.settings = settings.model_copy(update={"startup_check": False})
        self.root_path = root_path  # as a reverse proxy that strips it would set it
        self.app: Starlette | None = None
        self.url = ""
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def responses(self) -> ResponseCache | None:
        assert self.app is not None
        found = self.app.state.response_cache
        assert found is None or isinstance(found, ResponseCache)
        return found

    async def __aenter__(self) -> Gateway:
        self.app = create_app(self.settings)
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                host="127.0.0.1",
                port=0,
                log_level="warning",
                root_path=self.root_path,
            )
        )
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None and self._task is not None
        self._server.should_exit = True
        await self._task


@pytest.fixture(params=["memory", "redis"])
async def cache_settings(request: pytest.FixtureRequest) -> AsyncIterator[dict[str, Any]]:
    namespace = f"restloom-test-{uuid.uuid4().hex[:12]}"
    url = await require_redis() if request.param == "redis" else None
    yield {
        "cache_ttl": 60,
        "redis_url": url,
        "redis_namespace": namespace,
        "cursor_secret": "test-cursor-secret",
    }
    if url:
        await drop_namespace(url, namespace)


@pytest.fixture
async def served(sim: SimServer, cache_settings: dict[str, Any]) -> AsyncIterator[Gateway]:
    async with Gateway(Settings(upstream_url=sim.url, **cache_settings)) as gateway:
        yield gateway


@pytest.fixture
def client(http: aiohttp.ClientSession, served: Gateway) -> GraphQLClient:
    return GraphQLClient(http, served.url, {"X-API-Key": FULL_KEY})


def responses_of(gateway: Gateway) -> ResponseCache:
    found = gateway.responses
    assert found is not None, "caching is on, so the response cache is"
    return found


async def test_a_repeat_is_answered_with_no_upstream_call(client, served, stats):
    await stats.reset()
    cold = await client.send(NESTED)
    assert not cold.errors
    assert await stats.requests() > 1
    assert responses_of(served).kept == 1
    await stats.reset()
    warm = await client.send(NESTED)
    assert warm.data == cold.data
    assert await stats.requests() == 0
    assert responses_of(served).hits == 1
    upstream = warm.body["extensions"]["upstream"]
    assert upstream["requests"] == 0
    # The reads this answer stands for: 1 organizations page, 4 member pages, the users.
    assert upstream["cacheHits"] > 5


async def test_a_write_through_restloom_makes_the_next_read_miss(client, served, stats):
    before = await client.data(CONTACTS)
    target = before["contacts"]["nodes"][0]
    name = f"Renamed{uuid.uuid4().hex[:6]}"
    await client.data(UPDATE_CONTACT, {"input": {"id": target["id"], "firstName": name}})
    await stats.reset()
    after = await client.data(CONTACTS)
    assert after["contacts"]["nodes"][0]["firstName"] == name
    assert await stats.requests() == 1
    assert responses_of(served).hits == 0
    # Kept again under the new generation: the repeat is a hit.
    await stats.reset()
    assert await client.data(CONTACTS) == after
    assert await stats.requests() == 0
    assert responses_of(served).hits == 1


async def test_two_principals_never_share(client, served, stats):
    full = await client.data(VIEWER)
    await stats.reset()
    read_only = await client.data(VIEWER, headers={"X-API-Key": READ_KEY})
    assert read_only["viewer"]["databaseId"] != full["viewer"]["databaseId"]
    assert await stats.requests() == 1
    assert responses_of(served).hits == 0
    # Each principal has its own entry now.
    await stats.reset()
    assert await client.data(VIEWER) == full
    assert await client.data(VIEWER, headers={"X-API-Key": READ_KEY}) == read_only
    assert await stats.requests() == 0
    assert responses_of(served).hits == 2


async def test_variables_are_part_of_the_key(client, served, stats):
    two = await client.data(SOME_CONTACTS, {"n": 2})
    await stats.reset()
    three = await client.data(SOME_CONTACTS, {"n": 3})
    assert len(three["contacts"]["nodes"]) == 3
    assert await stats.requests() == 1
    assert responses_of(served).hits == 0
    assert await client.data(SOME_CONTACTS, {"n": 2}) == two
    assert responses_of(served).hits == 1


async def test_responses_with_errors_and_mutations_are_never_kept(client, served, stats):
    for _ in range(2):
        reply = await client.send(MISSING_CONTACT)
        assert reply.codes() == ["NOT_FOUND"]
    contact = (await client.data(CONTACTS))["contacts"]["nodes"][0]
    kept = responses_of(served).kept
    for _ in range(2):
        await stats.reset()
        await client.data(UPDATE_CONTACT, {"input": {"id": contact["id"], "firstName": "Same"}})
        assert await stats.requests() >= 1
    assert responses_of(served).kept == kept
    assert responses_of(served).hits == 0


async def test_a_type_without_a_ttl_is_never_kept(sim, http, stats):
    settings = Settings(
        upstream_url=sim.url, cache_ttls={"contacts": 60}, cursor_secret="test-cursor-secret"
    )
    async with Gateway(settings) as gateway:
        client = GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})
        query = "{ viewer { email } contacts(first: 2) { nodes { databaseId } } }"
        await client.data(query)
        await stats.reset()
        await client.data(query)
        # The viewer (users: no TTL) is read again; the contacts page comes from the cache.
        assert await stats.requests() == 1
        assert responses_of(gateway).kept == 0 and responses_of(gateway).hits == 0


@pytest.mark.parametrize("setting", [{"response_cache": False}, {"cache_ttl": 0}])
async def test_off_by_setting_or_without_caching(sim, setting):
    settings = Settings(upstream_url=sim.url, **{"cache_ttl": 60, **setting})
    async with Gateway(settings) as gateway:
        assert gateway.responses is None


async def test_a_read_past_the_cache_is_never_kept(http):
    """moco's `session` is checked upstream every time: a response with it is not kept."""
    moco = dataclasses.replace(TEST_DATASET, style="moco", rate_limit=0)
    async with SimServer(moco) as sim:
        settings = Settings(
            upstream_url=sim.url,
            profile="moco",
            rate_limit="off",
            cache_ttl=60,
            cursor_secret="test-cursor-secret",
        )
        async with Gateway(settings) as gateway:
            client = GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})
            stats = SimStats(http, sim.url)
            query = "{ session { valid } contacts(first: 2) { nodes { databaseId } } }"
            await client.data(query)
            await stats.reset()
            again = await client.data(query)
            assert again["session"]["valid"] is True
            # The session again; the contacts page from the read cache.
            assert (await stats.read())["by_route"] == {"GET /session": 1}
            assert responses_of(gateway).kept == 0 and responses_of(gateway).hits == 0
            # Records fetched by id past the cache (a batch) are kept one by one: fine.
            nested = (
                "{ organizations(first: 2) { nodes { members(first: 2) { nodes { email } } } } }"
            )
            await client.data(nested)
            assert responses_of(gateway).kept == 1
