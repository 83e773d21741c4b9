"""The webhook receiver: signatures, freshness, replays and bad bodies, against a real
gateway over the sim, watched by a real graphql-transport-ws subscriber.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import orjson
import pytest

from restloom.config import Settings
from restloom.sim.server import SimServer
from tests.conftest import FULL_KEY, TEST_DATASET
from tests.events.conftest import first_contact, patch_on_sim
from tests.events.wire import (
    MOCO_KEY,
    SECRET,
    Subscriber,
    contact_event,
    deliver,
    standard_signature,
    until_listening,
)
from tests.support import GatewayServer

OTHER_SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"


@asynccontextmanager
async def moco_stack() -> AsyncIterator[tuple[SimServer, GatewayServer]]:
    """A MOCO-style sim, and a moco-profile gateway over it with the MOCO webhook key."""
    config = dataclasses.replace(TEST_DATASET, style="moco", rate_limit=0)
    async with SimServer(config) as sim:
        settings = Settings(
            upstream_url=sim.url,
            profile="moco",
            rate_limit="off",
            api_key=FULL_KEY,
            webhook_secret=MOCO_KEY,
        )
        async with GatewayServer(settings) as gw:
            yield sim, gw


async def subscribed(http: aiohttp.ClientSession, url: str) -> Subscriber:
    sub = await Subscriber.connect(http, url, {"X-API-Key": FULL_KEY})
    await sub.subscribe()
    return sub


async def probe(http: aiohttp.ClientSession, gw: GatewayServer, sub: Subscriber, cid: str) -> None:
    """Returns once `sub` is surely listening."""

    async def send() -> str:
        status, answer = await deliver(http, gw.url, contact_event(cid))
        assert status == 202, answer
        return str(answer["id"])

    await until_listening(sub, send)


async def listening(
    http: aiohttp.ClientSession, sim: SimServer, gw: GatewayServer
) -> tuple[str, Subscriber]:
    """A contact of the sim's, and a subscriber surely listening for events."""
    cid = await first_contact(http, sim.url)
    sub = await subscribed(http, gw.url)
    await probe(http, gw, sub, cid)
    return cid, sub


async def test_write_on_the_sim_reaches_the_subscriber_with_the_object_as_it_is_now(
    sim: SimServer, http: aiohttp.ClientSession, events_gateway: GatewayServer
) -> None:
    cid, sub = await listening(http, sim, events_gateway)
    record = await patch_on_sim(http, sim.url, cid, "Webhooked")
    status, answer = await deliver(http, events_gateway.url, contact_event(cid, actor_id=None))
    assert status == 202 and answer["status"] == "accepted"
    event = (await sub.event())["events"]
    assert event["id"] == answer["id"]
    assert (event["target"], event["action"], event["objectId"]) == ("CONTACT", "UPDATE", cid)
    assert event["node"]["databaseId"] == cid
    assert event["node"]["firstName"] == "Webhooked"
    assert event["node"]["updatedAt"].startswith(str(record["updated_at"])[:19])
    await sub.close()


async def test_bad_signature_is_refused_and_publishes_nothing(
    sim: SimServer, http: aiohttp.ClientSession, events_gateway: GatewayServer
) -> None:
    cid, sub = await listening(http, sim, events_gateway)
    body = contact_event(cid)
    wrong_key = await deliver(http, events_gateway.url, body, secret=OTHER_SECRET)
    garbage = await deliver(http, events_gateway.url, body, signature="v1,not-base64!! v2,x")
    no_list = await deliver(http, events_gateway.url, body, signature="v1")
    tampered_sig = standard_signature(SECRET, "msg_1", int(time.time()), body)
    tampered = await deliver(
        http,
        events_gateway.url,
        body.replace(b"contact", b"resource"),
        delivery_id="msg_1",
        signature=tampered_sig,
    )
    for status, answer in (wrong_key, garbage, no_list, tampered):
        assert status == 401, answer
        assert answer["status"] == "refused"
        assert SECRET not in orjson.dumps(answer).decode()
    # Nothing was published: the next event the subscriber sees is the next good one.
    after = await deliver(http, events_gateway.url, body)
    assert after[0] == 202
    assert (await sub.event())["events"]["id"] == after[1]["id"]
    await sub.close()


async def test_missing_headers_are_refused(
    sim: SimServer, http: aiohttp.ClientSession, events_gateway: GatewayServer
) -> None:
    body = contact_event(await first_contact(http, sim.url))
    async with http.post(f"{events_gateway.url}/webhooks/mossdesk", data=body) as resp:
        assert resp.status == 401
        assert "missing header" in (await resp.json())["reason"]


