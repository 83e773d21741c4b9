"""Real servers on loopback for end-to-end tests: the gateway under uvicorn, and a client."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
import uvicorn
from multidict import CIMultiDict

from restloom.app import create_app
from restloom.config import Settings

T = TypeVar("T")


async def within(seconds: float, awaitable: Awaitable[T]) -> T:
    """`awaitable`'s result; past `seconds`, a failure that says where every task waits.

    For a test whose requests may not end: pytest-timeout would only show the event loop.
    The stacks are taken before anything is cancelled.
    """
    task = asyncio.ensure_future(awaitable)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if task in done:
        return task.result()
    stacks = io.StringIO()
    for pending in asyncio.all_tasks():
        print(f"--- {pending!r}", file=stacks)
        pending.print_stack(file=stacks)
    task.cancel()
    await asyncio.wait({task}, timeout=5)  # its cancellation seen, not left unretrieved
    if task.done() and not task.cancelled():
        task.exception()
    raise AssertionError(f"not done within {seconds:g} s; the tasks:\n{stacks.getvalue()}")


class GatewayServer:
    """The gateway app under a real uvicorn server on a free port, on the test's loop."""

    def __init__(self, settings: Settings, *, startup_check: bool = False) -> None:
        # The start-up check is one more upstream call; tests that count calls count only
        # their own unless they ask for it (tests/test_startup.py does).
        self.settings = settings.model_copy(update={"startup_check": startup_check})
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.url = ""

    async def __aenter__(self) -> GatewayServer:
        app = self.app = create_app(self.settings)
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)
        # The start-up check calls the upstream once: let it finish, so that tests
        # counting upstream requests count only their own.
        await asyncio.wait_for(app.state.upstream_check.checked.wait(), 15)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None and self._task is not None
        self._server.should_exit = True
        await self._task


@dataclass
class Reply:
    status: int
    headers: CIMultiDict[str]
    body: dict[str, Any]

    @property
    def data(self) -> Any:
        return self.body.get("data")

    @property
    def errors(self) -> list[dict[str, Any]]:
        return self.body.get("errors") or []

    def codes(self) -> list[str]:
        return [e.get("extensions", {}).get("code") for e in self.errors]


@dataclass
class GraphQLClient:
    session: aiohttp.ClientSession
    url: str
    headers: dict[str, str] = field(default_factory=dict)

    async def send(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        async with self.session.post(
            self.url + "/graphql", json=payload, headers={**self.headers, **(headers or {})}
        ) as resp:
            return Reply(resp.status, CIMultiDict(resp.headers), await resp.json())

    async def data(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        """The `data` of a query that must succeed without errors."""
        reply = await self.send(query, variables, **kw)
        assert not reply.errors, reply.errors
        return reply.data


class SimStats:
    """Upstream request counts, read from the sim's own counters."""

    def __init__(self, session: aiohttp.ClientSession, sim_url: str) -> None:
        self.session = session
        self.sim_url = sim_url

    async def reset(self) -> None:
        async with self.session.post(self.sim_url + "/__sim/stats/reset") as resp:
            assert resp.status in (200, 204)

    async def read(self) -> dict[str, Any]:
        async with self.session.get(self.sim_url + "/__sim/stats") as resp:
            return await resp.json()

    async def requests(self) -> int:
        return int((await self.read())["requests"])


async def upstream_list(
    session: aiohttp.ClientSession, sim_url: str, path: str, key: str, **params: str
) -> list[dict[str, Any]]:
    """Every record of an upstream collection, read straight from the sim (mossdesk style)."""
    records: list[dict[str, Any]] = []
    page = 1
    while True:
        query = {"per_page": "250", "page": str(page), **params}
        async with session.get(
            f"{sim_url}/api/v1{path}", params=query, headers={"X-API-Key": key}
        ) as resp:
            assert resp.status == 200, await resp.text()
            body = await resp.json()
        records += body["data"]
        if page >= body["meta"]["total_pages"]:
            return records
        page += 1
