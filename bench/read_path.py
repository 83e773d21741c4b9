"""Read-path benchmark: upstream requests per query, latency, and the ideal critical path.

Starts `restloom sim --latency-ms 20` and `restloom serve` as separate processes
(so neither steals the other's event loop), runs each query a fixed number of
times one after another, and prints what it measured. A second gateway with a
warm cache answers the same queries without calling the upstream: its p50 is
restloom's own cost per query (parsing, execution, serialisation).

    .venv/bin/python bench/read_path.py [--runs 50] [--latency-ms 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from processes import free_port, process, wait_for

KEY = "moss_k_demo_full"

QUERIES = {
    # name: (query, levels of upstream calls on the critical path)
    "nested organizations/members/users": (
        "{ organizations(first: 25) { nodes { members(first: 10) { edges { role node { email } } } } } }",
        3,
    ),
    "contacts(first: 100)": (
        "{ contacts(first: 100) { totalCount edges { cursor node { id firstName lastName email } } } }",
        1,
    ),
}


@dataclass
class Result:
    name: str
    upstream_per_query: float
    p50_ms: float
    p95_ms: float
    ideal_ms: float
    own_p50_ms: float = 0.0  # served from a warm cache: no upstream time at all


async def measure(
    session: aiohttp.ClientSession,
    gateway: str,
    sim: str,
    name: str,
    query: str,
    levels: int,
    runs: int,
    latency: float,
) -> Result:
    async def run_once() -> None:
        async with session.post(
            gateway + "/graphql", json={"query": query}, headers={"X-API-Key": KEY}
        ) as resp:
            body: dict[str, Any] = await resp.json()
            assert "errors" not in body, body["errors"]

    await run_once()  # warm up connections and the parser/validation caches
    await session.post(sim + "/__sim/stats/reset")
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        await run_once()
        timings.append((time.perf_counter() - started) * 1000)
    async with session.get(sim + "/__sim/stats") as resp:
        upstream = (await resp.json())["requests"]
    timings.sort()
    return Result(
        name=name,
        upstream_per_query=upstream / runs,
        p50_ms=statistics.median(timings),
        p95_ms=timings[int(0.95 * (len(timings) - 1))],
        ideal_ms=levels * latency,
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args()
    sim_port, gateway_port = free_port(), free_port()
    sim = f"http://127.0.0.1:{sim_port}"
    gateway = f"http://127.0.0.1:{gateway_port}"
    cached_port = free_port()
    cached = f"http://127.0.0.1:{cached_port}"
    serve = ("serve", "--upstream", sim, "--api-key", KEY, "--port")
    with (
        process("sim", "--port", str(sim_port), "--latency-ms", str(args.latency_ms)),
        process(*serve, str(gateway_port)),
        process(*serve, str(cached_port), env={"RESTLOOM_CACHE_TTL": "3600"}),
    ):
        async with aiohttp.ClientSession() as session:
            await wait_for(session, sim + "/__sim/stats")
            await wait_for(session, gateway + "/healthz")
            await wait_for(session, cached + "/healthz")
            results = []
            for name, (query, levels) in QUERIES.items():
                result = await measure(
                    session, gateway, sim, name, query, levels, args.runs, args.latency_ms
                )
                own = await measure(
                    session, cached, sim, name, query, levels, args.runs, args.latency_ms
                )
                assert own.upstream_per_query == 0, "the warm cache must answer everything"
                result.own_p50_ms = own.p50_ms
                results.append(result)
    print(f"upstream latency {args.latency_ms:g} ms, {args.runs} runs per query, sequential")
    print(
        f"{'query':<38}{'upstream/query':>15}{'p50 ms':>9}{'p95 ms':>9}{'ideal ms':>10}"
        f"{'p50/ideal':>11}{'own p50 ms':>12}"
    )
    for r in results:
        print(
            f"{r.name:<38}{r.upstream_per_query:>15.1f}{r.p50_ms:>9.1f}{r.p95_ms:>9.1f}"
            f"{r.ideal_ms:>10.0f}{r.p50_ms / r.ideal_ms:>11.2f}{r.own_p50_ms:>12.1f}"
        )


if __name__ == "__main__":
    asyncio.run(main())
