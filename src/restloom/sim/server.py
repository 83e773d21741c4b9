"""``SimServer``: run the sim on a loopback port, as an async context manager."""

from __future__ import annotations

from types import TracebackType

from aiohttp import web

from restloom.sim.app import create_app
from restloom.sim.config import SimConfig
from restloom.sim.pipeline import STATE_KEY
from restloom.sim.state import SimState

# In-flight requests (e.g. a held ``timeout`` fault) get this long when stopping.
SHUTDOWN_TIMEOUT = 1.0


class SimServer:
    def __init__(self, config: SimConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config
        self.host = host
        self.port = port
        self.app = create_app(config)
        self._runner: web.AppRunner | None = None

    @property
    def state(self) -> SimState:
        """Live sim state, for in-process tests that want to look behind the API."""
        return self.app[STATE_KEY]

    @property
    def url(self) -> str:
        if self._runner is None:
            raise RuntimeError("SimServer is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return self.url + self.config.effective_prefix

    async def start(self) -> None:
        if self._runner is not None:
            return
        runner = web.AppRunner(self.app, handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        # With port 0 the OS picked one; report the real port.
        self.port = runner.addresses[0][1]

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> SimServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
