"""OpenTelemetry: restloom's tracer, the caller's trace context, and an exporter for `serve`.

restloom only uses the OpenTelemetry API: spans go to whatever `TracerProvider` the
process installed (tests install an in-memory one; `restloom serve` with `tracing`
on installs the SDK with an OTLP/HTTP exporter unless one is already there). With
no provider the API's spans are no-ops and cost next to nothing.
"""

from __future__ import annotations

import importlib.metadata
import logging
from collections.abc import Mapping

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

log = logging.getLogger("restloom.tracing")

TRACER_NAME = "restloom"

# Incoming: the caller's W3C traceparent only (strictly parsed), not its tracestate or
# baggage: baggage would ride along to the upstream.
_INCOMING = TraceContextTextMapPropagator()
MAX_TRACEPARENT = 128  # version 00 is 55 characters


def _version() -> str:
    try:
        return importlib.metadata.version("restloom")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def get_tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME, _version())


def caller_context(headers: Mapping[str, str] | None) -> Context | None:
    """The trace the caller's `traceparent` continues, or None (a new trace)."""
    if headers is None:
        return None
    traceparent = headers.get("traceparent")
    # The propagator logs a warning for an oversized header: a caller could flood the log.
    if traceparent is None or len(traceparent) > MAX_TRACEPARENT:
        return None
    # Not the caller's tracestate: OpenTelemetry logs each bad entry of it, text and all.
    return _INCOMING.extract({"traceparent": traceparent})


def install_otlp_exporter() -> bool:
    """Send spans over OTLP/HTTP, unless the process already has an SDK TracerProvider.

    The exporter follows the standard variables (OTEL_EXPORTER_OTLP_ENDPOINT, default
    http://localhost:4318; OTEL_EXPORTER_OTLP_HEADERS; OTEL_SERVICE_NAME, default
    "restloom"). True when this call installed the provider.
    """
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return False  # e.g. opentelemetry-instrument set one up: use it
    resource = Resource.create()  # OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: "restloom"}))
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    log.info("tracing: spans go to the OTLP/HTTP exporter (OTEL_EXPORTER_OTLP_* settings)")
    return True
