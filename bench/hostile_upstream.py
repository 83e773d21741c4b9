"""Peak memory of a gateway process fed a gzip bomb or a 50 MB page by its upstream.

    .venv/bin/python bench/hostile_upstream.py [--bomb-mb 1024] [--page-mb 50] [--unbounded]

Each case runs a fresh `restloom serve` process in front of the hostile upstream
fixture (tests/upstream/hostile.py), sends one query, and prints the process's
peak RSS (VmHWM from /proc/<pid>/status, Linux) after start-up and a first
normal query, and after the hostile one, with the error code the client got.
`--unbounded` adds what reading the same bodies whole (`resp.read()`, as
restloom did before the cap) costs a bare aiohttp client, for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from processes import free_port, process, wait_for

# The fixture server lives with the tests; the benchmark is run from a checkout.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.upstream.hostile import HostileUpstream, gzip_bomb

MB = 1024 * 1024
QUERY = {"query": "{ contacts(first: 2) { totalCount } }"}
HEADERS = {"X-API-Key": "bench-key"}


@dataclass
class Case:
    name: str
    mode: str
    options: dict[str, int]


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/<pid>/status")


async def code_of(session: aiohttp.ClientSession, url: str) -> str:
    async with session.post(url + "/graphql", json=QUERY, headers=HEADERS) as resp:
        body = await resp.json()
    errors = body.get("errors") or []
    return errors[0]["extensions"]["code"] if errors else "ok"


async def run_case(upstream: HostileUpstream, case: Case) -> tuple[float, float, str]:
    port = free_port()
    args = ("serve", "--upstream", upstream.url, "--port", str(port))
    with process(*args) as proc:
        url = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as session:
            await wait_for(session, url + "/healthz")
            upstream.set("ok")
            assert await code_of(session, url) == "ok"
            before = peak_rss_mb(proc.pid)
            upstream.set(case.mode, **case.options)
            code = await code_of(session, url)
            after = peak_rss_mb(proc.pid)
    return before, after, code


_UNBOUNDED = """
import asyncio, resource, sys, aiohttp
async def main():
    async with aiohttp.ClientSession() as s:
        async with s.get(sys.argv[1]) as r:
            body = await r.read()
    print(len(body))
asyncio.run(main())
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def unbounded_peak_mb(url: str) -> tuple[int, float]:
    """Peak RSS of a bare aiohttp client reading the body whole (what restloom used to do)."""
    out = subprocess.run(
        [sys.executable, "-c", _UNBOUNDED, url], capture_output=True, text=True, check=True
    )
    size, peak = out.stdout.split()
    return int(size), float(peak)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bomb-mb", type=int, default=1024, help="expanded size of the bomb")
    parser.add_argument("--page-mb", type=int, default=50, help="size of the huge page")
    parser.add_argument("--unbounded", action="store_true", help="also read them whole")
    ns = parser.parse_args()
    bomb_bytes = ns.bomb_mb * MB
    print(f"building the gzip bomb ({ns.bomb_mb} MB of zeros) ...", flush=True)
    wire = len(gzip_bomb(bomb_bytes))
    cases = [
        Case(f"gzip bomb: {wire / MB:.1f} MB gzip -> {ns.bomb_mb} MB", "gzip_bomb",
             {"bomb_bytes": bomb_bytes}),
        Case(f"{ns.page_mb} MB page, chunked", "huge", {"huge_bytes": ns.page_mb * MB}),
        Case(f"{ns.page_mb} MB page, Content-Length", "huge_declared",
             {"huge_bytes": ns.page_mb * MB}),
    ]  # fmt: skip
    async with HostileUpstream() as upstream:
        print("cap: max_upstream_body_bytes = 10 MB (default)")
        print(f"{'case':44} {'peak RSS before':>16} {'peak RSS after':>15}  code")
        for case in cases:
            before, after, code = await run_case(upstream, case)
            print(f"{case.name:44} {before:13.1f} MB {after:12.1f} MB  {code}")
        if ns.unbounded:
            print("\nfor comparison, a bare aiohttp client reading the body whole:")
            for case in cases[:2]:
                upstream.set(case.mode, **case.options)
                size, peak = await asyncio.to_thread(
                    unbounded_peak_mb, upstream.url + "/api/v1/contacts"
                )
                print(f"{case.name:44} read {size / MB:.0f} MB, peak RSS {peak:.1f} MB")


if __name__ == "__main__":
    asyncio.run(main())
