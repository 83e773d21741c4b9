"""Read-path benchmark: upstream requests per query, latency, and the ideal critical path.

Starts `restloom sim --latency-ms 20` and `restloom serve` as separate processes
(so neither steals the other's event loop), runs each query a fixed number of
times one after another, and prints what it measured.

    .venv/bin/python bench/read_path.py [--runs 50] [--latency-ms 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def process(*args: str):
    proc = subprocess.Popen(
        [sys.executable, "-m", "restloom.cli", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "RESTLOOM_LOG_LEVEL": "warning"},
    )
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def wait_for(session: aiohttp.ClientSession, url: str) -> None:
    for _ in range(200):
        try:
            async with session.get(url) as resp:
                if resp.status < 500:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


@dataclass
class Result:
    name: str
    upstream_per_query: float
    p50_ms: float
    p95_ms: float
    ideal_ms: float


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
    with (
        process("sim", "--port", str(sim_port), "--latency-ms", str(args.latency_ms)),
        process("serve", "--upstream", sim, "--port", str(gateway_port), "--api-key", KEY),
    ):
        async with aiohttp.ClientSession() as session:
            await wait_for(session, sim + "/__sim/stats")
            await wait_for(session, gateway + "/healthz")
            results = [
                await measure(
                    session, gateway, sim, name, query, levels, args.runs, args.latency_ms
                )
                for name, (query, levels) in QUERIES.items()
            ]
    print(f"upstream latency {args.latency_ms:g} ms, {args.runs} runs per query, sequential")
    print(
        f"{'query':<38}{'upstream/query':>15}{'p50 ms':>9}{'p95 ms':>9}{'ideal ms':>10}{'p50/ideal':>11}"
    )
    for r in results:
        print(
            f"{r.name:<38}{r.upstream_per_query:>15.1f}{r.p50_ms:>9.1f}{r.p95_ms:>9.1f}"
            f"{r.ideal_ms:>10.0f}{r.p50_ms / r.ideal_ms:>11.2f}"
        )


if __name__ == "__main__":
    asyncio.run(main())
