"""A transparent HTTP proxy on loopback that records every request it passes on.

Between the gateway and its upstream (the sim, a framework), it shows exactly what
the gateway sent (query strings, headers such as `traceparent`) and how many
requests, while the upstream still does the answering.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from tests.loopback import Listener

# Hop-by-hop headers, and those aiohttp sets itself for the body it sends. The
# request's content-encoding goes too: aiohttp's server has already decoded its body.
_DROPPED = {
    "host",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "content-encoding",
}


@dataclass(frozen=True)
class Seen:
    method: str
    path: str  # without the query string
    query: tuple[tuple[str, str], ...]
    headers: CIMultiDict[str]  # as the gateway sent them

    @property
    def content_type(self) -> str | None:
        return self.headers.get("Content-Type")

    @property
    def credential(self) -> bool:
        """Whether any Authorization or X-API-Key header came along."""
        return "Authorization" in self.headers or "X-API-Key" in self.headers


class RecordingProxy(Listener):
    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target  # the upstream's origin, e.g. http://127.0.0.1:PORT
        self.seen: list[Seen] = []
        self._session: aiohttp.ClientSession | None = None
        self.app.router.add_route("*", "/{tail:.*}", self._forward)

    async def __aenter__(self) -> RecordingProxy:
        # Bodies pass through as they are: the gateway decodes what the upstream encoded.
        self._session = aiohttp.ClientSession(auto_decompress=False)
        return await super().__aenter__()

    async def __aexit__(self, *exc: object) -> None:
        await super().__aexit__(*exc)
        assert self._session is not None
        await self._session.close()

    def reset(self) -> None:
        self.seen.clear()

    def requests(self, method: str | None = None) -> list[Seen]:
        return [s for s in self.seen if method is None or s.method == method]

    def api_requests(self) -> list[Seen]:
        """What reached the sim's API, without its /__sim control endpoints."""
        return [s for s in self.seen if not s.path.startswith("/__sim")]

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        self.seen.append(
            Seen(
                request.method,
                request.path,
                tuple(request.query.items()),
                CIMultiDict(request.headers),
            )
        )
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _DROPPED}
        async with self._session.request(
            request.method,
            self.target + request.path_qs,
            headers=headers,
            data=body or None,
            allow_redirects=False,
        ) as upstream:
            payload = await upstream.read()
            reply_headers = {
                k: v
                for k, v in upstream.headers.items()
                if k.lower() not in _DROPPED or k.lower() == "content-encoding"
            }
            return web.Response(status=upstream.status, body=payload, headers=reply_headers)
