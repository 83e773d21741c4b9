"""Small aiohttp servers of the tests' own on a free loopback port: hostile upstreams,
recording proxies, collectors."""

from __future__ import annotations

from typing import Self

from aiohttp import web


class Listener:
    """An aiohttp server on a free loopback port: add routes to `app`, then `async with`."""

    def __init__(self) -> None:
        self.app = web.Application()
        self._runner: web.AppRunner | None = None
        self.url = ""  # origin, e.g. http://127.0.0.1:PORT, once started

    async def __aenter__(self) -> Self:
        # A short shutdown: a hostile handler may never finish on its own.
        self._runner = web.AppRunner(
            self.app, handle_signals=False, shutdown_timeout=0.5, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()
