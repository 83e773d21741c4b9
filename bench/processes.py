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
import redis.asyncio as redis


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# A cold `restloom serve` over the sim: nothing cached, no rate budget, no start-up call.
COLD_SERVE_ENV = {
    "RESTLOOM_STARTUP_CHECK": "false",
    "RESTLOOM_CURSOR_SECRET": "bench",
    "RESTLOOM_RATE_LIMIT": '"off"',
    "RESTLOOM_API_KEY": "moss_k_demo_full",
    "RESTLOOM_CACHE_TTL": "0",
}


@contextmanager
def process(*args: str, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    """`restloom ARGS` as its own process, so it does not share the benchmark's event loop."""
    with _running(["-m", "restloom.cli", *args], env) as proc:
        yield proc


@contextmanager
def bootstrapped(
    code: str, *args: str, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen]:
    """`restloom ARGS` started by `code` (run with `python -c`), which wraps what the
    bench marks or counts inside the server and then calls the CLI's `main`."""
    with _running(["-c", code, *args], env) as proc:
        yield proc


@contextmanager
def _running(python_args: list[str], env: dict[str, str] | None) -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen(
        [sys.executable, *python_args],
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


# The Redis the benches use when it answers (the tests' default too).
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


async def redis_reachable() -> bool:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        await client.ping()
        return True
    except (redis.RedisError, OSError):
        return False
    finally:
        await client.aclose()


async def drop_namespace(namespace: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in client.scan_iter(match=f"{namespace}:*", count=500)]
        if keys:
            await client.unlink(*keys)
    finally:
        await client.aclose()
