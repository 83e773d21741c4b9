"""Invalidations while Redis is stalled (SIGSTOP): no stale reads from this instance, and the
new version token is written once Redis is back. Also what `logout` reports.

These tests start their own `redis-server` on a free port, so that pausing it
disturbs nobody else.
"""

import asyncio
import os
import shutil
import signal
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as redis

from restloom.config import Settings
from restloom.sim.dataset import SEEDED_PASSWORD
from restloom.upstream.cache import redis_store
from restloom.upstream.credentials import Credential, CredentialKind
from restloom.upstream.profile import MOSSDESK
from restloom.upstream.readcache import CachePolicy, ReadCache, StoredResponse
from tests.conftest import FULL_KEY
from tests.processes import free_port
from tests.redis_support import drop_namespace, redis_cache_settings, require_redis
from tests.support import GatewayServer, GraphQLClient

VIEWER = "{ viewer { databaseId email } }"
CONTACTS = "{ contacts(first: 5) { nodes { id firstName } } }"
RENAME = "mutation($i: UpdateContactInput!) { updateContact(input: $i) { contact { id } } }"
LOGOUT = "mutation { logout { success upstreamSessionEnded cacheCleared } }"
LOGIN = """mutation($e: String!, $p: String!) {
  login(input: {email: $e, password: $p}) { accessToken } }"""


class OwnRedis:
    """A redis-server of the test's own on a free port; snapshots go to `directory`."""

    def __init__(self, binary: str, directory: Path) -> None:
        self.binary = binary
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Start (or start again, from the last snapshot) and wait until it answers."""
        self.process = await asyncio.create_subprocess_exec(
            self.binary,
            *("--port", str(self.port), "--bind", "127.0.0.1"),
            *("--dir", str(self.directory), "--dbfilename", "snapshot.rdb"),
            *("--save", "", "--appendonly", "no"),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await wait_until_up(self.url)

    def stall(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)

    async def crash(self) -> None:
        """Gone at once, as a crashed server: nothing after the last snapshot survives."""
        assert self.process is not None
        self.process.kill()
        await self.process.wait()
        self.process = None

    async def stop(self) -> None:
        if self.process is not None:
            self.resume()  # a stopped process ignores SIGTERM until continued
            self.process.terminate()
            await self.process.wait()
            self.process = None


@pytest.fixture
async def own_redis(tmp_path: Path) -> AsyncIterator[OwnRedis]:
    binary = shutil.which("redis-server")
    if binary is None:
        reason = "redis-server is not on PATH"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    server = OwnRedis(binary, tmp_path)
    try:
        await server.start()
        yield server
    finally:
        await server.stop()


async def wait_until_up(url: str) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.2)
    try:
        for _ in range(100):
            try:
                await client.ping()
                return
            except (redis.RedisError, OSError):
                await asyncio.sleep(0.05)
        raise RuntimeError(f"redis-server did not start at {url}")
    finally:
        await client.aclose()


async def read_key(url: str, key: str) -> Any:
    client = redis.Redis.from_url(url)
    try:
        return await client.get(key)
    finally:
        await client.aclose()


async def write_key(url: str, key: str, value: Any) -> None:
    client = redis.Redis.from_url(url)
    try:
        await client.set(key, value)
    finally:
        await client.aclose()


async def wait_for_change(url: str, key: str, before: Any) -> Any:
    """The key's new value once the gateway has written it (polled, never assumed by time)."""
    for _ in range(200):
        value = await read_key(url, key)
        if value != before:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"{key} was never rewritten")


async def version_key_matching(url: str, pattern: str) -> bytes:
    client = redis.Redis.from_url(url)
    try:
        [key] = [k async for k in client.scan_iter(match=pattern, count=500)]
        return key
    finally:
        await client.aclose()


def outage_settings(sim, own_redis: OwnRedis) -> Settings:
    return Settings(
        upstream_url=sim.url,
        redis_url=own_redis.url,
        redis_namespace=f"outage-{uuid.uuid4().hex[:8]}",
        cache_ttl=60,
        cursor_secret="test-cursor-secret",
    )


