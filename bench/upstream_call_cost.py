"""restloom's CPU per upstream call, against aiohttp alone doing the same GET.

Starts `restloom sim --latency-ms 0 --rate-limit 0` as its own process and, in
this process (uvloop, as `restloom serve` runs), sends rounds of 25 concurrent
member-list GETs (the middle level of the nested benchmark query) three ways:

- aiohttp: `session.get` + chunked read + `orjson.loads`, nothing else (the floor);
- send: `UpstreamClient.send`, one HTTP call with every check on the answer;
- fetch_page: `api.fetch_page` through a fresh `Exchange` per round (breaker, budget
  off, deadline, in-flight sharing, shape check): what a resolver's page read costs.

Printed: this process's CPU (user + system) per call, median of `--rounds` rounds.

    .venv/bin/python bench/upstream_call_cost.py [--rounds 7] [--calls 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

import aiohttp
import orjson
import uvloop

from processes import free_port, process, wait_for
from restloom.observability.observer import Observer
from restloom.upstream.api import ListQuery, fetch_page
from restloom.upstream.base_url import resolve
from restloom.upstream.client import Caller, UpstreamClient, create_session
from restloom.upstream.credentials import Credential, CredentialKind
from restloom.upstream.profile import MOSSDESK

KEY = "moss_k_demo_full"
FANOUT = 25

Round = Callable[[list[str]], Awaitable[None]]


async def org_ids(session: aiohttp.ClientSession, api: str) -> list[str]:
    async with session.get(
        f"{api}/organizations", params={"per_page": str(FANOUT)}, headers={"X-API-Key": KEY}
    ) as resp:
        return [org["id"] for org in (await resp.json())["data"]]


def raw_round(session: aiohttp.ClientSession, api: str) -> Round:
    async def one(org: str) -> None:
        url = f"{api}/organizations/{org}/members?page=1&per_page=10"
        async with session.get(url, headers={"X-API-Key": KEY}) as resp:
            body = bytearray()
            async for chunk in resp.content.iter_chunked(65536):
                body += chunk
            orjson.loads(body)

    async def run(orgs: list[str]) -> None:
        await asyncio.gather(*(one(o) for o in orgs))

    return run


def send_round(client: UpstreamClient, caller: Caller) -> Round:
    async def run(orgs: list[str]) -> None:
        params = (("page", "1"), ("per_page", "10"))
        paths = [f"/organizations/{o}/members" for o in orgs]
        await asyncio.gather(*(client.send(caller, "GET", p, params) for p in paths))

    return run


def page_round(client: UpstreamClient, caller: Caller) -> Round:
    async def run(orgs: list[str]) -> None:
        ex = client.exchange(caller)
        queries = [ListQuery.build("members", parent_id=o) for o in orgs]
        await asyncio.gather(*(fetch_page(ex, q, 1, 10) for q in queries))

    return run


async def cpu_per_call(run: Round, orgs: list[str], calls: int) -> float:
    rounds = max(1, calls // len(orgs))
    for _ in range(3):
        await run(orgs)  # connections open, code warm
    start = time.process_time()
    for _ in range(rounds):
        await run(orgs)
    return (time.process_time() - start) / (rounds * len(orgs))


async def main(args: argparse.Namespace) -> None:
    port = free_port()
    api = f"http://127.0.0.1:{port}/api/v1"
    with process("sim", "--port", str(port), "--rate-limit", "0", "--latency-ms", "0"):
        session = create_session(100, 5.0)
        try:
            await wait_for(session, api.replace("/api/v1", "/__sim/stats"))
            upstream = resolve(api, MOSSDESK)  # the profile's prefix folded in, as the app does
            client = UpstreamClient(session, upstream.base_url, upstream.profile)
            Observer(upstream.profile).attach(client)  # as the app does, with nothing watching
            caller = Caller(Credential(CredentialKind.API_KEY, KEY), "bench-call-cost")
            orgs = await org_ids(session, api)
            ways = {
                "aiohttp": raw_round(session, api),
                "send": send_round(client, caller),
                "fetch_page": page_round(client, caller),
            }
            results: dict[str, list[float]] = {name: [] for name in ways}
            for _ in range(args.rounds):
                for name, run in ways.items():
                    results[name].append(await cpu_per_call(run, orgs, args.calls))
        finally:
            await session.close()
    floor = statistics.median(results["aiohttp"])
    print(f"CPU per call, {FANOUT} concurrent member-list GETs, median of {args.rounds} rounds")
    for name, values in results.items():
        us = statistics.median(values) * 1e6
        print(f"  {name:<10} {us:7.1f} us  ({us - floor * 1e6:+.1f} us over aiohttp)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=2000)
    uvloop.run(main(parser.parse_args()))
