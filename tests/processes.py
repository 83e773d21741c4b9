"""restloom's own commands as real child processes, for what only the CLI sets up."""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp

START_TIMEOUT = 30.0


def free_port() -> int:
    # The port is free when this returns; another binder could take it first (rare, accepted).
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class DemoProcess:
    url: str  # origin, e.g. http://127.0.0.1:PORT
    output: str = ""  # everything it printed (stdout and stderr), once it has stopped


@asynccontextmanager
async def restloom_demo(http: aiohttp.ClientSession) -> AsyncIterator[DemoProcess]:
    """`restloom demo` on a free port, answering /healthz; stopped (and its output kept)
    when the block ends."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "restloom.cli",
        "demo",
        "--port",
        str(port),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    demo = DemoProcess(f"http://127.0.0.1:{port}")
    try:
        if not await _answers_healthz(http, demo.url, process):
            raise AssertionError(f"restloom demo did not answer /healthz at {demo.url}")
        yield demo
    finally:
        if process.returncode is None:
            process.terminate()
        demo.output = (await process.communicate())[0].decode(errors="replace")


async def _answers_healthz(
    http: aiohttp.ClientSession, url: str, process: asyncio.subprocess.Process
) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_TIMEOUT
    while loop.time() < deadline and process.returncode is None:
        try:
            async with http.get(url + "/healthz") as resp:
                if resp.status == 200:
                    return True
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    return False
