"""`root_path`: restloom mounted below a path by a reverse proxy, as a real `serve` process."""

import asyncio
import contextlib
import os
import socket
import sys

from restloom.graphiql import STATIC_PATH
from tests.test_cli import restloom
from tests.test_settings_errors import clean_env, fails_with


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_graphiql_urls_carry_the_root_path(sim, http):
    port = free_port()
    env = clean_env(RESTLOOM_ROOT_PATH="/gateway", RESTLOOM_STARTUP_CHECK="false")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "restloom.cli",
        "serve",
        "--upstream",
        sim.api_url,
        "--port",
        str(port),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            with contextlib.suppress(OSError):
                async with http.get(base + "/healthz") as resp:
                    if resp.status == 200:
                        break
            await asyncio.sleep(0.05)
        # The proxy strips /gateway before forwarding; the page must still point below it.
        async with http.get(base + "/graphql", headers={"Accept": "text/html"}) as resp:
            page = await resp.text()
        assert resp.status == 200
        assert "/gateway/graphql" in page
        assert f"/gateway{STATIC_PATH}" in page
    finally:
        proc.terminate()
        await proc.wait()


def test_a_bad_root_path_is_named():
    result = restloom(
        "serve", "--upstream", "http://127.0.0.1:1", env=clean_env(RESTLOOM_ROOT_PATH="gateway/")
    )
    fails_with(result, "setting `root_path` (environment variable RESTLOOM_ROOT_PATH)")
    assert os.environ.get("RESTLOOM_ROOT_PATH") is None
