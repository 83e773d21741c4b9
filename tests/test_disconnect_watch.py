"""When `StopOnDisconnect` watches a connection: not for quick answers, always for slow ones.

ASGI-level: a scripted server `receive` (the body, then a disconnect when asked again)
and handlers that answer at once or work for a while. tests/security/test_disconnect.py
shows the same against a real gateway and sim.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from restloom.disconnect import WATCH_AFTER, StopOnDisconnect

SCOPE = {"type": "http", "path": "/graphql", "headers": [(b"content-length", b"2")]}


class Server:
    """The server side of one request: the body, then a disconnect; what was sent."""

    def __init__(self, *, client_leaves: bool = True) -> None:
        self.client_leaves = client_leaves
        self.received = 0
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        self.received += 1
        if self.received == 1:
            return {"type": "http.request", "body": b"{}", "more_body": False}
        if not self.client_leaves:
            await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)


def handler(work: float, finished: list[str]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await asyncio.sleep(work)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
        finished.append("answered")

    return app


async def test_a_quick_answer_is_never_watched() -> None:
    server, finished = Server(), []
    await StopOnDisconnect(handler(0, finished))(SCOPE, server.receive, server.send)
    await asyncio.sleep(WATCH_AFTER * 2)
    assert finished == ["answered"]
    assert server.received == 1  # the body only: nobody listened for a disconnect


async def test_a_slow_handler_is_cancelled_when_its_client_has_left() -> None:
    server, finished = Server(), []
    await StopOnDisconnect(handler(WATCH_AFTER * 20, finished))(SCOPE, server.receive, server.send)
    assert finished == []
    assert server.sent == []
    assert server.received == 2


async def test_the_servers_own_cancellation_still_reaches_the_caller() -> None:
    server, finished = Server(client_leaves=False), []
    task = asyncio.create_task(
        StopOnDisconnect(handler(10, finished))(SCOPE, server.receive, server.send)
    )
    await asyncio.sleep(WATCH_AFTER * 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert server.received == 2  # it was watching
    assert finished == []
