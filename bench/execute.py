"""CPU per *executed* query: upstream pages in the read cache, no response cache.

Starts `restloom sim --rate-limit 0` as its own process, then measures restloom
executing each query again and again, in one of two ways:

- `--mode asgi` (default): the app (`create_app`, the settings of
  bench/side_by_side.py's *exec* scenario) runs in this process and each request goes
  through its whole ASGI stack (front door, strawberry view, execution, JSON), without
  a socket. CPU is `time.process_time()` over N requests, one after another.
  `--profile` prints cProfile's top functions for the first query instead.
- `--mode http`: `restloom serve` as its own process, requests over HTTP from an
  aiohttp client (`--connections` at a time), the server's CPU read from
  /proc/<pid>/stat over the run, as bench/side_by_side.py does.

    .venv/bin/python bench/execute.py [--mode asgi|http] [--requests 400] [--rounds 3] [--cold]

`--cold` turns the read cache off, so every request also makes its upstream call (to a
sim answering at once): the CPU of a cold request without the wait.

Prints the median over rounds of ms CPU per request for each query. The machine is
shared: CPU per request is steadier than requests per second.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from processes import free_port, process, wait_for

KEY = "moss_k_demo_full"
QUERIES = {
    "contacts(first: 100)": "{ contacts(first: 100) { edges { node { id firstName lastName email } } } }",
    "contacts(first: 1)": "{ contacts(first: 1) { edges { node { id firstName lastName email } } } }",
    "nested (250 members)": (
        "{ organizations(first: 25) { edges { node { id name members(first: 10) "
        "{ edges { role node { id email } } } } } } }"
    ),
}
ENV = {
    "RESTLOOM_CACHE_TTL": "60",
    "RESTLOOM_RESPONSE_CACHE": "false",
    "RESTLOOM_API_KEY": KEY,
    "RESTLOOM_RATE_LIMIT": '"off"',
    "RESTLOOM_STARTUP_CHECK": "false",
    "RESTLOOM_CURSOR_SECRET": "x",
    "RESTLOOM_LOG_LEVEL": "warning",
}
CLOCK_TICK = os.sysconf("SC_CLK_TCK")

Send = Callable[[str], Awaitable[bytes]]


def check(body: bytes) -> None:
    if b'"errors"' in body or b'"data"' not in body:
        raise RuntimeError(f"unexpected answer: {body[:300]!r}")


# --- in process, through the ASGI app --------------------------------------------------


async def asgi_sender(app: Any) -> Send:
    async def send_query(query: str) -> bytes:
        body = orjson.dumps({"query": query})
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "root_path": "",
            "query_string": b"",
            "headers": [
                (b"host", b"bench"),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-api-key", KEY.encode()),
            ],
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
        }
        chunks: list[bytes] = []
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # the client never disconnects
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await app(scope, receive, send)
        return b"".join(chunks)

    return send_query


async def run_asgi(sim: str, args: argparse.Namespace) -> dict[str, list[float]]:
    os.environ.update({**ENV, "RESTLOOM_UPSTREAM_URL": sim + "/api/v1"})
    from restloom.config import load_settings
    from restloom.serving import start_app

    app = start_app(load_settings())
    async with app.router.lifespan_context(app):
        send = await asgi_sender(app)
        if args.profile:
            await profile(send, args)
            return {}
        return await rounds(send, args, lambda: time.process_time())


async def profile(send: Send, args: argparse.Namespace) -> None:
    query = QUERIES[args.profile]
    check(await send(query))
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.requests):
        await send(query)
    profiler.disable()
    pstats.Stats(profiler).sort_stats(args.sort).print_stats(40)


# --- over HTTP, a serve process ----------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK


async def run_http(sim: str, args: argparse.Namespace) -> dict[str, list[float]]:
    port = free_port()
    serve = ["serve", "--port", str(port), "--upstream", sim + "/api/v1"]
    with process(*serve, env=ENV) as server:
        url = f"http://127.0.0.1:{port}/graphql"
        async with aiohttp.ClientSession() as session:
            await wait_for(session, f"http://127.0.0.1:{port}/healthz")

            async def send(query: str) -> bytes:
                body = {"query": query}
                async with session.post(url, json=body, headers={"X-API-Key": KEY}) as resp:
                    return await resp.read()

            return await rounds(send, args, lambda: cpu_seconds(server.pid))


# --- measuring ---------------------------------------------------------------------------


async def rounds(
    send: Send, args: argparse.Namespace, cpu: Callable[[], float]
) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {name: [] for name in QUERIES}
    for query in QUERIES.values():  # warm: pages into the read cache, caches of the schema
        for _ in range(3):
            check(await send(query))
    for _ in range(args.rounds):
        for name, query in QUERIES.items():
            figures[name].append(await per_request(send, query, args, cpu))
    return figures


async def per_request(
    send: Send, query: str, args: argparse.Namespace, cpu: Callable[[], float]
) -> float:
    """ms of CPU per request, `args.connections` requests in flight at a time."""
    remaining = args.requests

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await send(query)

    start = cpu()
    await asyncio.gather(*(worker() for _ in range(args.connections)))
    return (cpu() - start) * 1000 / args.requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=["asgi", "http"], default="asgi")
    parser.add_argument("--requests", type=int, default=400, help="per query and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--profile", choices=list(QUERIES), help="cProfile one query (asgi)")
    parser.add_argument("--sort", default="tottime", help="cProfile sort key")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="no read cache: every request calls the sim (at 0 ms), as a cold request does",
    )
    args = parser.parse_args()
    if args.cold:
        ENV["RESTLOOM_CACHE_TTL"] = "0"
    sim_port = free_port()
    with process("sim", "--port", str(sim_port), "--rate-limit", "0"):
        sim = f"http://127.0.0.1:{sim_port}"
        figures = asyncio.run(start(sim, args))
    if figures:
        cold = " cold (no read cache)" if args.cold else ""
        print(f"mode={args.mode}{cold} requests={args.requests} rounds={args.rounds}")
        for name, values in figures.items():
            spread = ", ".join(f"{v:.3f}" for v in values)
            print(f"{name:24} {statistics.median(values):6.3f} ms CPU/request  ({spread})")


async def start(sim: str, args: argparse.Namespace) -> dict[str, list[float]]:
    async with aiohttp.ClientSession() as session:
        await wait_for(session, sim + "/__sim/stats")
    if args.mode == "http":
        return await run_http(sim, args)
    return await run_asgi(sim, args)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
