"""Organizational units: what keeping each call in its OU costs, and how many switches it takes.

A sim (template style, 3 OUs, `--latency-ms`) and gateways on loopback in this process.
Clients loop for a few seconds on a contacts query; each mix says which OU each
request asks for. Printed per mix: requests answered, upstream switches (the sim's
count of `POST /org-units/active`), switches per 100 requests, and the median and p95
request time. With REDIS_URL answering, the two-OU mix also runs over two instances
sharing Redis.

    .venv/bin/python bench/org_units.py [--clients 20] [--seconds 3] [--latency-ms 10]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import aiohttp
import redis.asyncio as redis
import uvicorn

from restloom.app import create_app
from restloom.config import Settings
from restloom.sim.config import SimConfig
from restloom.sim.server import SimServer

KEY = "moss_k_demo_full"
QUERY = "{ contacts(first: 10) { totalCount nodes { databaseId } } }"
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
MIXES: dict[str, tuple[str | None, ...]] = {
    "no header (home OU)": (None,),
    "one OU pinned": ("ou_2",),
    "two OUs alternating": ("ou_1", "ou_2"),
}


@asynccontextmanager
async def gateway(settings: Settings) -> AsyncIterator[str]:
    server = uvicorn.Server(uvicorn.Config(create_app(settings), port=0, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers a flag, not an event)
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def run_mix(
    http: aiohttp.ClientSession,
    urls: list[str],
    units: tuple[str | None, ...],
    args: argparse.Namespace,
) -> tuple[int, list[float]]:
    times: list[float] = []
    stop = time.monotonic() + args.seconds
    counter = itertools.count()

    async def client(n: int) -> None:
        url = urls[n % len(urls)] + "/graphql"
        while time.monotonic() < stop:
            unit = units[next(counter) % len(units)]
            headers = {"X-API-Key": KEY, **({"X-Org-Unit": unit} if unit else {})}
            started = time.perf_counter()
            async with http.post(url, json={"query": QUERY}, headers=headers) as resp:
                body = await resp.json()
            assert "errors" not in body, body
            times.append(time.perf_counter() - started)

    await asyncio.gather(*(client(n) for n in range(args.clients)))
    return len(times), times


async def switches(http: aiohttp.ClientSession, sim: SimServer) -> int:
    async with http.get(sim.url + "/__sim/stats") as resp:
        return int((await resp.json())["by_route"].get("POST /org-units/active", 0))


async def redis_answers() -> bool:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        return bool(await client.ping())
    except Exception:
        return False
    finally:
        await client.aclose()


async def main(args: argparse.Namespace) -> None:
    config = SimConfig(style="template", org_units=3, rate_limit=0, latency_ms=args.latency_ms)
    print(f"{args.clients} clients, {args.seconds:g} s per mix, sim latency {args.latency_ms:g} ms")
    print(
        f"{'setup':34} {'mix':22} {'requests':>8} {'switches':>8} {'/100 req':>8} {'p50 ms':>7} {'p95 ms':>7}"
    )
    setups: list[tuple[str, int, dict[str, object]]] = [
        ("one instance, memory", 1, {"cursor_secret": "bench"})
    ]
    if await redis_answers():
        namespace = f"restloom-bench-{uuid.uuid4().hex[:8]}"
        extra = {"redis_url": REDIS_URL, "redis_namespace": namespace, "cursor_secret": "bench"}
        setups.append(("two instances, Redis", 2, extra))
    async with aiohttp.ClientSession() as http:
        for label, count, extra in setups:
            for mix, units in MIXES.items():
                async with SimServer(config) as sim, AsyncExitStack() as stack:
                    settings = Settings(
                        upstream_url=sim.url, profile="template", rate_limit="off", **extra
                    )
                    urls = [
                        await stack.enter_async_context(gateway(settings)) for _ in range(count)
                    ]
                    done, times = await run_mix(http, urls, units, args)
                    made = await switches(http, sim)
                times.sort()
                p50 = statistics.median(times) * 1000
                p95 = times[int(len(times) * 0.95) - 1] * 1000
                print(
                    f"{label:34} {mix:22} {done:8d} {made:8d} {100 * made / done:8.1f} "
                    f"{p50:7.1f} {p95:7.1f}"
                )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--latency-ms", type=float, default=10.0)
    asyncio.run(main(parser.parse_args()))
