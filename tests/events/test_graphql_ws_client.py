"""The npm `graphql-ws` client (what Apollo Client and urql use) receives an event.

Installed from the committed lock file into tests/events/node/node_modules (gitignored)
the first time; without node or npm the test skips, except under CI=true.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path

import aiohttp
import orjson
import pytest

from restloom.sim.server import SimServer
from tests.conftest import FULL_KEY
from tests.events.conftest import first_contact, patch_on_sim
from tests.events.wire import contact_event, deliver
from tests.support import GatewayServer

NODE_DIR = Path(__file__).resolve().parent / "node"
CLIENT = NODE_DIR / "node_modules" / "graphql-ws" / "package.json"
QUERY = "subscription { events(targets: [CONTACT]) { id action node { ... on Contact { firstName } } } }"


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def node_client() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not (node and npm):
        _skip_or_fail("node and npm are needed for the graphql-ws client (not found on PATH)")
    assert node and npm
    if not CLIENT.exists():
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=NODE_DIR,
            capture_output=True,
            timeout=300,
        )
        if result.returncode != 0 or not CLIENT.exists():
            _skip_or_fail(f"npm ci of graphql-ws failed: {result.stderr.decode()[-2000:]}")
    return node


async def test_the_graphql_ws_client_receives_an_event(
    sim: SimServer, http: aiohttp.ClientSession, events_gateway: GatewayServer
) -> None:
    node = node_client()
    ws_url = events_gateway.url.replace("http://", "ws://") + "/graphql"
    process = await asyncio.create_subprocess_exec(
        node,
        str(NODE_DIR / "subscribe.mjs"),
        ws_url,
        FULL_KEY,
        QUERY,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        cid = await first_contact(http, sim.url)
        # Probes until the client prints one: its subscription is then listening.
        for _ in range(100):
            await deliver(http, events_gateway.url, contact_event(cid))
            try:
                line = await asyncio.wait_for(process.stdout.readline(), 0.3)
            except TimeoutError:
                continue
            assert "clientError" not in orjson.loads(line), line
            break
        else:
            raise AssertionError("the graphql-ws client never received a probe")
        await patch_on_sim(http, sim.url, cid, "FromNode")
        status, answer = await deliver(http, events_gateway.url, contact_event(cid))
        assert status == 202
        while True:
            result = orjson.loads(await asyncio.wait_for(process.stdout.readline(), 10))
            assert "errors" not in result, result
            if result["data"]["events"]["id"] == answer["id"]:
                break
        assert result["data"]["events"]["action"] == "UPDATE"
        assert result["data"]["events"]["node"] == {"firstName": "FromNode"}
    finally:
        process.kill()
        await process.wait()
