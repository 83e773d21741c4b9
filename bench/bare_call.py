"""The upstream's own time: a bare aiohttp client's GET of the page restloom's cold
`contacts(first: 100)` needs, from `restloom sim --latency-ms 20`, one at a time.

What restloom adds to a cold query is its latency minus this (bench/side_by_side.py,
bench/cold_timeline.py); the issue's "ideal" (levels x latency) leaves it out.

Also printed: how long the socket write of one such request takes when the sim is idle
(a raw uvloop transport, nothing else): on a VM, waking the other process can cost far
more than the write itself, for every upstream call of any server.

    .venv/bin/python bench/bare_call.py [--runs 200] [--latency-ms 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import aiohttp
import uvloop

from processes import free_port, process, wait_for

KEY = "moss_k_demo_full"


async def main(args: argparse.Namespace) -> None:
    port = free_port()
    sim = f"http://127.0.0.1:{port}"
    page = f"{sim}/api/v1/contacts?page=1&per_page=100"
    with process(
        "sim", "--port", str(port), "--rate-limit", "0", "--latency-ms", str(args.latency_ms)
    ):
        async with aiohttp.ClientSession(headers={"X-API-Key": KEY}) as session:
            await wait_for(session, f"{sim}/__sim/stats")
            times: list[float] = []
            for _ in range(args.runs + 20):  # the first 20 warm up
                started = time.perf_counter()
                async with session.get(page) as resp:
                    await resp.read()
                    assert resp.status == 200, resp.status
                times.append((time.perf_counter() - started) * 1000)
        writes = await idle_writes(port, args.runs // 4)
    kept = sorted(times[20:])
    print(
        f"GET {page.removeprefix(sim)} at {args.latency_ms:g} ms latency, {args.runs} runs: "
        f"p50 {statistics.median(kept):.1f} ms, p99 {kept[int(len(kept) * 0.99) - 1]:.1f} ms"
    )

    print(
        f"one request's socket write to the idle sim, {len(writes)} runs: "
        f"p50 {statistics.median(writes):.0f} us, p90 {writes[int(len(writes) * 0.9)]:.0f} us"
    )


class _Reply(asyncio.Protocol):
    def __init__(self) -> None:
        self.answered: asyncio.Future[None] | None = None

    def data_received(self, data: bytes) -> None:
        if self.answered is not None and not self.answered.done():
            self.answered.set_result(None)


async def idle_writes(port: int, runs: int) -> list[float]:
    """Microseconds each `transport.write` of a GET took, the sim idle before each."""
    request = (
        f"GET /api/v1/contacts?page=1&per_page=100 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"X-API-Key: {KEY}\r\nAccept: application/json\r\n\r\n"
    ).encode()
    loop = asyncio.get_running_loop()
    # uvloop's TCP transport is not an asyncio.Transport subclass, but writes like one.
    transport, reply = await loop.create_connection(_Reply, "127.0.0.1", port)
    took: list[float] = []
    for _ in range(runs):
        reply.answered = loop.create_future()
        await asyncio.sleep(0.03)  # the sim has answered everything and waits
        started = time.perf_counter()
        transport.write(request)
        took.append((time.perf_counter() - started) * 1e6)
        await reply.answered
        await asyncio.sleep(0.03)  # the rest of the answer (100 contacts) drains
    transport.close()
    return sorted(took)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    uvloop.run(main(parser.parse_args()))
