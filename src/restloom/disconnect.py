"""A client that leaves stops its work: cancel an HTTP request's handler on disconnect.

ASGI servers report a closed connection only as an `http.disconnect` message from
`receive()`, and only to whoever calls it; a GraphQL handler that has read its body
never calls it again, so without this its resolvers would go on calling the upstream
for nobody. `StopOnDisconnect` runs the handler as a task and, once the request body
has been read, listens on `receive()` itself: a disconnect before the response is
complete cancels the task, and with it every upstream call in flight (aiohttp closes
their connections) and every one not yet started.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

log = logging.getLogger("restloom.disconnect")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DISCONNECT: Message = {"type": "http.disconnect"}


class StopOnDisconnect:
    """ASGI wrapper: cancel the wrapped app's work when its HTTP client goes away."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await _Watched(self.app, scope, receive, send).run()


class _Watched:
    """One HTTP request: the handler task, and the watcher that may cancel it.

    Until the body has been read the app reads it from the server as usual (so body
    limits keep their back-pressure); from then on the watcher is the only reader and
    hands the app what it reads. A request without a body is watched from the start.
    """

    def __init__(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        self.app = app
        self.scope = scope
        self._receive = receive
        self._send = send
        self.watching = asyncio.Event()
        if not _has_body(scope):
            self.watching.set()
        self.disconnected = False
        self.responded = False
        self._handed: asyncio.Queue[Message] = asyncio.Queue()

    async def run(self) -> None:
        handler = asyncio.create_task(self.app(self.scope, self.receive, self.send))
        watcher = asyncio.create_task(self._watch(handler))
        try:
            await handler
        except asyncio.CancelledError:
            if not self.disconnected or _cancelling(asyncio.current_task()):
                raise  # the server itself is cancelling us (shutdown): pass it on
            log.info("client disconnected: request cancelled (%s)", self.scope.get("path"))
        finally:
            watcher.cancel()
            handler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    async def receive(self) -> Message:
        """The app's `receive`: the body as it comes; after it, what the watcher saw."""
        if not self.watching.is_set():
            message = await self._receive()
            if message["type"] == "http.disconnect":
                self.disconnected = True
            elif not message.get("more_body", False):
                self.watching.set()
            return message
        if self.disconnected and self._handed.empty():
            return dict(DISCONNECT)
        return await self._handed.get()

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            self.responded = True
        await self._send(message)

    async def _watch(self, handler: asyncio.Task[None]) -> None:
        await self.watching.wait()
        while not handler.done():
            message = await self._receive()
            self._handed.put_nowait(message)
            if message["type"] == "http.disconnect":
                self.disconnected = True
                if not self.responded:
                    handler.cancel()
                return


def _has_body(scope: Scope) -> bool:
    headers = dict(scope.get("headers") or ())
    length = headers.get(b"content-length")
    return b"transfer-encoding" in headers or (length is not None and length.strip() != b"0")


def _cancelling(task: asyncio.Task[Any] | None) -> bool:
    return task is not None and task.cancelling() > 0
