"""A subscriber only hears about what its own credential can read."""

from __future__ import annotations

import aiohttp

from restloom.config import Settings
from restloom.sim.server import SimServer
from tests.conftest import FULL_KEY, READ_KEY
from tests.events.conftest import first_contact
from tests.events.wire import (
    SECRET,
    Subscriber,
    contact_event,
    deliver,
    drain,
    until_listening,
)
from tests.support import GatewayServer, SimStats


async def login(http: aiohttp.ClientSession, sim_url: str) -> str:
    async with http.get(f"{sim_url}/api/v1/users", headers={"X-API-Key": FULL_KEY}) as resp:
        email = (await resp.json())["data"][0]["email"]
    async with http.post(
        f"{sim_url}/api/v1/auth/login", json={"email": email, "password": "password"}
    ) as resp:
        assert resp.status == 200, await resp.text()
        return str((await resp.json())["access_token"])


async def logout(http: aiohttp.ClientSession, sim_url: str, token: str) -> None:
    async with http.post(
        f"{sim_url}/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"}
    ) as resp:
        assert resp.status in (200, 204), await resp.text()


async def test_a_subscriber_without_read_access_gets_nothing(
    sim: SimServer, http: aiohttp.ClientSession, events_gateway: GatewayServer
) -> None:
    cid = await first_contact(http, sim.url)
    token = await login(http, sim.url)
    reader = await Subscriber.connect(http, events_gateway.url, {"X-API-Key": READ_KEY})
    await reader.subscribe()
    # Its credential in the init payload, none in the handshake.
    revoked = await Subscriber.connect(
        http, events_gateway.url, {"Authorization": f"Bearer {token}"}
    )
    await revoked.subscribe()
    # A junk key in the handshake headers: the upstream refuses it.
    junk = await Subscriber.connect(
        http, events_gateway.url, headers={"X-API-Key": "moss_k_not_a_key"}
    )
    await junk.subscribe()

    async def send() -> str:
        status, answer = await deliver(http, events_gateway.url, contact_event(cid))
        assert status == 202
        return str(answer["id"])

    await until_listening(reader, send)
    await until_listening(revoked, send)  # the token still works: it hears the probes
    await drain([reader, revoked], send)
    await logout(http, sim.url, token)

    stats = SimStats(http, sim.url)
    await stats.reset()
    status, answer = await deliver(http, events_gateway.url, contact_event(cid))
    assert status == 202
    got = (await reader.event())["events"]
    assert got["id"] == answer["id"] and got["node"]["databaseId"] == cid
    # Each subscriber's own read went upstream (3 object reads, one per credential);
    # the revoked token and the junk key were refused (401), so they are told nothing.
    assert (await stats.read())["requests"] == 3
    later = await deliver(http, events_gateway.url, contact_event(cid))
    assert (await reader.event())["events"]["id"] == later[1]["id"]
    await revoked.nothing(0.5)
    await junk.nothing(0.5)
    for sub in (reader, revoked, junk):
        await sub.close()


async def test_no_credential_and_no_service_key_is_unauthenticated(
    sim: SimServer, http: aiohttp.ClientSession, events_gateway: GatewayServer
) -> None:
    sub = await Subscriber.connect(http, events_gateway.url)
    await sub.subscribe()
    assert (await sub.error())["extensions"]["code"] == "UNAUTHENTICATED"
    await sub.close()


async def test_with_a_service_key_a_subscriber_without_credential_reads_through_it(
    sim: SimServer, http: aiohttp.ClientSession
) -> None:
    settings = Settings(upstream_url=sim.url, webhook_secret=SECRET, api_key=FULL_KEY)
    async with GatewayServer(settings) as gw:
        cid = await first_contact(http, sim.url)
        sub = await Subscriber.connect(http, gw.url)
        await sub.subscribe()

        async def send() -> str:
            return str((await deliver(http, gw.url, contact_event(cid)))[1]["id"])

        await until_listening(sub, send)
        await sub.close()


async def test_subscriptions_sharing_a_credential_share_one_read_per_event(
    sim: SimServer, http: aiohttp.ClientSession, events_gateway: GatewayServer
) -> None:
    cid = await first_contact(http, sim.url)
    full = [
        await Subscriber.connect(http, events_gateway.url, {"X-API-Key": FULL_KEY})
        for _ in range(3)
    ]
    read = await Subscriber.connect(http, events_gateway.url, {"X-API-Key": READ_KEY})
    subs = [*full, read]

    async def send() -> str:
        return str((await deliver(http, events_gateway.url, contact_event(cid)))[1]["id"])

    for sub in subs:
        await sub.subscribe()
        await until_listening(sub, send)
    await drain(subs, send)
    stats = SimStats(http, sim.url)
    await stats.reset()
    status, answer = await deliver(http, events_gateway.url, contact_event(cid))
    assert status == 202
    for sub in subs:
        got = (await sub.event())["events"]
        assert got["id"] == answer["id"] and got["node"]["databaseId"] == cid
    # One read for the three subscriptions of the full key, one for the read-only key.
    assert await stats.requests() == 2
    for sub in subs:
        await sub.close()
