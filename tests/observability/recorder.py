"""Loopback recorders: a proxy in front of the sim keeping the headers of every request it
forwards, and an OTLP/HTTP collector keeping the spans it receives.

The sim's own request log does not keep arbitrary headers; this shows exactly what
the gateway sent upstream (e.g. `traceparent`), while the sim still does the answering.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

# Hop-by-hop and recomputed headers are not forwarded.
_SKIP = {"host", "content-length", "transfer-encoding", "connection"}


@dataclass
class Recorded:
    method: str
    path: str
    headers: CIMultiDict[str]


@dataclass
class RecordingProxy:
    target: str  # the sim's origin, e.g. http://127.0.0.1:1234
    requests: list[Recorded] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None
    _session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> RecordingProxy:
        self._session = aiohttp.ClientSession(auto_decompress=False)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None and self._session is not None
        await self._runner.cleanup()
        await self._session.close()

    def api_requests(self) -> list[Recorded]:
        return [r for r in self.requests if not r.path.startswith("/__sim")]

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        self.requests.append(Recorded(request.method, request.path, CIMultiDict(request.headers)))
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _SKIP}
        async with self._session.request(
            request.method,
            self.target + request.path_qs,
            headers=headers,
            data=await request.read(),
            allow_redirects=False,
        ) as upstream:
            body = await upstream.read()
            out = {k: v for k, v in upstream.headers.items() if k.lower() not in _SKIP}
            return web.Response(status=upstream.status, body=body, headers=out)


@dataclass
class OtlpCollector:
    """An OTLP/HTTP trace receiver on loopback: keeps every span it is sent."""

    spans: list[Any] = field(default_factory=list)  # opentelemetry.proto Span messages
    service_names: set[str] = field(default_factory=set)
    url: str = ""
    _runner: web.AppRunner | None = None

    async def __aenter__(self) -> OtlpCollector:
        app = web.Application()
        app.router.add_post("/v1/traces", self._receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    async def _receive(self, request: web.Request) -> web.Response:
        message = ExportTraceServiceRequest()
        message.ParseFromString(await request.read())
        for resource_spans in message.resource_spans:
            for attribute in resource_spans.resource.attributes:
                if attribute.key == "service.name":
                    self.service_names.add(attribute.value.string_value)
            for scope_spans in resource_spans.scope_spans:
                self.spans.extend(scope_spans.spans)
        return web.Response(
            body=ExportTraceServiceResponse().SerializeToString(),
            content_type="application/x-protobuf",
        )
