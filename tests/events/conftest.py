"""A gateway with a webhook receiver over the sim, and a subscriber's helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from restloom.config import Settings
from restloom.sim.server import SimServer
from tests.conftest import FULL_KEY
from tests.events.wire import SECRET
from tests.support import GatewayServer


@pytest.fixture
def events_settings(sim: SimServer) -> Settings:
    return Settings(upstream_url=sim.url, webhook_secret=SECRET)


@pytest.fixture
async def events_gateway(events_settings: Settings) -> AsyncIterator[GatewayServer]:
    async with GatewayServer(events_settings) as server:
        yield server


async def first_contact(http: aiohttp.ClientSession, sim_url: str, index: int = 0) -> str:
    async with http.get(f"{sim_url}/api/v1/contacts", headers={"X-API-Key": FULL_KEY}) as resp:
        return str((await resp.json())["data"][index]["id"])


async def patch_on_sim(
    http: aiohttp.ClientSession, sim_url: str, contact_id: str, first_name: str
) -> dict[str, object]:
    """A write that bypasses restloom."""
    async with http.patch(
        f"{sim_url}/api/v1/contacts/{contact_id}",
        json={"first_name": first_name},
        headers={"X-API-Key": FULL_KEY},
    ) as resp:
        assert resp.status == 200, await resp.text()
        return dict((await resp.json())["data"])


async def register_hook(
    http: aiohttp.ClientSession, sim_url: str, receiver_url: str, events: list[str]
) -> str:
    """Create a webhook on the sim that calls `receiver_url`, signed with SECRET."""
    async with http.post(
        f"{sim_url}/api/v1/webhooks",
        json={"url": receiver_url, "events": events, "secret": SECRET},
        headers={"X-API-Key": FULL_KEY},
    ) as resp:
        assert resp.status == 201, await resp.text()
        return str((await resp.json())["data"]["id"])


async def sim_deliveries(http: aiohttp.ClientSession, sim_url: str) -> list[dict[str, object]]:
    async with http.post(f"{sim_url}/__sim/deliveries/flush", params={"within": "20"}) as resp:
        assert resp.status == 200
    async with http.get(f"{sim_url}/__sim/deliveries") as resp:
        return list((await resp.json())["deliveries"])


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "max_age(seconds): the gateway_with fixture's event_retention_seconds"
    )
