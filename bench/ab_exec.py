"""Server CPU per executed query: a git revision against the working tree, side by side.

Checks out `--baseline` (default HEAD) into a temporary worktree, starts one
`restloom sim` and two `restloom serve` over it (the baseline's code and this tree's,
read cache on, response cache off: the issue's "executing a query, nothing cached but
the upstream pages"), then runs the same query through wrk against each in turn (the order alternating),
`--rounds` times, and prints the CPU milliseconds each server spent per request
(from /proc) and their ratio. Interleaving the two cancels most of a VM's drift.

    .venv/bin/python bench/ab_exec.py [--baseline REV] [--rounds 6] [--duration 5]
        [--query contacts|nested] [--cold] [--latency-ms MS] [--connections N]

`--cold` turns the read cache off: each request also makes its upstream calls (the sim
answers at once), so the figure is a cold request's CPU. With `--latency-ms 20
--connections 1` it is the unloaded cold latency instead: wrk's p50 for each server
is printed too (the median over the rounds), and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import aiohttp

from processes import free_port, process, wait_for

KEY = "moss_k_demo_full"
ROOT = Path(__file__).resolve().parent.parent
QUERIES = {
    "contacts": "{ contacts(first: 100) { edges { node { id firstName lastName email } } } }",
    "nested": (
        "{ organizations(first: 25) { edges { node { id name members(first: 10) "
        "{ edges { role node { id email } } } } } } }"
    ),
}
WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = "{key}"
"""
SERVE_ENV = {
    "RESTLOOM_STARTUP_CHECK": "false",
    "RESTLOOM_CURSOR_SECRET": "ab-bench",
    "RESTLOOM_RATE_LIMIT": '"off"',
    "RESTLOOM_API_KEY": KEY,
    "RESTLOOM_CACHE_TTL": "60",
    "RESTLOOM_RESPONSE_CACHE": "false",
}


@contextmanager
def worktree(revision: str) -> Iterator[Path]:
    where = Path(tempfile.mkdtemp(prefix="restloom_ab_"))
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(where), revision],
        check=True,
    )
    try:
        yield where
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(where)])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url: str, script: str, seconds: int, connections: int) -> tuple[int, float]:
    """Requests wrk completed in `seconds`, and their p50 in ms."""
    wrk_path = shutil.which("wrk")
    if wrk_path is None:
        raise SystemExit("needs wrk (Debian: apt-get install wrk)")
    cmd = [wrk_path, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script, url]
    lines = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.splitlines()
    done = int(next(line.split()[0] for line in lines if "requests in" in line))
    p50 = next(line.split()[1] for line in lines if line.strip().startswith("50%"))
    return done, _ms(p50)


def _ms(value: str) -> float:
    """wrk's duration ("512.00us", "27.10ms", "1.02s") in milliseconds."""
    for unit, scale in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if value.endswith(unit):
            return float(value.removesuffix(unit)) * scale
    raise ValueError(f"not a wrk duration: {value!r}")


async def wait_all(urls: list[str]) -> None:
    async with aiohttp.ClientSession() as session:
        for url in urls:
            await wait_for(session, url)


def main(args: argparse.Namespace) -> None:
    with ExitStack() as stack:
        base = stack.enter_context(worktree(args.baseline))
        sim_port = free_port()
        sim_args = [
            "--port",
            str(sim_port),
            "--rate-limit",
            "0",
            "--latency-ms",
            str(args.latency_ms),
        ]
        stack.enter_context(process("sim", *sim_args))
        upstream = f"http://127.0.0.1:{sim_port}/api/v1"
        servers: dict[str, tuple[str, int]] = {}
        for name, src in (("baseline", base / "src"), ("tree", ROOT / "src")):
            port = free_port()
            cache = {"RESTLOOM_CACHE_TTL": "0"} if args.cold else {}
            env = {**SERVE_ENV, **cache, "PYTHONPATH": str(src)}
            proc = stack.enter_context(
                process("serve", "--upstream", upstream, "--port", str(port), env=env)
            )
            servers[name] = (f"http://127.0.0.1:{port}/graphql", proc.pid)
        asyncio.run(wait_all([f"http://127.0.0.1:{sim_port}/__sim/stats"]))
        asyncio.run(
            wait_all([url.removesuffix("/graphql") + "/healthz" for url, _ in servers.values()])
        )
        script = stack.enter_context(tempfile.NamedTemporaryFile("w", suffix=".lua"))
        query = QUERIES[args.query]
        script.write(WRK_SCRIPT.format(body=json.dumps(json.dumps({"query": query})), key=KEY))
        script.flush()
        per_request: dict[str, list[float]] = {name: [] for name in servers}
        p50s: dict[str, list[float]] = {name: [] for name in servers}
        for round_ in range(args.rounds + 1):
            order = list(servers.items())
            for name, (url, pid) in order if round_ % 2 else reversed(order):
                before = cpu_seconds(pid)
                done, p50 = wrk(url, script.name, args.duration, args.connections)
                if round_ > 0:  # round 0 warms both up
                    per_request[name].append((cpu_seconds(pid) - before) * 1000 / done)
                    p50s[name].append(p50)
        base_ms = statistics.median(per_request["baseline"])
        tree_ms = statistics.median(per_request["tree"])
        print(f"query: {query}{' (cold: no read cache)' if args.cold else ''}")
        print(f"sim latency {args.latency_ms:g} ms, wrk -c {args.connections}")
        print(f"baseline {args.baseline}: {base_ms:.3f} ms CPU/request {per_request['baseline']}")
        print(f"working tree: {tree_ms:.3f} ms CPU/request {per_request['tree']}")
        print(f"tree / baseline: {tree_ms / base_ms:.3f}")
        base_p50, tree_p50 = statistics.median(p50s["baseline"]), statistics.median(p50s["tree"])
        print(f"p50 baseline {base_p50:.2f} ms {p50s['baseline']}")
        print(f"p50 working tree {tree_p50:.2f} ms {p50s['tree']}")
        print(f"p50 tree / baseline: {tree_p50 / base_p50:.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", default="HEAD", help="git revision to compare against")
    parser.add_argument("--rounds", type=int, default=6, help="kept rounds per server")
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--query", choices=list(QUERIES), default="contacts")
    parser.add_argument(
        "--cold", action="store_true", help="read cache off: every request calls the sim"
    )
    parser.add_argument("--latency-ms", type=float, default=0.0, help="the sim's latency")
    parser.add_argument("--connections", type=int, default=10, help="wrk's connections")
    main(parser.parse_args())
    sys.exit(0)
