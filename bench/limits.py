"""Limits before execution: how long hostile documents take to refuse or answer, and
what large documents leave in the gateway's memory.

Starts `restloom sim` and `restloom serve` (default limits) as separate processes and
prints, per document, the median time from request to response over distinct texts
(a trailing comment makes each one new, so the document cache never answers):

- the issue's fragment query (22 fragments, each spreading the next twice; 34 s in
  strawberry's limiters) and the same at 40 levels (2^40 paths): answered;
- the 40-level one with an alias at the bottom (2^40 aliases): refused;
- a 1 MB query: refused before lexing; a 2 MB body: 413 before it is read whole;
- 980 sibling fields, within every limit: the costliest validation the limits allow;

then the gateway's RSS before and after 100 and 200 distinct near-limit documents
(parsed, validated and cached; the cache's token bound keeps about 100 of them), and
after 100, 200 and 300 distinct 1 MB documents (refused, never cached).

    .venv/bin/python bench/limits.py [--runs 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import orjson

from processes import free_port, process, wait_for

KEY = "moss_k_demo_full"


def chained_fragments(levels: int, leaf: str = "email") -> str:
    parts = ["query Chain { viewer { ...F0 } }"]
    parts += [f"fragment F{i} on User {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    parts.append(f"fragment F{levels} on User {{ {leaf} }}")
    return "\n".join(parts)


def near_limit(i: int) -> str:
    """About 990 tokens and 14,900 characters: within the default limits, and valid.

    (`nodes` takes at most 100 ids: the 980 are refused by the resolver, with no
    upstream call, after the document has been parsed, validated and cached.)
    """
    ids = " ".join(f'"id{i:04d}-{j:05d}"' for j in range(980))
    return f"query Big{i} {{ nodes(ids: [{ids}]) {{ id }} }}".ljust(14_900)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def post(session: aiohttp.ClientSession, url: str, body: bytes) -> tuple[int, str]:
    headers = {"Content-Type": "application/json", "X-API-Key": KEY}
    async with session.post(url, data=body, headers=headers) as resp:
        payload = await resp.json(content_type=None)
    errors = payload.get("errors") or []
    outcome = errors[0]["extensions"]["code"] if errors else "answered"
    return resp.status, outcome


def body_of(query: str) -> bytes:
    return orjson.dumps({"query": query})


async def timed(
    session: aiohttp.ClientSession,
    url: str,
    name: str,
    make: Callable[[int], bytes],
    runs: int,
) -> None:
    times = []
    outcome = ""
    for i in range(runs):
        body = make(i)
        start = time.perf_counter()
        status, outcome = await post(session, url, body)
        times.append((time.perf_counter() - start) * 1000)
    size = len(make(0))
    print(
        f"{name:<44} {size:>9,} B  HTTP {status} {outcome:<18} "
        f"median {statistics.median(times):7.2f} ms  max {max(times):7.2f} ms"
    )


async def main(runs: int) -> None:
    sim_port, gateway_port = free_port(), free_port()
    sim_url = f"http://127.0.0.1:{sim_port}"
    url = f"http://127.0.0.1:{gateway_port}/graphql"
    with (
        process("sim", "--port", str(sim_port)),
        process("serve", "--upstream", sim_url, "--port", str(gateway_port)) as gateway,
    ):
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
            await wait_for(session, sim_url + "/__sim/stats")
            await wait_for(session, f"http://127.0.0.1:{gateway_port}/healthz")
            await post(session, url, body_of("{ viewer { email } }"))  # warm up

            cases = {
                "fragments, 22 levels (issue's query)": lambda i: chained_fragments(22),
                "fragments, 40 levels (2^40 paths)": lambda i: chained_fragments(40),
                "fragments, 40 levels, alias at the bottom": lambda i: chained_fragments(
                    40, "e: email"
                ),
                "1 MB query": lambda i: "{ viewer { email } }" + " " * 1_000_000,
                # Within every limit: graphql-core's overlapping-fields rule is quadratic
                # in sibling fields, so this is about the costliest validation allowed.
                "980 sibling fields (worst validation)": lambda i: (
                    "{ viewer { " + "email " * 980 + "} }"
                ),
            }
            print(f"distinct texts, {runs} runs each, default limits")
            for name, make in cases.items():
                await timed(session, url, name, lambda i, m=make: body_of(m(i) + f"\n# {i}"), runs)
            await timed(session, url, "2 MB body", lambda i: b" " * 2_000_000, runs)

            pid = gateway.pid
            print(f"\ngateway RSS at start of phase: {rss_mb(pid):.1f} MB")
            # The document cache holds 100,000 tokens: the second hundred evicts the first.
            for round_ in range(1, 3):
                for i in range(100):
                    query = near_limit(round_ * 1000 + i)
                    _status, outcome = await post(session, url, body_of(query))
                    assert outcome == "BAD_USER_INPUT", outcome
                print(
                    f"after {round_ * 100} distinct near-limit documents (parsed, cached): "
                    f"{rss_mb(pid):.1f} MB"
                )
            for round_ in range(1, 4):  # growth or a plateau
                for i in range(100):
                    big = "{ viewer { email } }" + " " * 1_000_000 + f"# {round_}.{i}"
                    _status, outcome = await post(session, url, body_of(big))
                    assert outcome == "QUERY_TOO_LARGE", outcome
                print(
                    f"after {round_ * 100} distinct 1 MB documents (refused):"
                    f"{'':>9}{rss_mb(pid):.1f} MB"
                )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    asyncio.run(main(parser.parse_args().runs))
