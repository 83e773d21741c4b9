"""Cache stampede benchmark: upstream calls per expiry when many clients miss one key at once.

Starts `restloom sim --latency-ms 200` and gateways as separate processes (one
gateway with the memory cache; two gateways sharing one Redis when REDIS_URL
answers), with `cache_ttl` 1 s. Twenty clients loop on the same query for 5 s;
the sim counts the upstream calls. The entry expires about once per TTL plus one
upstream latency (it is stored when the call returns), so one call per expiry
and instance is the most a gateway should make.

    .venv/bin/python bench/cache_stampede.py [--clients 20] [--seconds 5] [--ttl 1] [--latency-ms 200]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass

import aiohttp

from processes import REDIS_URL, drop_namespace, free_port, process, redis_reachable, wait_for

KEY = "moss_k_demo_full"
QUERY = "{ contacts(first: 10) { totalCount nodes { id firstName } } }"


@dataclass
class Result:
    config: str
    instances: int
    seconds: float
    replies: int
    calls: int
    min_gap: float | None  # shortest time between two upstream calls, in seconds


async def loop_clients(
    session: aiohttp.ClientSession, gateways: list[str], clients: int, seconds: float
) -> tuple[int, float]:
    replies = 0
    started = time.perf_counter()
    stop = started + seconds

    async def client(index: int) -> None:
        nonlocal replies
        url = gateways[index % len(gateways)] + "/graphql"
        while time.perf_counter() < stop:
            async with session.post(url, json={"query": QUERY}, headers={"X-API-Key": KEY}) as r:
                body = await r.json()
            assert "errors" not in body, body["errors"]
            replies += 1

    await asyncio.gather(*(client(i) for i in range(clients)))
    return replies, time.perf_counter() - started


async def measure(
    args: argparse.Namespace, sim: str, config: str, instances: int, env: dict[str, str]
) -> Result:
    ports = [free_port() for _ in range(instances)]
    gateways = [f"http://127.0.0.1:{port}" for port in ports]
    env = {**env, "RESTLOOM_CACHE_TTL": str(args.ttl), "RESTLOOM_CURSOR_SECRET": "bench"}
    with ExitStack() as running:
        for port in ports:
            running.enter_context(process("serve", "--upstream", sim, "--port", str(port), env=env))
        connector = aiohttp.TCPConnector(limit=args.clients)
        async with aiohttp.ClientSession(connector=connector) as session:
            for gateway in gateways:
                await wait_for(session, gateway + "/healthz")
            await session.post(sim + "/__sim/stats/reset")
            replies, seconds = await loop_clients(session, gateways, args.clients, args.seconds)
            async with session.get(sim + "/__sim/stats", params={"times": "1"}) as resp:
                stats = await resp.json()
    arrivals = sorted(t for times in stats["times"].values() for t in times)
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    calls = int(stats["by_route"].get("GET /contacts", 0))
    return Result(config, instances, seconds, replies, calls, min(gaps) if gaps else None)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--ttl", type=float, default=1.0)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    args = parser.parse_args()
    namespace = f"restloom-bench-{uuid.uuid4().hex[:8]}"
    use_redis = await redis_reachable()
    sim_port = free_port()
    sim = f"http://127.0.0.1:{sim_port}"
    results: list[Result] = []
    try:
        with process("sim", "--port", str(sim_port), "--latency-ms", str(args.latency_ms)):
            async with aiohttp.ClientSession() as session:
                await wait_for(session, sim + "/__sim/stats")
            results.append(await measure(args, sim, "memory", 1, {}))
            if use_redis:
                env = {"RESTLOOM_REDIS_URL": REDIS_URL, "RESTLOOM_REDIS_NAMESPACE": namespace}
                results.append(await measure(args, sim, "redis", 2, env))
    finally:
        if use_redis:
            await drop_namespace(namespace)
    # An entry lives `ttl` from when its call returns: one expiry per ttl + latency at most.
    cycle = args.ttl + args.latency_ms / 1000
    print(
        f"{args.clients} clients looping on one query for {args.seconds:g} s; cache_ttl "
        f"{args.ttl:g} s, upstream latency {args.latency_ms:g} ms (one expiry per ~{cycle:g} s)"
    )
    if not use_redis:
        print(f"(Redis at {REDIS_URL} not reachable: the two-instance row is skipped)")
    header = f"{'cache':<8}{'instances':>10}{'replies':>9}{'upstream calls':>16}"
    print(header + f"{'expiries':>10}{'calls/expiry':>14}{'min gap s':>11}")
    for r in results:
        expiries = r.seconds / cycle
        gap = f"{r.min_gap:>11.2f}" if r.min_gap is not None else f"{'-':>11}"
        print(
            f"{r.config:<8}{r.instances:>10}{r.replies:>9}{r.calls:>16}"
            f"{expiries:>10.1f}{r.calls / expiries:>14.2f}{gap}"
        )


if __name__ == "__main__":
    asyncio.run(main())
