"""Test helpers: signed webhook deliveries and a graphql-transport-ws subscriber."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import aiohttp
import orjson

# A Standard Webhooks secret ("whsec_" + base64 of 24 random bytes) and a MOCO key.
SECRET = "whsec_" + base64.b64encode(b"restloom-test-secret-0123").decode()
MOCO_KEY = "1d608b9d72219b90ff2393a1d3ee0ac0"

CHANGES = """
subscription($targets: [EventTarget!], $actions: [EventAction!], $ids: [ID!], $after: ID) {
  events(targets: $targets, actions: $actions, ids: $ids, after: $after) {
    id deliveryId target targetName action objectId occurredAt updatedAt
    actor { databaseId }
    node { id ... on Contact { databaseId firstName updatedAt } }
  }
}
"""


def standard_signature(secret: str, delivery_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def contact_event(
    contact_id: str,
    action: str = "updated",
    *,
    updated_at: datetime | None = None,
    actor_id: str | None = None,
) -> bytes:
    """A Standard Webhooks body; without `updated_at` the event does not say the object's time."""
    data = {"id": contact_id, "object": None, "actor_id": actor_id}
    if updated_at is not None:
        data["updated_at"] = updated_at.isoformat()
    return orjson.dumps(
        {"type": f"contact.{action}", "timestamp": datetime.now(UTC).isoformat(), "data": data}
    )


async def deliver(
    http: aiohttp.ClientSession,
    gateway_url: str,
    body: bytes,
    *,
    secret: str = SECRET,
    delivery_id: str | None = None,
    timestamp: int | None = None,
    signature: str | None = None,
    source: str = "mossdesk",
) -> tuple[int, dict[str, Any]]:
    """POST a Standard Webhooks delivery; (status, JSON answer)."""
    delivery_id = delivery_id or f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time()) if timestamp is None else timestamp
    headers = {
        "content-type": "application/json",
        "webhook-id": delivery_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature or standard_signature(secret, delivery_id, timestamp, body),
    }
    async with http.post(f"{gateway_url}/webhooks/{source}", data=body, headers=headers) as resp:
        return resp.status, await resp.json(content_type=None)


class Subscriber:
    """One graphql-transport-ws connection, as a browser client would open it."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._ids = itertools.count(1)

    @classmethod
    async def connect(
        cls,
        http: aiohttp.ClientSession,
        gateway_url: str,
        params: dict[str, Any] | None = None,
        protocol: str = "graphql-transport-ws",
        headers: dict[str, str] | None = None,
    ) -> Subscriber:
        ws = await http.ws_connect(
            f"{gateway_url}/graphql", protocols=[protocol], headers=headers or {}
        )
        init = "connection_init"
        await ws.send_json({"type": init, "payload": params or {}})
        ack = await ws.receive_json(timeout=10)
        assert ack["type"] == "connection_ack", ack
        return cls(ws)

    async def subscribe(self, query: str = CHANGES, variables: dict[str, Any] | None = None) -> str:
        op = str(next(self._ids))
        kind = "subscribe" if self.ws.protocol == "graphql-transport-ws" else "start"
        payload = {"query": query, "variables": variables or {}}
        await self.ws.send_json({"id": op, "type": kind, "payload": payload})
        return op

    async def message(self, wait: float = 10) -> dict[str, Any]:
        while True:
            msg = await self.ws.receive_json(timeout=wait)
            if msg["type"] not in ("ping", "pong", "ka"):
                return msg

    async def error(self, wait: float = 10) -> dict[str, Any]:
        """The next error (GraphQL errors in `next`, or an `error` message); skips `complete`."""
        while True:
            msg = await self.message(wait)
            if msg["type"] == "complete":
                continue
            assert msg["type"] in ("next", "data", "error"), msg
            errors = msg["payload"] if msg["type"] == "error" else msg["payload"].get("errors")
            assert errors, msg
            return dict(errors[0])

    async def event(self, wait: float = 10) -> dict[str, Any]:
        """The next event's data; skips `complete` of subscriptions that ended."""
        while True:
            msg = await self.message(wait)
            if msg["type"] != "complete":
                break
        assert msg["type"] in ("next", "data"), msg
        assert "errors" not in msg["payload"], msg
        return msg["payload"]["data"]

    async def nothing(self, seconds: float = 1.0) -> None:
        """No message within `seconds` (used after a later event proves delivery ran)."""
        try:
            msg = await self.message(seconds)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected message {msg}")

    async def close(self) -> None:
        await self.ws.close()


async def until_listening(sub: Subscriber, send_probe: Any, attempts: int = 50) -> None:
    """Send probe events until one reaches `sub`, then read up to the last probe sent.

    A subscription listens only once the server has run its resolver, some moments
    after the subscribe message; a probe that arrives proves it.
    """
    sent: list[str] = []
    for _ in range(attempts):
        sent.append(await send_probe())
        try:
            event = await sub.event(wait=0.2)
        except TimeoutError:
            continue
        # Earlier probes (this call's or another subscriber's) may come first.
        while _id_of(event) != sent[-1]:
            event = await sub.event()
        return
    raise AssertionError("the subscription never received a probe")


async def drain(subs: list[Subscriber], send_probe: Any) -> None:
    """For subscribers already listening: one more probe, read by each up to it."""
    last = await send_probe()
    for sub in subs:
        while _id_of(await sub.event()) != last:
            pass


def _id_of(data: dict[str, Any]) -> str:
    """The event id in a subscription's data, whichever root field it came through."""
    return str(next(iter(data.values()))["id"])