async def bearer_for(client: GraphQLClient) -> dict[str, str]:
    """A session token of the full key's user, from the upstream's own login."""
    email = (await client.data("{ viewer { email } }"))["viewer"]["email"]
    login = await client.data(LOGIN, {"e": email, "p": SEEDED_PASSWORD}, headers={"X-API-Key": ""})
    return {"X-API-Key": "", "Authorization": f"Bearer {login['login']['accessToken']}"}


async def test_a_logout_while_redis_stalls_stops_the_cached_viewer_at_once(
    sim, http, stats, own_redis
):
    async with GatewayServer(outage_settings(sim, own_redis)) as gateway:
        client = GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})
        bearer = await bearer_for(client)
        viewer = await client.data(VIEWER, headers=bearer)
        await stats.reset()
        assert await client.data(VIEWER, headers=bearer) == viewer
        assert await stats.requests() == 0  # cached
        principal = Credential(CredentialKind.BEARER, bearer["Authorization"][7:]).principal
        key = await version_key_matching(own_redis.url, f"*:v:p:{principal}")
        before = await read_key(own_redis.url, key)

        own_redis.stall()
        try:
            out = await client.data(LOGOUT, headers=bearer)
            assert out["logout"] == {
                "success": True,
                "upstreamSessionEnded": True,
                "cacheCleared": False,  # Redis did not take the new token
            }
            await stats.reset()
            stalled = await client.send(VIEWER, headers=bearer)
        finally:
            own_redis.resume()
        assert stalled.codes() == ["UNAUTHENTICATED"]
        assert await stats.requests() == 1
        # Redis answers again, whether or not the new token is written yet: never stale.
        await stats.reset()
        resumed = await client.send(VIEWER, headers=bearer)
        assert resumed.codes() == ["UNAUTHENTICATED"]
        assert await stats.requests() == 1
        assert await wait_for_change(own_redis.url, key, before) is not None


async def test_a_logout_lost_in_a_redis_crash_never_brings_the_viewer_back(
    sim, http, stats, own_redis
):
    """Redis crashes and comes back from a snapshot taken before the logout: the old
    version token and the cached viewer are back in it, the new token is not."""
    async with GatewayServer(outage_settings(sim, own_redis)) as gateway:
        client = GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})
        bearer = await bearer_for(client)
        await client.data(VIEWER, headers=bearer)
        principal = Credential(CredentialKind.BEARER, bearer["Authorization"][7:]).principal
        key = await version_key_matching(own_redis.url, f"*:v:p:{principal}")
        before = await read_key(own_redis.url, key)
        admin = redis.Redis.from_url(own_redis.url)
        await admin.save()
        await admin.aclose()

        await own_redis.crash()
        out = await client.data(LOGOUT, headers=bearer)
        assert out["logout"]["cacheCleared"] is False
        await own_redis.start()
        # Until the gateway's retry lands, Redis holds the old generation again.
        await stats.reset()
        replies = [await client.send(VIEWER, headers=bearer) for _ in range(3)]
        assert [r.codes() for r in replies] == [["UNAUTHENTICATED"]] * 3
        assert await stats.requests() == 3
        assert await wait_for_change(own_redis.url, key, before) is not None


async def test_a_write_while_redis_stalls_is_seen_and_caching_resumes(sim, http, stats, own_redis):
    async with GatewayServer(outage_settings(sim, own_redis)) as gateway:
        client = GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})
        listed = await client.data(CONTACTS)
        target = listed["contacts"]["nodes"][0]["id"]
        key = await version_key_matching(own_redis.url, "*:v:c:contacts")
        before = await read_key(own_redis.url, key)
        name = f"Stalled{uuid.uuid4().hex[:6]}"

        own_redis.stall()
        try:
            await client.data(RENAME, {"i": {"id": target, "firstName": name}})
            await stats.reset()
            during = await client.data(CONTACTS)
        finally:
            own_redis.resume()
        assert during["contacts"]["nodes"][0]["firstName"] == name
        assert await stats.requests() == 1
        await stats.reset()
        after = await client.data(CONTACTS)
        assert after["contacts"]["nodes"][0]["firstName"] == name
        assert await stats.requests() == 1  # read through, or a miss under the new token
        # The new token reaches Redis (the stalled write itself once Redis resumes, or the
        # background retry), and once the retry has confirmed it the scope is clean again:
        # cached as before.
        await wait_for_change(own_redis.url, key, before)
        for _ in range(100):
            await stats.reset()
            again = await client.data(CONTACTS)
            assert again["contacts"]["nodes"][0]["firstName"] == name
            if await stats.requests() == 0:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("contacts were never cached again")


