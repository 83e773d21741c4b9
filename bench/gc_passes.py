"""The cycle collector's passes in a serving process, per cold request, at two thresholds.

Starts `restloom sim --latency-ms 20 --rate-limit 0` and one cold `restloom serve` per
threshold (as bench/cold_timeline.py's server), each through a small bootstrap that
counts the collector's passes with `gc.callbacks` and, for a threshold other than
`default`, sets the young threshold after start-up (where `restloom serve` sets its own,
serving.YOUNG_COLLECTION_THRESHOLD). Requests go one at a time, 20 ms apart, to each
server in turn (interleaved, so both see the same stretch of a drifting machine).
Printed per threshold: passes per request by generation, the collector's ms per request
and its longest pass, and the client's p50 and p99.

    .venv/bin/python bench/gc_passes.py [--requests 150] [--thresholds 700,default]
        [--query nested|contacts]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import aiohttp

from processes import COLD_SERVE_ENV, bootstrapped, free_port, process, wait_for

KEY = "moss_k_demo_full"
QUERIES = {
    "nested": "{ organizations(first: 25) { edges { node { id name members(first: 10) "
    "{ edges { role node { id email } } } } } } }",
    "contacts": "{ contacts(first: 100) { edges { node { id firstName lastName email } } } }",
}

# Runs in the server process: counts passes, resets on SIGUSR2, writes them on SIGUSR1.
BOOTSTRAP = """
import gc, json, os, signal, sys, time
import restloom.serving as serving
from restloom.cli import main
passes, started = [], [0.0]
def watch(phase, info):
    if phase == "start":
        started[0] = time.perf_counter()
    else:
        passes.append((info["generation"], time.perf_counter() - started[0]))
gc.callbacks.append(watch)
signal.signal(signal.SIGUSR2, lambda *_: passes.clear())
def write(*_):
    with open(os.environ["GC_PASSES_OUT"], "w") as f:
        json.dump(passes, f)
signal.signal(signal.SIGUSR1, write)
start_app, threshold = serving.start_app, os.environ.get("GC_PASSES_THRESHOLD")
def started_app(settings):
    app = start_app(settings)
    if threshold:
        gc.set_threshold(int(threshold), *gc.get_threshold()[1:])
    return app
serving.start_app = started_app
sys.argv = ["restloom", *sys.argv[1:]]
main()
"""


def server(stack: ExitStack, sim: str, threshold: str, out: Path) -> tuple[str, int]:
    port = free_port()
    env = {
        **COLD_SERVE_ENV,
        "GC_PASSES_OUT": str(out),
        "GC_PASSES_THRESHOLD": "" if threshold == "default" else threshold,
    }
    args = ["serve", "--upstream", f"{sim}/api/v1", "--port", str(port)]
    proc = stack.enter_context(bootstrapped(BOOTSTRAP, *args, env=env))
    return f"http://127.0.0.1:{port}/graphql", proc.pid


async def one(session: aiohttp.ClientSession, url: str, query: str) -> float:
    started = time.monotonic()
    async with session.post(url, json={"query": query}, headers={"X-API-Key": KEY}) as resp:
        body = await resp.json()
    assert "errors" not in body, body
    return (time.monotonic() - started) * 1000


async def main(args: argparse.Namespace) -> None:
    thresholds = args.thresholds.split(",")
    query = QUERIES[args.query]
    sim_port = free_port()
    sim = f"http://127.0.0.1:{sim_port}"
    sim_args = ["sim", "--port", str(sim_port), "--rate-limit", "0"]
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        stack.enter_context(process(*sim_args, "--latency-ms", str(args.latency_ms)))
        outs = {t: Path(tmp) / f"passes-{t}.json" for t in thresholds}
        servers = {t: server(stack, sim, t, outs[t]) for t in thresholds}
        latencies: dict[str, list[float]] = {t: [] for t in thresholds}
        async with aiohttp.ClientSession() as session:
            await wait_for(session, f"{sim}/__sim/stats")
            for url, pid in servers.values():
                await wait_for(session, url.replace("/graphql", "/healthz"))
                for _ in range(5):  # warm-up: connections, plans, code paths
                    await one(session, url, query)
                os.kill(pid, signal.SIGUSR2)
            for _ in range(args.requests):
                for t, (url, _) in servers.items():
                    latencies[t].append(await one(session, url, query))
                    await asyncio.sleep(0.02)
            for _, pid in servers.values():
                os.kill(pid, signal.SIGUSR1)
            await asyncio.sleep(0.5)
        print(f"{args.query}, {args.requests} requests per server, one at a time, interleaved")
        for t in thresholds:
            passes = json.loads(outs[t].read_text())
            per_gen = [sum(1 for g, _ in passes if g == gen) / args.requests for gen in range(3)]
            total_ms = sum(s for _, s in passes) * 1000 / args.requests
            longest = max((s for _, s in passes), default=0.0) * 1000
            ms = sorted(latencies[t])
            p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
            print(
                f"  threshold {t:>7}: passes/request {per_gen[0]:.2f} / {per_gen[1]:.2f} / "
                f"{per_gen[2]:.2f} (young / middle / old), collector {total_ms:.2f} ms/request, "
                f"longest {longest:.2f} ms; client p50 {statistics.median(ms):.1f} ms, "
                f"p99 {p99:.1f} ms"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=150)
    parser.add_argument("--thresholds", default="700,default")
    parser.add_argument("--query", choices=list(QUERIES), default="nested")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    asyncio.run(main(parser.parse_args()))
