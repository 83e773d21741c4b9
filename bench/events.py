"""Webhook -> subscriber: events per second through one instance, delivery latency, and
the gateway's memory with 1,000 open subscriptions.

    .venv/bin/python bench/events.py [--events 2000] [--subscriptions 1000]

The sim and the gateway run as their own processes (`restloom sim`, `restloom serve`);
this process signs deliveries, POSTs them to /webhooks/mossdesk and reads the events
from graphql-transport-ws connections. Latency runs from just before the POST to the
subscriber reading the event; each event also reads its contact fresh from the sim
with the subscriber's credential, so that read is part of every figure here.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import itertools
import statistics
import sys
import time
from pathlib import Path

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from processes import free_port, process, wait_for

SECRET = "whsec_" + base64.b64encode(b"restloom-bench-secret-012").decode()
KEY = "moss_k_demo_full"
QUERY = "subscription { events { id deliveryId node { ... on Contact { firstName } } } }"


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def signed(delivery_id: str, body: bytes) -> dict[str, str]:
    timestamp = str(int(time.time()))
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    mac = hmac.new(key, f"{delivery_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return {
        "content-type": "application/json",
        "webhook-id": delivery_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": "v1," + base64.b64encode(mac.digest()).decode(),
    }


def body_for(contact_id: str) -> bytes:
    return orjson.dumps(
        {"type": "contact.updated", "timestamp": "2026-01-01T00:00:00Z", "data": {"id": contact_id}}
    )


async def subscribe(session: aiohttp.ClientSession, url: str) -> aiohttp.ClientWebSocketResponse:
    ws = await session.ws_connect(url, protocols=["graphql-transport-ws"])
    await ws.send_json({"type": "connection_init", "payload": {"X-API-Key": KEY}})
    assert (await ws.receive_json())["type"] == "connection_ack"
    await ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": QUERY}})
    return ws


async def post(session: aiohttp.ClientSession, url: str, contact_id: str, delivery_id: str) -> None:
    body = body_for(contact_id)
    async with session.post(url, data=body, headers=signed(delivery_id, body)) as resp:
        assert resp.status == 202, await resp.text()


async def next_event(ws: aiohttp.ClientSession | aiohttp.ClientWebSocketResponse) -> dict:
    while True:
        msg = await ws.receive_json()  # type: ignore[union-attr]
        if msg["type"] == "next":
            assert "errors" not in msg["payload"], msg
            return msg["payload"]["data"]["events"]


async def until_listening(session, hook_url, ws, contact_id) -> None:
    """Probe deliveries until this subscription hears one, then read up to the last."""
    sent = []
    for i in itertools.count():
        sent.append(f"probe-{time.monotonic_ns()}-{i}")
        await post(session, hook_url, contact_id, sent[-1])
        try:
            event = await asyncio.wait_for(next_event(ws), 0.3)
        except TimeoutError:
            continue
        while event["deliveryId"] != sent[-1]:
            event = await next_event(ws)
        return


async def throughput(
    session, gateway: str, contact_ids: list[str], events: int, concurrency: int
) -> None:
    hook = f"{gateway}/webhooks/mossdesk"
    ws = await subscribe(session, gateway.replace("http", "ws") + "/graphql")
    await until_listening(session, hook, ws, contact_ids[0])
    sent_at: dict[str, float] = {}
    latencies: list[float] = []

    async def reader() -> None:
        while len(latencies) < events:
            event = await next_event(ws)
            started = sent_at.pop(event["deliveryId"], None)
            if started is not None:
                latencies.append(time.perf_counter() - started)

    async def sender(lane: int) -> None:
        for n in range(lane, events, concurrency):
            delivery = f"bench-{n}"
            sent_at[delivery] = time.perf_counter()
            await post(session, hook, contact_ids[n % len(contact_ids)], delivery)

    started = time.perf_counter()
    reading = asyncio.create_task(reader())
    await asyncio.gather(*(sender(lane) for lane in range(concurrency)))
    await asyncio.wait_for(reading, 120)
    elapsed = time.perf_counter() - started
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(f"webhook -> 1 subscriber: {events} events, {concurrency} concurrent senders")
    print(
        f"  {events / elapsed:,.0f} events/s   latency p50 {p50:.1f} ms   p99 {p99:.1f} ms "
        "(saturated: includes queueing)"
    )
    # One event at a time: the latency of the path itself.
    alone: list[float] = []
    for n in range(min(events, 300)):
        started = time.perf_counter()
        await post(session, hook, contact_ids[n % len(contact_ids)], f"alone-{n}")
        await next_event(ws)
        alone.append(time.perf_counter() - started)
    alone.sort()
    print(
        f"  one at a time ({len(alone)} events): latency p50 "
        f"{statistics.median(alone) * 1000:.2f} ms   p99 {alone[int(len(alone) * 0.99) - 1] * 1000:.2f} ms"
    )
    await ws.close()


async def memory(
    session, gateway: str, pid: int, contact_id: str, subscriptions: int, stats_url: str
) -> None:
    ws_url = gateway.replace("http", "ws") + "/graphql"
    hook = f"{gateway}/webhooks/mossdesk"
    before = rss_mb(pid)
    sockets = []
    for start in range(0, subscriptions, 100):
        batch = min(100, subscriptions - start)
        sockets += await asyncio.gather(*(subscribe(session, ws_url) for _ in range(batch)))
    # Every subscription listening (one probe heard by all), before measuring.
    await until_listening(session, hook, sockets[0], contact_id)
    await asyncio.gather(*(next_event(ws) for ws in sockets[1:]))
    await asyncio.sleep(1.0)
    after = rss_mb(pid)
    print(f"{subscriptions} open subscriptions (one connection each):")
    print(
        f"  gateway RSS {before:.1f} MB -> {after:.1f} MB "
        f"({(after - before) * 1024 / subscriptions:.1f} KB per subscription)"
    )
    async with session.post(stats_url + "/reset"):
        pass
    started = time.perf_counter()
    await post(session, hook, contact_id, "fanout")
    await asyncio.gather(*(next_event(ws) for ws in sockets))
    elapsed = time.perf_counter() - started
    async with session.get(stats_url) as resp:
        reads = (await resp.json())["requests"]
    print(
        f"  one event to all {subscriptions}: {elapsed * 1000:.0f} ms, {reads} upstream reads "
        "(one credential; cache_ttl=60 shares the read)"
    )
    await asyncio.gather(*(ws.close() for ws in sockets))


async def main(events: int, subscriptions: int, concurrency: int) -> None:
    sim_port, gw_port = free_port(), free_port()
    sim_url = f"http://127.0.0.1:{sim_port}"
    gateway = f"http://127.0.0.1:{gw_port}"
    env = {
        "RESTLOOM_UPSTREAM_URL": sim_url + "/api/v1",
        "RESTLOOM_PORT": str(gw_port),
        "RESTLOOM_WEBHOOK_SECRET": SECRET,
        "RESTLOOM_CACHE_TTL": "60",
        "RESTLOOM_MAX_QUEUED_EVENTS": str(events + 100),
        "RESTLOOM_RESPONSE_EXTENSIONS": "false",
    }
    with (
        process("sim", "--port", str(sim_port), "--rate-limit", "0"),
        process("serve", env=env) as gateway_process,
    ):
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            await wait_for(session, sim_url + "/__sim/stats")
            await wait_for(session, gateway + "/healthz")
            async with session.get(
                sim_url + "/api/v1/contacts", headers={"X-API-Key": KEY}, params={"per_page": "100"}
            ) as resp:
                contact_ids = [str(c["id"]) for c in (await resp.json())["data"]]
            await throughput(session, gateway, contact_ids, events, concurrency)
            await memory(
                session,
                gateway,
                gateway_process.pid,
                contact_ids[0],
                subscriptions,
                sim_url + "/__sim/stats",
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.subscriptions, args.concurrency))
