"""CORS in a real browser: headless Debian Chromium loads a page from another loopback
origin, and the page calls restloom with fetch().

The page reports what fetch() gave it by POSTing it back to its own server (same
origin, no CORS involved). The call carries X-API-Key and X-Request-Id, so the
browser sends a preflight first; reading X-Request-Id needs it to be exposed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from aiohttp import web

from restloom.config import Settings
from restloom.sim.server import SimServer
from tests.conftest import FULL_KEY
from tests.support import GatewayServer, SimStats

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",
)

PAGE = """<!doctype html>
<html><body><script>
fetch(%(gateway)s + "/graphql", {
  method: "POST",
  headers: {"Content-Type": "application/json", "X-API-Key": %(key)s,
            "X-Request-Id": "browser-check-1"},
  body: JSON.stringify({query: "{ viewer { email } }"}),
})
  .then(async (r) => ({fetched: true, status: r.status,
                       requestId: r.headers.get("X-Request-Id"), body: await r.json()}))
  .catch((e) => ({fetched: false, error: String(e)}))
  .then((result) => fetch("/result", {method: "POST", body: JSON.stringify(result)}));
</script></body></html>
"""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and _install_chromium():
        found = shutil.which("chromium")
    if found:
        return found
    reason = "Debian chromium is not installed (apt-get install -y chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def _install_chromium() -> bool:
    """On a fresh Debian machine (as root, as CI runs), the test set-up installs chromium."""
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in ([apt, "update", "-q"], [apt, "install", "-y", "-q", "chromium"]):
        done = subprocess.run(command, env=env, capture_output=True, timeout=600, check=False)
        if done.returncode != 0:
            return False
    return True


@dataclass
class PageServer:
    """Serves the page on its own loopback origin and collects what the page reports."""

    gateway_url: str
    results: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    origin: str = ""
    _runner: web.AppRunner | None = None

    async def __aenter__(self) -> PageServer:
        app = web.Application()
        app.router.add_get("/page.html", self.page)
        app.router.add_post("/result", self.result)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.origin = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    async def page(self, request: web.Request) -> web.Response:
        html = PAGE % {
            "gateway": orjson.dumps(self.gateway_url).decode(),
            "key": orjson.dumps(FULL_KEY).decode(),
        }
        return web.Response(text=html, content_type="text/html")

    async def result(self, request: web.Request) -> web.Response:
        await self.results.put(orjson.loads(await request.read()))
        return web.Response(status=204)


async def open_in_chromium(binary: str, url: str, results: asyncio.Queue[Any]) -> dict[str, Any]:
    # Chromium's helper processes may still write to the profile as they die: clean up
    # the whole process group, and do not fail the test on a leftover file.
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        process = await asyncio.create_subprocess_exec(
            binary,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            url,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            return dict(await asyncio.wait_for(results.get(), timeout=60))
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()


@pytest.fixture
async def pages(sim: SimServer) -> AsyncIterator[tuple[GatewayServer, PageServer, PageServer]]:
    """A gateway allowing one page server's origin, and another page server it does not."""
    allowed = PageServer("")
    blocked = PageServer("")
    async with allowed, blocked:
        settings = Settings(upstream_url=sim.url, cors_origins=[allowed.origin])
        async with GatewayServer(settings) as gateway:
            allowed.gateway_url = blocked.gateway_url = gateway.url
            yield gateway, allowed, blocked


async def test_a_page_from_an_allowed_origin_gets_data(
    pages: tuple[GatewayServer, PageServer, PageServer], stats: SimStats
) -> None:
    binary = chromium()
    _, allowed, _ = pages
    await stats.reset()
    result = await open_in_chromium(binary, allowed.origin + "/page.html", allowed.results)
    assert result["fetched"] is True, result
    assert result["status"] == 200
    assert "@" in result["body"]["data"]["viewer"]["email"]
    assert result["requestId"] == "browser-check-1"  # exposed to the page
    assert await stats.requests() == 1


async def test_a_page_from_another_origin_is_blocked(
    pages: tuple[GatewayServer, PageServer, PageServer], stats: SimStats
) -> None:
    binary = chromium()
    _, _, blocked = pages
    await stats.reset()
    result = await open_in_chromium(binary, blocked.origin + "/page.html", blocked.results)
    assert result["fetched"] is False, result
    assert "Failed to fetch" in result["error"]
    assert await stats.requests() == 0  # the preflight failed: the POST was never sent