async def test_stale_and_future_timestamps_are_refused(
    sim: SimServer, http: aiohttp.ClientSession, events_gateway: GatewayServer
) -> None:
    cid, sub = await listening(http, sim, events_gateway)
    now = int(time.time())
    # Correctly signed, but 301 s old or 301 s ahead: the default window is 300 s.
    for timestamp in (now - 301, now + 301):
        status, answer = await deliver(
            http, events_gateway.url, contact_event(cid), timestamp=timestamp
        )
        assert status == 401, answer
        assert "window" in answer["reason"]
    inside = await deliver(http, events_gateway.url, contact_event(cid), timestamp=now - 290)
    assert inside[0] == 202
    assert (await sub.event())["events"]["id"] == inside[1]["id"]
    await sub.close()


async def test_a_replayed_or_retried_delivery_is_published_once(
    sim: SimServer, http: aiohttp.ClientSession, events_gateway: GatewayServer
) -> None:
    cid, sub = await listening(http, sim, events_gateway)
    body = contact_event(cid)
    first = await deliver(http, events_gateway.url, body, delivery_id="msg_retried")
    # A retry: same id, a later timestamp (its own signature).
    retry = await deliver(
        http, events_gateway.url, body, delivery_id="msg_retried", timestamp=int(time.time()) + 2
    )
    replay = await deliver(http, events_gateway.url, body, delivery_id="msg_retried")
    assert first[0] == 202
    assert retry == (200, {"status": "duplicate"})
    assert replay == (200, {"status": "duplicate"})
    got = (await sub.event())["events"]
    assert (got["id"], got["deliveryId"]) == (first[1]["id"], "msg_retried")
    following = await deliver(http, events_gateway.url, body)
    assert (await sub.event())["events"]["id"] == following[1]["id"]
    await sub.close()


async def test_signed_but_malformed_bodies_are_400(
    sim: SimServer, http: aiohttp.ClientSession, events_gateway: GatewayServer
) -> None:
    cid = await first_contact(http, sim.url)
    bodies = [
        b"not json",
        b"[1, 2]",
        orjson.dumps({"type": "contact", "data": {"id": cid}}),
        orjson.dumps({"type": "contact.updated", "data": "x"}),
        orjson.dumps({"type": "contact.updated", "data": {"id": "../../users/me"}}),
        orjson.dumps({"type": "contact.updated", "data": {"id": cid, "updated_at": "yesterday"}}),
        orjson.dumps({"type": "a" * 200 + ".updated", "data": {"id": cid}}),
    ]
    for body in bodies:
        status, answer = await deliver(http, events_gateway.url, body)
        assert status == 400, (body, answer)
        assert answer["status"] == "malformed"


async def test_unknown_source_no_secret_and_oversize(
    sim: SimServer, http: aiohttp.ClientSession, events_gateway: GatewayServer
) -> None:
    body = contact_event(await first_contact(http, sim.url))
    assert (await deliver(http, events_gateway.url, body, source="elsewhere"))[0] == 404
    assert (await deliver(http, events_gateway.url, body, source="default"))[0] == 202
    big = b'{"type": "contact.updated", "pad": "' + b"x" * 300_000 + b'"}'
    assert (await deliver(http, events_gateway.url, big))[0] == 413
    async with GatewayServer(Settings(upstream_url=sim.url)) as plain:
        assert (await deliver(http, plain.url, body))[0] == 404


async def test_moco_style_signature_over_the_raw_body(http: aiohttp.ClientSession) -> None:
    async with moco_stack() as (sim, gw):
        async with http.get(
            f"{sim.url}/api/v1/contacts", headers={"Authorization": f"Token token={FULL_KEY}"}
        ) as resp:
            contact = (await resp.json())[0]
        sub = await Subscriber.connect(http, gw.url)
        await sub.subscribe()
        body = orjson.dumps(contact)

        async def post(signature: str, timestamp_ms: int) -> int:
            headers = {
                "X-Moco-Target": "Contact",
                "X-Moco-Event": "update",
                "X-Moco-Timestamp": str(timestamp_ms),
                "X-Moco-Signature": signature,
                "X-Moco-User-Id": "933613686",
                "Content-Type": "application/json",
            }
            async with http.post(f"{gw.url}/webhooks/moco", data=body, headers=headers) as r:
                return r.status

        good = hmac.new(MOCO_KEY.encode(), body, hashlib.sha256).hexdigest()
        now_ms = int(time.time() * 1000)
        assert await post("0" * 64, now_ms) == 401
        assert await post(good, now_ms - 301_000) == 401
        assert await post(good, now_ms) == 202
        assert await post(good, now_ms) == 200  # the same body again: a retry
        event = (await sub.event())["events"]
        assert (event["target"], event["action"]) == ("CONTACT", "UPDATE")
        assert event["objectId"] == str(contact["id"])
        assert event["node"]["databaseId"] == str(contact["id"])
        await sub.close()


