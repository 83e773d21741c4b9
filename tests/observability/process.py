"""`restloom serve` as a real child process, for what only the CLI sets up (logging, exporter)."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass, field

import aiohttp

from tests.processes import free_port


@dataclass
class ServeProcess:
    upstream_url: str
    env: dict[str, str] = field(default_factory=dict)
    args: tuple[str, ...] = ()
    url: str = ""
    stderr: str = ""
    _proc: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> ServeProcess:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("RESTLOOM_")}
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "restloom.cli",
            "serve",
            "--upstream",
            self.upstream_url,
            "--port",
            str(port),
            *self.args,
            env={**env, **self.env},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                if self._proc.returncode is not None:
                    break
                try:
                    async with http.get(self.url + "/healthz") as resp:
                        if resp.status == 200:
                            return self
                except aiohttp.ClientError:
                    await asyncio.sleep(0.05)
        await self._stop()
        raise AssertionError(f"restloom serve did not start:\n{self.stderr}")

    async def __aexit__(self, *exc: object) -> None:
        await self._stop()

    async def _stop(self) -> None:
        assert self._proc is not None
        if self._proc.returncode is None:
            self._proc.terminate()
        _, err = await asyncio.wait_for(self._proc.communicate(), timeout=20)
        self.stderr = err.decode(errors="replace")
