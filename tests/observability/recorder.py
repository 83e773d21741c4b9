"""An OTLP/HTTP collector on loopback keeping the spans it receives (what the gateway
sent upstream is recorded by `tests.recording_proxy`)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.loopback import Listener


class OtlpCollector(Listener):
    """An OTLP/HTTP trace receiver on loopback: keeps every span it is sent."""

    def __init__(self) -> None:
        super().__init__()
        self.spans: list[Any] = []  # opentelemetry.proto Span messages
        self.service_names: set[str] = set()
        self.app.router.add_post("/v1/traces", self._receive)

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
