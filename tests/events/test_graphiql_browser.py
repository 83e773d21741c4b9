"""The GraphiQL page restloom serves runs a subscription in headless Chromium: the
vendored GraphiQL opens graphql-transport-ws to the gateway, sends the Headers editor's
values as the init payload, and shows the event of a write made elsewhere.

The test drives the page's own `fetcher` (the one GraphiQL's Run button uses) through
the DevTools protocol, rather than typing into the editor.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import tempfile

import aiohttp
import orjson

from restloom.config import Settings
from restloom.sim.server import SimServer
from tests.conftest import FULL_KEY
from tests.events.conftest import first_contact, patch_on_sim, register_hook
from tests.events.wire import SECRET
from tests.security.test_cors_browser import CHROMIUM_FLAGS, chromium
from tests.support import GatewayServer

SUBSCRIPTION = "subscription { events(targets: [CONTACT]) { id action node { ... on Contact { firstName } } } }"
RUN = """
(async () => {
  const stream = await fetcher(
    { query: %(query)s, operationName: null },
    {
      headers: { "X-API-Key": %(key)s },
      // What the editor hands the fetcher besides the text: the parsed operation, which
      // is how GraphiQL tells a subscription (to send over the WebSocket) from a query.
      documentAST: {
        kind: "Document",
        definitions: [{ kind: "OperationDefinition", operation: "subscription" }],
      },
    },
  );
  const iterator = stream[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (iterator.return) iterator.return();
  return JSON.stringify(first.value);
})()
"""


async def test_graphiql_shows_a_live_event(sim: SimServer, http: aiohttp.ClientSession) -> None:
    binary = chromium()
    settings = Settings(upstream_url=sim.url, webhook_secret=SECRET)
    async with GatewayServer(settings) as gw:
        await register_hook(http, sim.url, f"{gw.url}/webhooks/mossdesk", ["contact.updated"])
        cid = await first_contact(http, sim.url)
        with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
            process = await asyncio.create_subprocess_exec(
                binary,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                "--remote-debugging-port=0",
                f"{gw.url}/graphql",
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
            try:
                devtools = await _devtools_port(process)
                async with http.get(f"http://127.0.0.1:{devtools}/json/list") as resp:
                    targets = await resp.json(content_type=None)
                page = next(t for t in targets if t["type"] == "page")
                async with http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as cdp:
                    expression = RUN % {
                        "query": orjson.dumps(SUBSCRIPTION).decode(),
                        "key": orjson.dumps(FULL_KEY).decode(),
                    }
                    await _page_ready(cdp)
                    await cdp.send_json(
                        {
                            "id": 1,
                            "method": "Runtime.evaluate",
                            "params": {"expression": expression, "awaitPromise": True},
                        }
                    )
                    answer = asyncio.create_task(_reply(cdp, 1))
                    # Writes on the sim until the page's subscription is told of one.
                    for attempt in range(100):
                        await patch_on_sim(http, sim.url, cid, f"Browser{attempt}")
                        done, _ = await asyncio.wait({answer}, timeout=0.3)
                        if done:
                            break
                    reply = await asyncio.wait_for(answer, 10)
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
    result = reply["result"]["result"]
    assert result["type"] == "string", reply
    event = orjson.loads(result["value"])["data"]["events"]
    assert event["action"] == "UPDATE"
    assert event["node"]["firstName"].startswith("Browser")


async def _devtools_port(process: asyncio.subprocess.Process) -> int:
    assert process.stderr is not None
    while True:
        line = (await asyncio.wait_for(process.stderr.readline(), 30)).decode()
        if not line:
            raise AssertionError("chromium exited before its DevTools endpoint was up")
        match = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
        if match:
            return int(match.group(1))


async def _reply(cdp: aiohttp.ClientWebSocketResponse, message_id: int) -> dict:
    while True:
        message = await cdp.receive_json()
        if message.get("id") == message_id:
            return dict(message)


async def _page_ready(cdp: aiohttp.ClientWebSocketResponse) -> None:
    """Until GraphiQL's page has loaded and defined its fetcher."""
    for message_id in range(100, 400):
        await cdp.send_json(
            {
                "id": message_id,
                "method": "Runtime.evaluate",
                "params": {"expression": 'document.readyState + ":" + typeof fetcher'},
            }
        )
        reply = await _reply(cdp, message_id)
        if reply.get("result", {}).get("result", {}).get("value") == "complete:function":
            return
        await asyncio.sleep(0.05)
    raise AssertionError("GraphiQL's page never defined its fetcher")
