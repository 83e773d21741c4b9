"""A transparent HTTP proxy on loopback that records every request it passes on.

Between the gateway and a framework, it is how the tests count upstream
requests (and see their query strings) without touching the framework.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

# Hop-by-hop headers, and those aiohttp sets itself for the body it sends.
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
    content_type: str | None
    credential: bool  # whether any Authorization or X-API-Key header came along


@dataclass
class CountingProxy:
    target: str  # origin of the framework, e.g. http://127.0.0.1:PORT
    seen: list[Seen] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None
    _session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> CountingProxy:
        self._session = aiohttp.ClientSession(auto_decompress=False)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None and self._session is not None
        await self._runner.cleanup()
        await self._session.close()

    def reset(self) -> None:
        self.seen.clear()

    def requests(self, method: str | None = None) -> list[Seen]:
        return [s for s in self.seen if method is None or s.method == method]

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        self.seen.append(
            Seen(
                request.method,
                request.path,
                tuple(request.query.items()),
                request.headers.get("Content-Type"),
                "Authorization" in request.headers or "X-API-Key" in request.headers,
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
