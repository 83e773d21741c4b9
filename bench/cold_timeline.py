"""Where one cold request waits: each upstream call's arrival at the sim, per request.

Starts `restloom sim --latency-ms 20 --rate-limit 0` and a cold `restloom serve`
over it (no caching, rate budget off, as bench/side_by_side.py's cold server), then
sends each query `--runs` times one after another with its own `X-Request-Id`.
The sim logs every API request with its arrival time (`time.monotonic()`, the
same clock in every process on Linux), so each call can be placed relative to the
moment the request left the client. Printed per query: the median, over the runs,
of the client's latency, of each upstream "wave" (calls arriving within
`--gap-ms` of each other) as arrival offsets from the request's start, and the
CPU seconds restloom's process spent per request.

    .venv/bin/python bench/cold_timeline.py [--runs 30] [--latency-ms 20] [--peer]

`--peer` also runs the queries through bench/side_by_side.py's peer (Apollo Server over
the same sim, its HTTP cache off): requests go one at a time, so a call belongs to the
request in flight when it arrived.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from processes import COLD_SERVE_ENV, free_port, process, wait_for

KEY = "moss_k_demo_full"
QUERIES = {
    "contacts(first: 100)": "{ contacts(first: 100) { edges { node { id firstName lastName email } } } }",
    "nested": "{ organizations(first: 25) { edges { node { id name members(first: 10) "
    "{ edges { role node { id email } } } } } } }",
}


@dataclass
class Wave:
    first_ms: float  # arrival of the wave's first call, from the request's start
    last_ms: float  # arrival of its last call
    calls: int


@dataclass
class Timeline:
    total_ms: float
    waves: list[Wave] = field(default_factory=list)


def waves_of(arrivals: list[float], start: float, gap_ms: float) -> list[Wave]:
    """Calls grouped into waves: a call more than `gap_ms` after the previous starts one."""
    waves: list[Wave] = []
    for at in sorted(arrivals):
        ms = (at - start) * 1000
        if waves and ms - waves[-1].last_ms <= gap_ms:
            waves[-1].last_ms = ms
            waves[-1].calls += 1
        else:
            waves.append(Wave(ms, ms, 1))
    return waves


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def one_request(
    session: aiohttp.ClientSession, gateway: str, query: str
) -> tuple[str, float, float]:
    request_id = uuid.uuid4().hex
    started = time.monotonic()
    async with session.post(
        gateway, json={"query": query}, headers={"X-API-Key": KEY, "X-Request-Id": request_id}
    ) as resp:
        body = await resp.json()
    assert "errors" not in body, body
    return request_id, started, time.monotonic()


async def arrivals(session: aiohttp.ClientSession, sim: str) -> list[float]:
    async with session.get(f"{sim}/__sim/requests") as resp:
        entries: list[dict[str, Any]] = (await resp.json())["requests"]
    return [entry["at"] for entry in entries]


async def run_query(
    session: aiohttp.ClientSession, gateway: str, sim: str, pid: int, query: str, args: Any
) -> tuple[list[Timeline], float]:
    for _ in range(3):  # warm-up: connections, code paths
        await one_request(session, gateway, query)
    async with session.delete(f"{sim}/__sim/requests"):
        pass
    runs: list[tuple[str, float, float]] = []
    cpu_before = cpu_seconds(pid)
    for _ in range(args.runs):
        runs.append(await one_request(session, gateway, query))
        await asyncio.sleep(0.02)  # unloaded: nothing of one request overlaps the next
    cpu = (cpu_seconds(pid) - cpu_before) / args.runs
    seen = await arrivals(session, sim)
    # One request at a time: the calls arriving while it was out are its own.
    timelines = [
        Timeline(
            (end - start) * 1000,
            waves_of([at for at in seen if start <= at <= end], start, args.gap_ms),
        )
        for _, start, end in runs
    ]
    return timelines, cpu


def report(name: str, timelines: list[Timeline], cpu: float) -> None:
    print(f"\n{name}: {len(timelines)} runs, server CPU {cpu * 1000:.2f} ms/request")
    print(f"  latency p50 {statistics.median(t.total_ms for t in timelines):.1f} ms")
    depth = statistics.mode(len(t.waves) for t in timelines)
    shaped = [t for t in timelines if len(t.waves) == depth]
    for i in range(depth):
        first = statistics.median(t.waves[i].first_ms for t in shaped)
        last = statistics.median(t.waves[i].last_ms for t in shaped)
        calls = statistics.median(t.waves[i].calls for t in shaped)
        print(f"  wave {i + 1}: {calls:g} calls arriving {first:.1f} .. {last:.1f} ms")
    ends = [t.total_ms - t.waves[-1].last_ms for t in shaped]
    print(f"  last arrival to answer: {statistics.median(ends):.1f} ms")


async def main(args: argparse.Namespace) -> None:
    sim_port, gw_port = free_port(), free_port()
    sim = f"http://127.0.0.1:{sim_port}"
    gateway = f"http://127.0.0.1:{gw_port}/graphql"
    sim_args = ["sim", "--port", str(sim_port), "--rate-limit", "0"]
    serve_args = ["serve", "--upstream", f"{sim}/api/v1", "--port", str(gw_port)]
    with ExitStack() as stack:
        stack.enter_context(process(*sim_args, "--latency-ms", str(args.latency_ms)))
        servers = {
            "restloom": (gateway, stack.enter_context(process(*serve_args, env=COLD_SERVE_ENV)))
        }
        if args.peer:
            servers["peer"] = peer(stack, sim)
        async with aiohttp.ClientSession() as session:
            await wait_for(session, f"{sim}/__sim/stats")
            await wait_for(session, gateway.replace("/graphql", "/healthz"))
            for who, (url, proc) in servers.items():
                await wait_for(session, url)
                for name, query in QUERIES.items():
                    timelines, cpu = await run_query(session, url, sim, proc.pid, query, args)
                    report(f"{who}, {name}", timelines, cpu)


def peer(stack: ExitStack, sim: str) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    env = {"UPSTREAM": f"{sim}/api/v1", "API_KEY": KEY, "PORT": str(port), "CACHE_TTL": "0"}
    proc = subprocess.Popen(
        [shutil.which("node") or "node", str(Path(__file__).parent / "peer" / "server.mjs")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **env, "NODE_ENV": "production"},
    )
    stack.callback(proc.wait, 10)
    stack.callback(proc.terminate)
    return f"http://127.0.0.1:{port}/", proc


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--gap-ms", type=float, default=8.0, help="a longer gap starts a wave")
    parser.add_argument("--peer", action="store_true", help="also time the Apollo peer")
    asyncio.run(main(parser.parse_args()))
