"""The npm `graphql-ws` client (what Apollo Client and urql use) receives an event.

`tests.npm` installs it from the committed lock file into tests/events/node/node_modules
the first time (skipped without node, failed under CI=true).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import orjson

from restloom.sim.server import SimServer
from tests import npm
from tests.conftest import FULL_KEY
from tests.events.conftest import first_contact, patch_on_sim
from tests.events.wire import contact_event, deliver
from tests.support import GatewayServer

NODE_DIR = Path(__file__).resolve().parent / "node"
QUERY = "subscription { events(targets: [CONTACT]) { id action node { ... on Contact { firstName } } } }"


async def test_the_graphql_ws_client_receives_an_event(
    sim: SimServer, http: aiohttp.ClientSession, events_gateway: GatewayServer
) -> None:
    node = npm.install(NODE_DIR, ("graphql-ws/package.json",), "the graphql-ws client")
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