@pytest.fixture
async def stalled_cache(own_redis: OwnRedis) -> AsyncIterator[tuple[ReadCache, OwnRedis]]:
    store = redis_store(own_redis.url)
    # Retries far off: the test flushes by hand, so the dirty window is its to decide.
    cache = ReadCache(
        store,
        MOSSDESK,
        CachePolicy(default_ttl=60),
        f"outage-{uuid.uuid4().hex[:8]}",
        first_retry=3600,
    )
    yield cache, own_redis
    own_redis.resume()
    await cache.close()


async def test_a_dirty_scope_is_read_through_until_its_token_is_written(stalled_cache):
    cache, own_redis = stalled_cache
    path = "/api/v1/users/me"
    calls = 0

    async def fetch() -> StoredResponse:
        nonlocal calls
        calls += 1
        return StoredResponse(200, {}, {"data": {"n": calls}})

    first = await cache.view("p", None).read_through(path, (), fetch)
    assert first.source == "upstream"
    assert (await cache.view("p", None).read_through(path, (), fetch)).source == "cache"
    old_token = await read_key(own_redis.url, cache.version_key("p:p"))

    own_redis.stall()
    try:
        done = await cache.invalidate("/api/v1/auth/logout", "p")
    finally:
        own_redis.resume()
    assert not done.written and cache.pending.scopes() == ["p:p"]
    # A stalled write may still land when Redis resumes; here it is lost for good (say the
    # connection dropped): Redis answers and holds the old token, whose entry is still
    # there. This instance does not serve it, and stores nothing for the scope.
    await write_key(own_redis.url, cache.version_key("p:p"), old_token)
    for expected in (2, 3):
        read = await cache.view("p", None).read_through(path, (), fetch)
        assert read.source == "upstream" and read.response.body == {"data": {"n": expected}}
    # Another principal is not affected.
    assert (await cache.view("q", None).read_through(path, (), fetch)).source == "upstream"
    assert (await cache.view("q", None).read_through(path, (), fetch)).source == "cache"

    assert await cache.pending.flush()
    assert cache.pending.scopes() == []
    assert await read_key(own_redis.url, cache.version_key("p:p")) != old_token
    assert (await cache.view("p", None).read_through(path, (), fetch)).source == "upstream"
    assert (await cache.view("p", None).read_through(path, (), fetch)).source == "cache"


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_logout_reports_the_session_and_the_cache(sim, http, stats, backend):
    namespace = f"restloom-test-{uuid.uuid4().hex[:12]}"
    redis_url = await require_redis() if backend == "redis" else None
    settings = redis_cache_settings(sim.url, redis_url, namespace)
    async with GatewayServer(settings) as gateway:
        client = GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})
        bearer = await bearer_for(client)
        await client.data(VIEWER, headers=bearer)
        out = await client.data(LOGOUT, headers=bearer)
        assert out["logout"] == {
            "success": True,
            "upstreamSessionEnded": True,
            "cacheCleared": True,
        }
        await stats.reset()
        assert (await client.send(VIEWER, headers=bearer)).codes() == ["UNAUTHENTICATED"]
        assert await stats.requests() == 1
        # An API key has no session to end; its cached entries are dropped all the same.
        await client.data(VIEWER)
        keyed = await client.data(LOGOUT)
        assert keyed["logout"] == {
            "success": True,
            "upstreamSessionEnded": False,
            "cacheCleared": True,
        }
        await stats.reset()
        await client.data(VIEWER)
        assert await stats.requests() == 1
    if redis_url is not None:
        await drop_namespace(redis_url, namespace)
