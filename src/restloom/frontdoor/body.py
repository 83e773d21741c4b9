"""A cap on request bodies, enforced before the body is read whole.

A declared `Content-Length` over the cap is refused before a byte of the body is
read; a chunked body is counted while it streams in, and refused as soon as it
passes the cap. Either way the answer is 413 with a JSON error, and the connection
is closed (the rest of the body is never read).
"""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from restloom.frontdoor.errors import error_body
from restloom.frontdoor.negotiate import APPLICATION_JSON, response_media_type
from restloom.frontdoor.request_id import request_id_of


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = declared_length(scope)
        if declared == -1:
            await self._refuse(scope, send, 400, "Content-Length is not a number")
            return
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, send, 413, self._too_large())
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge:
            if started:  # pragma: no cover - the body is read before any answer starts
                raise
            await self._refuse(scope, send, 413, self._too_large())

    def _too_large(self) -> str:
        return f"The request body is larger than {self.max_bytes} bytes"

    async def _refuse(self, scope: Scope, send: Send, status: int, message: str) -> None:
        connection = HTTPConnection(scope)
        request_id = request_id_of(connection)
        extensions = {"limit": self.max_bytes} if status == 413 else {}
        body = error_body(status, message, requestId=request_id, **extensions)
        # Before routing, so for any path: the client's named preference, else plain JSON.
        accept = connection.headers.get("accept")
        media_type = (response_media_type(accept) if accept else None) or APPLICATION_JSON
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", f"{media_type}; charset=utf-8".encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"x-request-id", request_id.encode()),
                    # The rest of the body is never read: this connection cannot be reused.
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def declared_length(scope: Scope) -> int | None:
    """The declared length; None when absent; -1 when it is not a number."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return length_value(value)
    return None


def length_value(value: bytes) -> int:
    """A `Content-Length` header's value as a number; -1 when it is not one."""
    text = value.strip()
    return int(text) if text.isdigit() and len(text) < 20 else -1
