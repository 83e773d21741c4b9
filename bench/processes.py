"""Starting restloom processes for a benchmark, and waiting until they answer."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def process(*args: str, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    """`restloom ARGS` as its own process, so it does not share the benchmark's event loop."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "restloom.cli", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "RESTLOOM_LOG_LEVEL": "warning", **(env or {})},
    )
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def wait_for(session: aiohttp.ClientSession, url: str) -> None:
    for _ in range(200):
        try:
            async with session.get(url) as resp:
                if resp.status < 500:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")
