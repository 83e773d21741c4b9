"""Cached read benchmark: `contacts(first: 100)` without cache, and cold and warm with one.

Starts `restloom sim --latency-ms 20` and `restloom serve` as separate processes,
once per configuration (no cache; memory cache; Redis cache when REDIS_URL
answers), and prints per phase the upstream requests per query, sequential
latency, and queries per second with concurrent clients.

- cold: the first read after a write to contacts (the write is not timed), so
  the cache misses and is filled again;
- warm: the same query again and again, served from the cache (without a
  cache, cold and warm both go to the upstream: the baseline).

    .venv/bin/python bench/cached_read.py [--runs 200] [--cold-runs 30] [--concurrency 16] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from dataclasses import dataclass
from typing import Any

import aiohttp

from processes import REDIS_URL, drop_namespace, free_port, process, redis_reachable, wait_for

KEY = "moss_k_demo_full"
QUERY = (
    "{ contacts(first: 100) { totalCount edges { cursor node { id firstName lastName email } } } }"
)
RENAME = "mutation($i: UpdateContactInput!) { updateContact(input: $i) { contact { id } } }"


@dataclass
class Row:
    config: str
    phase: str
    upstream_per_query: float
    p50_ms: float
    p95_ms: float
    qps: float | None


class Bench:
    def __init__(self, session: aiohttp.ClientSession, gateway: str, sim: str) -> None:
        self.session = session
        self.gateway = gateway
        self.sim = sim

    async def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        async with self.session.post(
            self.gateway + "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"X-API-Key": KEY},
        ) as resp:
            body: dict[str, Any] = await resp.json()
        assert "errors" not in body, body["errors"]
        return body

    async def timed(self) -> float:
        started = time.perf_counter()
        await self.post(QUERY)
        return (time.perf_counter() - started) * 1000

    async def contact_gets(self) -> int:
        async with self.session.get(self.sim + "/__sim/stats") as resp:
            return int((await resp.json())["by_route"].get("GET /contacts", 0))

    async def reset(self) -> None:
        await self.session.post(self.sim + "/__sim/stats/reset")

    async def cold(self, runs: int) -> tuple[list[float], float]:
        first = await self.post("{ contacts(first: 1) { nodes { id } } }")
        contact_id = first["data"]["contacts"]["nodes"][0]["id"]
        await self.reset()
        timings = []
        for i in range(runs):
            await self.post(RENAME, {"i": {"id": contact_id, "firstName": f"Bench{i}"}})
            timings.append(await self.timed())
        return timings, await self.contact_gets() / runs

    async def warm(self, runs: int) -> tuple[list[float], float]:
        await self.post(QUERY)  # fill the cache (and warm connections, parser caches)
        await self.reset()
        timings = [await self.timed() for _ in range(runs)]
        return timings, await self.contact_gets() / runs

    async def throughput(self, concurrency: int, seconds: float) -> float:
        done = 0
        stop = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < stop:
                await self.post(QUERY)
                done += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return done / (time.perf_counter() - started)


def row(config: str, phase: str, timings: list[float], per_query: float, qps: float | None) -> Row:
    timings = sorted(timings)
    return Row(
        config,
        phase,
        per_query,
        statistics.median(timings),
        timings[int(0.95 * (len(timings) - 1))],
        qps,
    )


async def measure(
    args: argparse.Namespace, sim: str, config: str, env: dict[str, str]
) -> list[Row]:
    port = free_port()
    gateway = f"http://127.0.0.1:{port}"
    with process("serve", "--upstream", sim, "--port", str(port), "--api-key", KEY, env=env):
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=args.concurrency)
        ) as session:
            await wait_for(session, gateway + "/healthz")
            bench = Bench(session, gateway, sim)
            timings, per_query = await bench.cold(args.cold_runs)
            rows = [row(config, "cold", timings, per_query, None)]
            timings, per_query = await bench.warm(args.runs)
            qps = await bench.throughput(args.concurrency, args.seconds)
            rows.append(row(config, "warm", timings, per_query, qps))
            return rows


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--cold-runs", type=int, default=30)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args()
    configs: list[tuple[str, dict[str, str]]] = [
        ("no cache", {}),
        ("memory", {"RESTLOOM_CACHE_TTL": "60"}),
    ]
    namespace = f"restloom-bench-{uuid.uuid4().hex[:8]}"
    use_redis = await redis_reachable()
    if use_redis:
        configs.append(
            (
                "redis",
                {
                    "RESTLOOM_CACHE_TTL": "60",
                    "RESTLOOM_REDIS_URL": REDIS_URL,
                    "RESTLOOM_REDIS_NAMESPACE": namespace,
                    "RESTLOOM_CURSOR_SECRET": "bench-cursor-secret",
                },
            )
        )
    sim_port = free_port()
    sim = f"http://127.0.0.1:{sim_port}"
    rows: list[Row] = []
    try:
        with process("sim", "--port", str(sim_port), "--latency-ms", str(args.latency_ms)):
            async with aiohttp.ClientSession() as session:
                await wait_for(session, sim + "/__sim/stats")
            for config, env in configs:
                rows += await measure(args, sim, config, env)
    finally:
        if use_redis:
            await drop_namespace(namespace)
    print(
        f"contacts(first: 100), upstream latency {args.latency_ms:g} ms; latency: "
        f"{args.runs} sequential runs ({args.cold_runs} when cold); "
        f"qps: {args.concurrency} concurrent clients for {args.seconds:g} s"
    )
    if not use_redis:
        print(f"(Redis at {REDIS_URL} not reachable: redis rows skipped)")
    print(f"{'cache':<10}{'phase':<10}{'upstream/query':>15}{'p50 ms':>9}{'p95 ms':>9}{'qps':>9}")
    for r in rows:
        qps = f"{r.qps:>9.0f}" if r.qps is not None else f"{'-':>9}"
        print(
            f"{r.config:<10}{r.phase:<10}{r.upstream_per_query:>15.2f}{r.p50_ms:>9.2f}"
            f"{r.p95_ms:>9.2f}{qps}"
        )


if __name__ == "__main__":
    asyncio.run(main())
