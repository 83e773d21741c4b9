"""A real receiver on loopback for the sim's webhook tests, and small helpers."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web

from restloom.sim import SimServer
from tests.sim.conftest import FULL, Api, small_config

MOCO_KEY = "moss_k_demo_full"
FAST = {"webhook_retry_base": 0.01, "webhook_retry_max": 0.05}
CONTACT = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class Receiver:
    """Records deliveries; ``/ok`` answers 204, ``/fail`` 500, ``/flaky`` fails
    ``flaky_failures`` times then answers 200, ``/hold`` answers once ``release`` is set."""

    url: str = ""
    got: list[Delivery] = field(default_factory=list)
    flaky_failures: int = 2
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def on(self, path: str) -> list[Delivery]:
        return [d for d in self.got if d.path == path]

    async def handle(self, request: web.Request) -> web.Response:
        path = request.match_info["name"]
        self.got.append(Delivery("/" + path, dict(request.headers), await request.read()))
        self.arrived.set()
        if path == "fail":
            return web.Response(status=500)
        if path == "flaky":
            failures = len(self.on("/flaky"))
            return web.Response(status=503 if failures <= self.flaky_failures else 200)
        if path == "hold":
            await self.release.wait()
        return web.Response(status=204)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/{name}", rec.handle)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    rec.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield rec
    rec.release.set()
    await runner.cleanup()


async def start_sim(**overrides: Any) -> SimServer:
    server = SimServer(small_config(**{**FAST, **overrides}))
    await server.start()
    return server


def api_for(sim: SimServer, session: aiohttp.ClientSession) -> Api:
    if sim.config.style == "moco":
        return Api(session, sim.api_url, {"Authorization": f"Token token={MOCO_KEY}"})
    return Api(session, sim.api_url, {"X-API-Key": FULL})


def control_for(sim: SimServer, session: aiohttp.ClientSession) -> Api:
    return Api(session, sim.url + "/__sim", {})


async def flush(control: Api) -> None:
    reply = await control.post("/deliveries/flush", params={"within": "20"})
    assert reply.status == 200, reply.body
    assert reply.body == {"pending": 0}


def data(reply: Any) -> Any:
    """A record from a mossdesk (enveloped) or moco (bare) answer."""
    body = reply.body
    return body["data"] if isinstance(body, dict) and "data" in body else body


async def hook(api: Api, url: str, events: list[str], **extra: Any) -> dict[str, Any]:
    reply = await api.post("/webhooks", json={"url": url, "events": events, **extra})
    assert reply.status == 201, reply.body
    return data(reply)


def seeded_ids(sim: SimServer) -> set[str]:
    return {
        r.id
        for r in sim.state.data.collections["webhooks"].values()
        if not r.hidden.get("url_from_api")
    }


def basic_auth(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:anything".encode()).decode()


async def until(check: Any, within: float = 30.0) -> None:
    """Wait for a condition the test cannot await directly (a count, not a time)."""
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.01)