async def test_events_about_objects_without_a_type_are_accepted_but_not_delivered(
    sim: SimServer, http: aiohttp.ClientSession, events_gateway: GatewayServer
) -> None:
    cid, sub = await listening(http, sim, events_gateway)
    member = orjson.dumps(
        {"type": "member.added", "data": {"id": "usr_1", "organization_id": "org_1"}}
    )
    activity = orjson.dumps({"type": "activity.created", "data": {"id": "act_1"}})
    assert (await deliver(http, events_gateway.url, member))[0] == 202
    assert (await deliver(http, events_gateway.url, activity))[0] == 202
    # No object restloom can read to check the subscriber's access with: withheld.
    after = await deliver(http, events_gateway.url, contact_event(cid))
    assert (await sub.event())["events"]["id"] == after[1]["id"]
    await sub.close()


def test_an_unusable_webhook_secret_stops_start_up(sim: SimServer) -> None:
    from restloom.app import create_app
    from restloom.config import ConfigError

    with pytest.raises(ConfigError, match="webhook_secret"):
        create_app(Settings(upstream_url=sim.url, webhook_secret="whsec_!!not base64!!"))


async def test_no_log_line_carries_the_secret_or_a_signature(
    sim: SimServer,
    http: aiohttp.ClientSession,
    events_gateway: GatewayServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    cid = await first_contact(http, sim.url)
    body = contact_event(cid)
    good = standard_signature(SECRET, "msg_logged", int(time.time()), body)
    forged = standard_signature(OTHER_SECRET, "msg_forged", int(time.time()), body)
    await deliver(http, events_gateway.url, body, delivery_id="msg_logged", signature=good)
    await deliver(http, events_gateway.url, body, delivery_id="msg_forged", signature=forged)
    await deliver(http, events_gateway.url, b"not json")
    text = caplog.text
    for secret in (SECRET, SECRET.removeprefix("whsec_"), good[3:], forged[3:]):
        assert secret not in text


async def test_the_moco_sim_s_real_deliveries_reach_a_subscriber(
    http: aiohttp.ClientSession,
) -> None:
    auth = {"Authorization": f"Token token={FULL_KEY}"}
    async with moco_stack() as (sim, gw):
        async with http.post(
            f"{sim.url}/api/v1/webhooks",
            json={
                "url": f"{gw.url}/webhooks/moco",
                "events": ["contact.updated"],
                "secret": MOCO_KEY,
            },
            headers=auth,
        ) as resp:
            assert resp.status == 201, await resp.text()
        async with http.get(f"{sim.url}/api/v1/contacts", headers=auth) as resp:
            contact_id = (await resp.json())[0]["id"]
        sub = await Subscriber.connect(http, gw.url)
        await sub.subscribe()
        # Writes straight to the sim until the subscription (listening a moment
        # after subscribing) is told of one.
        for attempt in range(50):
            async with http.put(
                f"{sim.url}/api/v1/contacts/{contact_id}",
                json={"first_name": f"Moco{attempt}"},
                headers=auth,
            ) as resp:
                assert resp.status == 200, await resp.text()
            try:
                event = (await sub.event(wait=0.5))["events"]
            except TimeoutError:
                continue
            break
        else:
            raise AssertionError("no MOCO delivery reached the subscription")
        assert (event["target"], event["action"]) == ("CONTACT", "UPDATE")
        assert event["objectId"] == str(contact_id)
        assert event["deliveryId"].startswith("moco:")
        assert event["node"]["firstName"].startswith("Moco")  # read fresh, in MOCO style
        await sub.close()


async def test_without_a_reachable_redis_the_sender_is_asked_to_retry(
    sim: SimServer, http: aiohttp.ClientSession
) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = Settings(
        upstream_url=sim.url,
        webhook_secret=SECRET,
        redis_url=f"redis://127.0.0.1:{port}/0",
        cursor_secret="x" * 16,
    )
    async with GatewayServer(settings) as gw:
        body = contact_event(await first_contact(http, sim.url))
        status, answer = await deliver(http, gw.url, body)
        # Nothing recorded, nothing published: the sender's retry will be taken.
        assert (status, answer) == (503, {"status": "try again"})
