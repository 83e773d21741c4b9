"""A client that leaves stops its work: cancel an HTTP request's handler on disconnect.

ASGI servers report a closed connection only as an `http.disconnect` message from
`receive()`, and only to whoever calls it; a GraphQL handler that has read its body
never calls it again, so without this its resolvers would go on calling the upstream
for nobody. `StopOnDisconnect` runs the handler and, once the request body has been
read and the handler has taken longer than `WATCH_AFTER`, listens on `receive()`
itself: a disconnect before the response is complete cancels the handler, and with
it every upstream call in flight (aiohttp closes their connections) and every one not
yet started.

Most answers take a few milliseconds (a cache hit, a cached page): a watcher task for
each of them cost 6-9% of an executed query's CPU (README, "Serving"), and stopping
such work early saves nothing. A client that left during that time is noticed as soon
as the watch starts.
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
# Seconds a handler runs, its body read, before its connection is watched.
WATCH_AFTER = 0.05


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
    """One HTTP request: its handler (run in the server's task) and the watcher that
    may cancel it.

    Until the body has been read the app reads it from the server as usual (so body
    limits keep their back-pressure); once the watcher starts it is the only reader and
    hands the app what it reads. A request without a body may be watched from the start.
    """

    def __init__(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        self.app = app
        self.scope = scope
        self._receive = receive
        self._send = send
        self.body_read = not _has_body(scope)
        self.disconnected = False
        self.responded = False
        self._handed: asyncio.Queue[Message] | None = None  # once the watcher reads
        self._task: asyncio.Task[Any] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._cancelled_here = False

    async def run(self) -> None:
        self._task = asyncio.current_task()
        if self.body_read:
            self._watch_later()
        try:
            await self.app(self.scope, self.receive, self.send)
        except asyncio.CancelledError:
            # Ours is taken back; if the server cancelled too (shutdown), pass it on.
            if not self._cancelled_here or _uncancel(self._task) > 0:
                raise
            log.info("client disconnected: request cancelled (%s)", self.scope.get("path"))
        finally:
            if self._timer is not None:
                self._timer.cancel()
            if self._watcher is not None:
                self._watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._watcher

    async def receive(self) -> Message:
        """The app's `receive`: the body as it comes; after it, what the watcher saw."""
        if self._handed is None:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                self.disconnected = True
            elif not message.get("more_body", False) and not self.body_read:
                self.body_read = True
                self._watch_later()
            return message
        if self.disconnected and self._handed.empty():
            return dict(DISCONNECT)
        return await self._handed.get()

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            self.responded = True
        await self._send(message)

    def _watch_later(self) -> None:
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(WATCH_AFTER, self._start_watching)

    def _start_watching(self) -> None:
        if self.responded or self.disconnected:
            return
        self._handed = asyncio.Queue()
        self._watcher = asyncio.get_running_loop().create_task(self._watch(self._handed))

    async def _watch(self, handed: asyncio.Queue[Message]) -> None:
        while True:
            message = await self._receive()
            handed.put_nowait(message)
            if message["type"] == "http.disconnect":
                self.disconnected = True
                if not self.responded and self._task is not None:
                    self._cancelled_here = True
                    self._task.cancel()
                return


def _has_body(scope: Scope) -> bool:
    for name, value in scope.get("headers") or ():
        if name == b"transfer-encoding":
            return True
        if name == b"content-length" and value.strip() != b"0":
            return True
    return False


def _uncancel(task: asyncio.Task[Any] | None) -> int:
    """Withdraw one cancel request of `task`; the number still pending."""
    return task.uncancel() if task is not None else 0
