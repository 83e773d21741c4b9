"""Nothing lost silently: resume after a disconnect, "too old" when the retention has
moved on, limits per connection, and out-of-order deliveries that never regress."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import aiohttp
import pytest

from restloom.config import Settings
from restloom.sim.server import SimServer
from tests.conftest import FULL_KEY
from tests.events.conftest import first_contact, patch_on_sim
from tests.events.wire import SECRET, Subscriber, contact_event, deliver, until_listening
from tests.redis_support import drop_namespace, require_redis
from tests.support import GatewayServer

BROKERS = ["memory", "redis"]


@pytest.fixture(params=BROKERS)
async def gateway_with(
    request: pytest.FixtureRequest, sim: SimServer
) -> AsyncIterator[tuple[GatewayServer, str]]:
    """A gateway keeping only 5 events, in-process or on Redis; `@pytest.mark.max_age(s)`
    also drops those older than s seconds."""
    marker = request.node.get_closest_marker("max_age")
    max_age = float(marker.args[0]) if marker else 3600.0
    extra: dict[str, object] = {}
    if request.param == "redis":
        url = await require_redis()
        namespace = f"restloom-test-{uuid.uuid4().hex[:12]}"
        extra = {"redis_url": url, "redis_namespace": namespace, "cursor_secret": "x" * 16}
    settings = Settings(
        upstream_url=sim.url,
        webhook_secret=SECRET,
        event_retention=5,
        event_retention_seconds=max_age,
        **extra,
    )
    try:
        async with GatewayServer(settings) as gw:
            yield gw, request.param
    finally:
        if extra:
            await drop_namespace(str(extra["redis_url"]), str(extra["redis_namespace"]))


async def listening(
    http: aiohttp.ClientSession, gw: GatewayServer, cid: str, **variables: object
) -> Subscriber:
    sub = await Subscriber.connect(http, gw.url, {"X-API-Key": FULL_KEY})
    await sub.subscribe(variables=dict(variables))

    async def send() -> str:
        return str((await deliver(http, gw.url, contact_event(cid)))[1]["id"])

    await until_listening(sub, send)
    return sub


async def publish(http: aiohttp.ClientSession, gw: GatewayServer, cid: str, n: int) -> list[str]:
    ids = []
    for _ in range(n):
        status, answer = await deliver(http, gw.url, contact_event(cid))
        assert status == 202
        ids.append(str(answer["id"]))
    return ids


async def test_reconnect_with_the_last_id_gets_what_was_missed_then_live_events(
    sim: SimServer, http: aiohttp.ClientSession, gateway_with: tuple[GatewayServer, str]
) -> None:
    gw, _ = gateway_with
    cid = await first_contact(http, sim.url)
    sub = await listening(http, gw, cid)
    [seen] = await publish(http, gw, cid, 1)
    assert (await sub.event())["events"]["id"] == seen
    await sub.close()

    missed = await publish(http, gw, cid, 3)  # while disconnected
    again = await Subscriber.connect(http, gw.url, {"X-API-Key": FULL_KEY})
    await again.subscribe(variables={"after": seen})
    got = [(await again.event())["events"]["id"] for _ in missed]
    assert got == missed
    [live] = await publish(http, gw, cid, 1)
    assert (await again.event())["events"]["id"] == live
    await again.close()


async def test_resuming_past_the_retention_is_a_clear_refetch_error(
    sim: SimServer, http: aiohttp.ClientSession, gateway_with: tuple[GatewayServer, str]
) -> None:
    gw, _ = gateway_with
    cid = await first_contact(http, sim.url)
    [old] = await publish(http, gw, cid, 1)
    await publish(http, gw, cid, 6)  # the retention keeps 5: `old`'s successor is gone
    sub = await Subscriber.connect(http, gw.url, {"X-API-Key": FULL_KEY})
    await sub.subscribe(variables={"after": old})
    error = await sub.error()
    assert error["extensions"]["code"] == "EVENTS_GONE", error
    assert "refetch" in error["message"]
    # An id from the future (another gateway's, a flushed Redis): also refetch.
    await sub.subscribe(variables={"after": "99999999999999-0"})
    error = await sub.error()
    assert error["extensions"]["code"] == "EVENTS_GONE", error
    # Not an event id at all: bad input.
    await sub.subscribe(variables={"after": "yesterday"})
    error = await sub.error()
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    await sub.close()


async def test_the_last_retained_window_resumes_exactly(
    sim: SimServer, http: aiohttp.ClientSession, gateway_with: tuple[GatewayServer, str]
) -> None:
    gw, _ = gateway_with
    cid = await first_contact(http, sim.url)
    ids = await publish(http, gw, cid, 8)
    # Retention 5: ids[3:] are kept, so resuming after ids[2] loses nothing.
    sub = await Subscriber.connect(http, gw.url, {"X-API-Key": FULL_KEY})
    await sub.subscribe(variables={"after": ids[2]})
    assert [(await sub.event())["events"]["id"] for _ in ids[3:]] == ids[3:]
    await sub.close()


async def test_out_of_order_deliveries_never_regress(
    sim: SimServer, http: aiohttp.ClientSession, events_gateway: GatewayServer
) -> None:
    cid = await first_contact(http, sim.url)
    sub = await listening(http, events_gateway, cid)
    record = await patch_on_sim(http, sim.url, cid, "Newest")
    newest = datetime.fromisoformat(str(record["updated_at"]))
    older = newest - timedelta(seconds=30)
    # The newer event arrives first, the older one after it: only the newer is told.
    late = await deliver(http, events_gateway.url, contact_event(cid, updated_at=newest))
    early = await deliver(http, events_gateway.url, contact_event(cid, updated_at=older))
    assert late[0] == early[0] == 202
    got = (await sub.event())["events"]
    assert got["id"] == late[1]["id"] and got["node"]["firstName"] == "Newest"
    following = await deliver(
        http, events_gateway.url, contact_event(cid, updated_at=newest + timedelta(seconds=1))
    )
    assert (await sub.event())["events"]["id"] == following[1]["id"]  # `early` was skipped
    await sub.close()


async def test_limits_per_connection(sim: SimServer, http: aiohttp.ClientSession) -> None:
    settings = Settings(
        upstream_url=sim.url, webhook_secret=SECRET, max_subscriptions=2, max_queued_events=2
    )
    async with GatewayServer(settings) as gw:
        cid = await first_contact(http, sim.url)
        sub = await listening(http, gw, cid)
        await sub.subscribe()
        third = await sub.subscribe()
        msg = await sub.message()
        while msg.get("id") != third:  # the second subscription may hear nothing yet
            msg = await sub.message()
        errors = msg["payload"]["errors"] if msg["type"] == "next" else msg["payload"]
        assert errors[0]["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS", msg
        await sub.close()


async def test_a_slow_subscriber_is_ended_with_where_to_resume(
    sim: SimServer, http: aiohttp.ClientSession
) -> None:
    settings = Settings(upstream_url=sim.url, webhook_secret=SECRET, max_queued_events=2)
    async with GatewayServer(settings) as gw:
        cid = await first_contact(http, sim.url)
        sub = await listening(http, gw, cid)
        # The next node read is held 3 s by the sim: meanwhile 5 events pile up.
        async with http.post(
            f"{sim.url}/__sim/faults",
            json={"mode": "timeout", "seconds": 3, "method": "GET", "count": 1},
        ) as resp:
            assert resp.status == 200
        ids = await publish(http, gw, cid, 5)
        first = await sub.message()
        assert first["type"] == "next" and first["payload"]["data"]["events"]["id"] == ids[0]
        error = await sub.error()
        assert error["extensions"]["code"] == "SLOW_CONSUMER", error
        resume = error["extensions"]["resumeAfter"]
        assert resume == ids[0]
        await sub.subscribe(variables={"after": resume})
        assert [(await sub.event())["events"]["id"] for _ in ids[1:]] == ids[1:]
        await sub.close()


@pytest.mark.max_age(1.0)
async def test_events_older_than_the_retention_age_are_gone(
    sim: SimServer, http: aiohttp.ClientSession, gateway_with: tuple[GatewayServer, str]
) -> None:
    gw, _ = gateway_with
    cid = await first_contact(http, sim.url)
    first, _second = await publish(http, gw, cid, 2)
    await asyncio.sleep(1.2)  # both now older than the 1 s retention
    [recent] = await publish(http, gw, cid, 1)  # publishing trims by age
    sub = await Subscriber.connect(http, gw.url, {"X-API-Key": FULL_KEY})
    await sub.subscribe(variables={"after": first})
    assert (await sub.error())["extensions"]["code"] == "EVENTS_GONE"
    await sub.subscribe(variables={"after": recent})  # nothing missed: waits for live events
    [live] = await publish(http, gw, cid, 1)
    assert (await sub.event())["events"]["id"] == live
    await sub.close()


async def test_an_event_the_upstream_cannot_be_asked_about_ends_with_where_to_resume(
    sim: SimServer, http: aiohttp.ClientSession, events_gateway: GatewayServer
) -> None:
    cid = await first_contact(http, sim.url)
    sub = await listening(http, events_gateway, cid)
    [before] = await publish(http, events_gateway, cid, 1)
    assert (await sub.event())["events"]["id"] == before
    # Every read of the next event's contact fails (503, its retries too).
    async with http.post(
        f"{sim.url}/__sim/faults", json={"mode": "error503", "method": "GET", "count": 3}
    ) as resp:
        assert resp.status == 200
    [failed] = await publish(http, events_gateway, cid, 1)
    error = await sub.error()
    assert error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE", error
    assert error["extensions"]["resumeAfter"] == before
    # Resuming there gives the event that could not be checked, now that it can.
    await sub.subscribe(variables={"after": before})
    assert (await sub.event())["events"]["id"] == failed
    await sub.close()
