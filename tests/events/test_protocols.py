"""Both WebSocket protocols, and the front door's origin rules on the handshake."""

from __future__ import annotations

import aiohttp
import pytest

from restloom.config import Settings
from restloom.sim.server import SimServer
from tests.conftest import FULL_KEY
from tests.events.conftest import first_contact
from tests.events.wire import SECRET, Subscriber, contact_event, deliver, until_listening
from tests.support import GatewayServer

CONTACT_CHANGED = """
subscription($id: ID!) { contactChanged(id: $id) { id action node { ... on Contact { databaseId } } } }
"""


async def test_legacy_graphql_ws_protocol_and_contact_changed(
    sim: SimServer, http: aiohttp.ClientSession, events_gateway: GatewayServer
) -> None:
    cid = await first_contact(http, sim.url)
    other = await first_contact(http, sim.url, 1)
    sub = await Subscriber.connect(
        http, events_gateway.url, {"X-API-Key": FULL_KEY}, protocol="graphql-ws"
    )
    assert sub.ws.protocol == "graphql-ws"
    await sub.subscribe(CONTACT_CHANGED, {"id": cid})

    async def send() -> str:
        return str((await deliver(http, events_gateway.url, contact_event(cid)))[1]["id"])

    await until_listening(sub, send)
    # An event about another contact is not this subscription's.
    await deliver(http, events_gateway.url, contact_event(other))
    status, answer = await deliver(http, events_gateway.url, contact_event(cid, "deleted"))
    assert status == 202
    got = (await sub.event())["contactChanged"]
    # A delete is told to a subscriber that was told of the object: node is null.
    assert (got["id"], got["action"], got["node"]) == (answer["id"], "DELETE", None)
    await sub.close()


@pytest.mark.parametrize(
    ("origins", "origin", "allowed"),
    [
        ([], "http://evil.example", False),
        (["https://app.example.com"], "https://app.example.com", True),
        (["http://localhost:*"], "http://localhost:5173", True),
        (["http://localhost:*"], "http://localhost.evil.example", False),
    ],
)
async def test_websocket_handshakes_follow_the_cors_origins(
    sim: SimServer, http: aiohttp.ClientSession, origins: list[str], origin: str, allowed: bool
) -> None:
    settings = Settings(upstream_url=sim.url, webhook_secret=SECRET, cors_origins=origins)
    async with GatewayServer(settings) as gw:
        try:
            sub = await Subscriber.connect(
                http, gw.url, {"X-API-Key": FULL_KEY}, headers={"Origin": origin}
            )
        except aiohttp.WSServerHandshakeError as exc:
            assert not allowed
            assert exc.status == 403
        else:
            assert allowed
            await sub.close()
