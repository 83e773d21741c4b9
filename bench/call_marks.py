"""The nested query call by call, from marks in the server: when each upstream call
leaves and is answered, and when the `members` resolvers run.

Starts `restloom sim --latency-ms 20 --rate-limit 0` and a cold `restloom serve` (as
bench/cold_timeline.py's server) through a small bootstrap that wraps
`UpstreamClient._send_once` and `member_connection` to note `time.perf_counter()` at
each. Requests go one at a time, 20 ms apart; every request's marks are placed relative
to its organizations call leaving. Printed: the median over the requests of each step.

    .venv/bin/python bench/call_marks.py [--requests 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import aiohttp

from processes import COLD_SERVE_ENV, bootstrapped, free_port, process, wait_for

KEY = "moss_k_demo_full"
QUERY = (
    "{ organizations(first: 25) { edges { node { id name members(first: 10) "
    "{ edges { role node { id email } } } } } } }"
)

# Runs in the server process: marks (time, what, path) in memory, written on SIGUSR1.
BOOTSTRAP = """
import json, os, signal, sys, time
import restloom.graphql.organizations as organizations
import restloom.upstream.client as client
from restloom.cli import main
marks = []
send_once = client.UpstreamClient._send_once
async def marked_send_once(self, caller, call):
    marks.append((time.perf_counter(), "leaves", call.path))
    try:
        return await send_once(self, caller, call)
    finally:
        marks.append((time.perf_counter(), "answered", call.path))
client.UpstreamClient._send_once = marked_send_once
member_connection = organizations.member_connection
async def marked_member_connection(*args):
    marks.append((time.perf_counter(), "resolver", ""))
    return await member_connection(*args)
organizations.member_connection = marked_member_connection
def write(*_):
    with open(os.environ["CALL_MARKS_OUT"], "w") as f:
        json.dump(marks, f)
signal.signal(signal.SIGUSR1, write)
signal.signal(signal.SIGUSR2, lambda *_: marks.clear())
sys.argv = ["restloom", *sys.argv[1:]]
main()
"""

Mark = tuple[float, str, str]


def steps(marks: list[Mark]) -> dict[str, float]:
    """One request's milestones, in ms after its organizations call left."""
    start = marks[0][0]

    def at(what: str, kind: str, pick: str = "first") -> float:
        times = [t for t, w, path in marks if w == what and kind in path]
        return ((min(times) if pick == "first" else max(times)) - start) * 1000

    users = sorted(t for t, w, path in marks if w == "leaves" and path.endswith("/users"))
    found = {
        "organizations page in": at("answered", "/organizations"),
        "first member list leaves": at("leaves", "/members"),
        "last member list leaves": at("leaves", "/members", "last"),
        "first members resolver runs": at("resolver", ""),
        "last members resolver runs": at("resolver", "", "last"),
        "first member list in": at("answered", "/members"),
        "last member list in": at("answered", "/members", "last"),
    }
    for n, t in enumerate(users, 1):
        found[f"user lookup {n} leaves"] = (t - start) * 1000
    found["last user lookup in"] = at("answered", "/users", "last")
    if users:
        last_list = found["last member list in"]
        found["last lookup leaves, after last list"] = (users[-1] - start) * 1000 - last_list
    return found


def by_request(marks: list[Mark]) -> list[list[Mark]]:
    """Marks split where an organizations call leaves (requests go one at a time)."""
    requests: list[list[Mark]] = []
    for mark in marks:
        if mark[1] == "leaves" and mark[2].endswith("/organizations"):
            requests.append([])
        if requests:
            requests[-1].append(mark)
    return requests


def server(stack: ExitStack, sim: str, port: int, out: Path) -> subprocess.Popen[bytes]:
    env = {**COLD_SERVE_ENV, "CALL_MARKS_OUT": str(out)}
    serve = ["serve", "--upstream", f"{sim}/api/v1", "--port", str(port)]
    return stack.enter_context(bootstrapped(BOOTSTRAP, *serve, env=env))


async def main(args: argparse.Namespace) -> None:
    sim_port, port = free_port(), free_port()
    sim = f"http://127.0.0.1:{sim_port}"
    url = f"http://127.0.0.1:{port}/graphql"
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "marks.json"
        sim_args = ["sim", "--port", str(sim_port), "--rate-limit", "0"]
        stack.enter_context(process(*sim_args, "--latency-ms", str(args.latency_ms)))
        proc = server(stack, sim, port, out)
        async with aiohttp.ClientSession(headers={"X-API-Key": KEY}) as session:
            await wait_for(session, f"{sim}/__sim/stats")
            await wait_for(session, url.replace("/graphql", "/healthz"))
            for _ in range(5):  # warm-up: connections, plans, code paths
                async with session.post(url, json={"query": QUERY}) as resp:
                    await resp.read()
            os.kill(proc.pid, signal.SIGUSR2)
            latencies = []
            for _ in range(args.requests):
                started = time.perf_counter()
                async with session.post(url, json={"query": QUERY}) as resp:
                    assert "errors" not in await resp.json()
                latencies.append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(0.02)
            os.kill(proc.pid, signal.SIGUSR1)
            await asyncio.sleep(0.5)
        requests = [steps(r) for r in by_request([tuple(m) for m in json.loads(out.read_text())])]
    names = max(requests, key=len)
    print(
        f"nested query, {len(requests)} requests, client p50 {statistics.median(latencies):.1f} ms"
    )
    print("ms after the organizations call left (medians):")
    for name in names:
        values = [r[name] for r in requests if name in r]
        print(f"  {name:<36} {statistics.median(values):7.1f}  ({len(values)} requests)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    asyncio.run(main(parser.parse_args()))
