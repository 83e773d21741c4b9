"""Where restloom's own time goes in one cold `contacts(first: 100)`, phase by phase.

Starts `restloom sim --latency-ms 20 --rate-limit 0` and a cold `restloom serve` (no
caching, rate budget off, as bench/cold_timeline.py's) whose process marks the
moment each request passes a few points of its way (wall clock, `perf_counter`):

    arrived      uvicorn's `data_received` of the request
    executing    the view hands the request to strawberry's `Schema.execute`
    in graphql   graphql-core's execution starts (restloom's execution context)
    dispatched   the window loader's batch goes out (`WindowLoader._dispatch`)
    sending      `UpstreamClient._send_once` starts
    written      aiohttp writes the upstream request to the socket
    answered     the upstream's answer reaches aiohttp (`data_received`)
    received     `_send_once` returns the parsed answer
    executed     `Schema.execute` returns
    responding   the response's first ASGI `send`

Requests go one at a time with `--gap-ms` (default 20) between them: the server idles,
as a cold request finds it. `--gap-ms 0 --latency-ms 0` gives the same steps hot. Printed: the median of each step over the requests, and the client's p50.
The marks are wrappers installed in the server process only; they cost a few µs each.

    .venv/bin/python bench/cold_phases.py [--seconds 10] [--latency-ms 20] [--gap-ms 20]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from processes import free_port, process, wait_for

KEY = "moss_k_demo_full"
QUERY = "{ contacts(first: 100) { edges { node { id firstName lastName email } } } }"
STEPS = (
    "arrived",
    "executing",
    "in graphql",
    "dispatched",
    "sending",
    "written",
    "answered",
    "received",
    "executed",
    "responding",
)
ENV = {
    "RESTLOOM_STARTUP_CHECK": "false",
    "RESTLOOM_CURSOR_SECRET": "cold-phases-bench",
    "RESTLOOM_RATE_LIMIT": '"off"',
    "RESTLOOM_API_KEY": KEY,
    "RESTLOOM_CACHE_TTL": "0",
    "RESTLOOM_LOG_LEVEL": "warning",
}


# --- in the server process ------------------------------------------------------------


def serve_marked(out: str, argv: list[str]) -> None:
    """`restloom ARGV` with the marks installed; SIGUSR1 writes them to `out` as JSON."""
    from uvicorn.protocols.http import httptools_impl

    from restloom.cli import main
    from restloom.frontdoor import route
    from restloom.graphql import loaders
    from restloom.graphql.execution import context
    from restloom.upstream import client

    requests: list[dict[str, float]] = []
    current: dict[str, float] = {}

    def mark(step: str) -> None:
        if current and step not in current:
            current[step] = time.perf_counter()

    def on_entry(owner: Any, name: str, step: str, on_return: str | None = None) -> None:
        """Mark `step` when `owner.name` is called (and `on_return` when a coroutine returns)."""
        original = getattr(owner, name)
        if asyncio.iscoroutinefunction(original):

            async def wrapped_async(*args: Any, **kwargs: Any) -> Any:
                mark(step)
                result = await original(*args, **kwargs)
                if on_return is not None:
                    mark(on_return)
                return result

            setattr(owner, name, wrapped_async)
        else:

            def wrapped(*args: Any, **kwargs: Any) -> Any:
                mark(step)
                return original(*args, **kwargs)

            setattr(owner, name, wrapped)

    protocol = httptools_impl.HttpToolsProtocol
    received = protocol.data_received

    def data_received(self: Any, data: bytes) -> None:
        if data.startswith(b"POST"):
            if "responding" in current:
                requests.append(dict(current))
            current.clear()
            current["arrived"] = time.perf_counter()
        received(self, data)

    protocol.data_received = data_received  # type: ignore[method-assign]

    from aiohttp import client_proto, http_writer

    on_entry(route.FrontDoorView, "_execute", "executing", on_return="executed")
    on_entry(client.UpstreamClient, "_send_once", "sending", on_return="received")
    on_entry(context.FastExecutionContext, "execute_operation", "in graphql")
    on_entry(loaders.WindowLoader, "_dispatch", "dispatched")
    on_entry(http_writer.StreamWriter, "_write", "written")
    on_entry(client_proto.ResponseHandler, "data_received", "answered")
    on_entry(httptools_impl.RequestResponseCycle, "send", "responding")

    def dump(*_: Any) -> None:
        Path(out).write_bytes(orjson.dumps(requests))

    signal.signal(signal.SIGUSR1, dump)
    main(argv)


# --- in the benchmark process ---------------------------------------------------------


def medians(requests: list[dict[str, float]]) -> list[tuple[str, float]]:
    complete = [r for r in requests[5:] if all(step in r for step in STEPS)]
    if not complete:
        raise RuntimeError("no request passed every mark")
    return [
        (f"{before} -> {after}", statistics.median((r[after] - r[before]) * 1000 for r in complete))
        for before, after in itertools.pairwise(STEPS)
    ]


async def client_loop(url: str, seconds: float, gap_ms: float) -> list[float]:
    latencies: list[float] = []
    async with aiohttp.ClientSession() as session:
        await wait_for(session, url.replace("/graphql", "/healthz"))
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            started = time.monotonic()
            async with session.post(url, json={"query": QUERY}, headers={"X-API-Key": KEY}) as resp:
                body = await resp.read()
            if b'"errors"' in body:
                raise RuntimeError(body[:300])
            latencies.append((time.monotonic() - started) * 1000)
            await asyncio.sleep(gap_ms / 1000)
    return latencies


def main(args: argparse.Namespace) -> None:
    sim_port, gw_port = free_port(), free_port()
    sim = f"http://127.0.0.1:{sim_port}"
    out = Path(tempfile.mkdtemp()) / "marks.json"
    serve = [sys.executable, __file__, "--serve-marked", str(out), "serve"]
    serve += ["--upstream", f"{sim}/api/v1", "--port", str(gw_port)]
    sim_args = ("sim", "--port", str(sim_port), "--rate-limit", "0")
    with process(*sim_args, "--latency-ms", str(args.latency_ms)):
        server = subprocess.Popen(serve, env={**os.environ, **ENV}, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{gw_port}/graphql"
            latencies = asyncio.run(client_loop(url, args.seconds, args.gap_ms))
            server.send_signal(signal.SIGUSR1)
            for _ in range(100):
                if out.exists():
                    break
                time.sleep(0.05)
            time.sleep(0.1)  # written in one call, but give it that call
        finally:
            server.terminate()
            server.wait(10)
    print(
        f"cold contacts(first: 100), {len(latencies)} requests one at a time, upstream "
        f"latency {args.latency_ms:g} ms: client p50 {statistics.median(latencies):.2f} ms"
    )
    for step, ms in medians(orjson.loads(out.read_bytes())):
        print(f"  {step:<28} {ms:7.3f} ms")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--serve-marked":
        serve_marked(sys.argv[2], sys.argv[3:])
    else:
        parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
        parser.add_argument("--seconds", type=float, default=10.0)
        parser.add_argument("--latency-ms", type=float, default=20.0)
        parser.add_argument("--gap-ms", type=float, default=20.0, help="idle between requests")
        main(parser.parse_args())
