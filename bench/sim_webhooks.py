"""The sim's webhook deliveries: what they cost a write, and how many per second it sends.

Runs a sim (mossdesk or moco style) and a receiver answering 204 on loopback in this
process, then, for 0, 1 and 10 hooks subscribed to ``contact.created``, makes ``--writes``
sequential ``POST /contacts`` and prints the p50/p99 write latency, then waits for every
delivery (``POST /__sim/deliveries/flush``) and prints deliveries per second (from the
first write to the last delivery) and the deliveries the receiver counted.

Client, sim, deliveries and receiver share one process and one event loop, so the
write latency with hooks includes the loop's time spent sending earlier deliveries
(the write never waits for a delivery; it waits for the loop).

    .venv/bin/python bench/sim_webhooks.py [--writes 500] [--style mossdesk]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import aiohttp
import orjson
from aiohttp import web

from restloom.sim import SimConfig, SimServer

KEYS = {"mossdesk": {"X-API-Key": "moss_k_demo_full"}}
MOCO_AUTH = {"Authorization": "Token token=moss_k_demo_full"}
CONTACT = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}


async def start_receiver(counter: list[int]) -> tuple[web.AppRunner, str]:
    async def handle(request: web.Request) -> web.Response:
        await request.read()
        counter[0] += 1
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/hook"


async def run(style: str, hooks: int, writes: int) -> None:
    counter = [0]
    runner, url = await start_receiver(counter)
    headers = {**(MOCO_AUTH if style == "moco" else KEYS["mossdesk"])}
    headers["Content-Type"] = "application/json"
    config = SimConfig(
        style=style, contacts=100, resources=10, organizations=5, webhooks=0, rate_limit=0
    )
    async with SimServer(config) as sim, aiohttp.ClientSession() as http:
        for _ in range(hooks):
            body = orjson.dumps({"url": url, "events": ["contact.created"]})
            async with http.post(sim.api_url + "/webhooks", data=body, headers=headers) as r:
                assert r.status == 201, await r.text()
        latencies: list[float] = []
        started = time.perf_counter()
        for _ in range(writes):
            t0 = time.perf_counter()
            async with http.post(
                sim.api_url + "/contacts", data=orjson.dumps(CONTACT), headers=headers
            ) as r:
                assert r.status == 201
                await r.read()
            latencies.append(time.perf_counter() - t0)
        async with http.post(sim.url + "/__sim/deliveries/flush?within=120") as r:
            left = (await r.json())["pending"]
        elapsed = time.perf_counter() - started
    await runner.cleanup()
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    rate = counter[0] / elapsed if hooks else 0.0
    print(
        f"{style:9} hooks={hooks:2} writes={writes} write p50={p50:.2f} ms p99={p99:.2f} ms "
        f"deliveries={counter[0]} (expected {hooks * writes}, pending {left}) "
        f"deliveries/s={rate:.0f}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writes", type=int, default=500)
    parser.add_argument("--style", choices=("mossdesk", "moco"), default="mossdesk")
    args = parser.parse_args()
    for hooks in (0, 1, 10):
        await run(args.style, hooks, args.writes)


if __name__ == "__main__":
    asyncio.run(main())
