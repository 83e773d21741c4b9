"""Spans through a real gateway over the sim: one per operation, a child per upstream call,
and the W3C `traceparent` the upstream receives (seen by a recording proxy before the sim).

The spans go to the OpenTelemetry SDK's InMemorySpanExporter on a TracerProvider this
module installs process-wide (OpenTelemetry allows one per process).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import aiohttp
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from restloom.config import Settings
from restloom.sim.server import SimServer
from tests.conftest import FULL_KEY
from tests.observability.process import ServeProcess
from tests.observability.recorder import OtlpCollector
from tests.recording_proxy import RecordingProxy
from tests.support import GatewayServer, GraphQLClient, SimStats

QUERY = "query Pair { viewer { email } contacts(first: 2) { nodes { id } } }"
TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")

_EXPORTER = InMemorySpanExporter()
_installed = False


def _install_exporter() -> None:
    global _installed
    if _installed:
        return
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(TracerProvider())
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
    _installed = True


@pytest.fixture
def spans() -> InMemorySpanExporter:
    _install_exporter()
    _EXPORTER.clear()
    return _EXPORTER


@pytest.fixture
async def proxy(sim: SimServer) -> AsyncIterator[RecordingProxy]:
    async with RecordingProxy(sim.url) as recorder:
        yield recorder


def through(proxy: RecordingProxy, sim: SimServer, settings: Settings) -> Settings:
    """`settings` with the upstream URL pointing at the proxy instead of the sim."""
    upstream = str(settings.upstream_url).replace(sim.url, proxy.url)
    return settings.model_copy(update={"upstream_url": upstream})


@pytest.fixture
async def traced(
    proxy: RecordingProxy, sim: SimServer, gateway_settings: Settings
) -> AsyncIterator[GatewayServer]:
    settings = through(proxy, sim, gateway_settings.model_copy(update={"tracing": True}))
    async with GatewayServer(settings) as server:
        yield server


def by_trace(spans: InMemorySpanExporter, trace_id: int) -> list[ReadableSpan]:
    return [s for s in spans.get_finished_spans() if s.context.trace_id == trace_id]


def operation_span(spans: InMemorySpanExporter, request_id: str) -> ReadableSpan:
    found = [
        s
        for s in spans.get_finished_spans()
        if s.kind is SpanKind.SERVER
        and (s.attributes or {}).get("restloom.request_id") == request_id
    ]
    assert len(found) == 1, found
    return found[0]


async def test_operation_span_with_a_child_per_upstream_call_and_traceparent_upstream(
    http: aiohttp.ClientSession,
    traced: GatewayServer,
    proxy: RecordingProxy,
    stats: SimStats,
    spans: InMemorySpanExporter,
) -> None:
    client = GraphQLClient(http, traced.url, {"X-API-Key": FULL_KEY})
    await stats.reset()
    proxy.reset()
    reply = await client.send(QUERY)
    assert not reply.errors
    request_id = reply.headers["X-Request-Id"]

    operation = operation_span(spans, request_id)
    assert operation.name == "query Pair"
    attributes = dict(operation.attributes or {})
    assert attributes["graphql.operation.name"] == "Pair"
    assert attributes["graphql.operation.type"] == "query"
    assert attributes["restloom.outcome"] == "ok"
    assert operation.parent is None  # the caller sent no traceparent: a new trace

    calls = [s for s in by_trace(spans, operation.context.trace_id) if s.kind is SpanKind.CLIENT]
    sent = await stats.requests()
    assert sent == 2 and len(calls) == sent
    assert attributes["restloom.upstream_calls"] == sent
    for call in calls:
        assert call.parent is not None and call.parent.span_id == operation.context.span_id
        call_attributes = dict(call.attributes or {})
        assert call_attributes["http.request.method"] == "GET"
        assert call_attributes["http.response.status_code"] == 200
        assert call.name == f"GET {call_attributes['url.template']}"
        assert call.status.status_code is not StatusCode.ERROR
    assert {dict(c.attributes or {})["url.template"] for c in calls} == {"/users/me", "/contacts"}

    # Each upstream request carried its own span as the parent for the upstream's spans.
    upstream = proxy.api_requests()
    assert len(upstream) == sent
    seen = set()
    for recorded in upstream:
        match = TRACEPARENT.match(recorded.headers.get("traceparent", ""))
        assert match is not None, recorded.headers
        assert int(match.group(1), 16) == operation.context.trace_id
        assert int(match.group(3), 16) & 1  # sampled
        seen.add(int(match.group(2), 16))
    assert seen == {c.context.span_id for c in calls}


async def test_a_callers_traceparent_is_continued(
    http: aiohttp.ClientSession,
    traced: GatewayServer,
    proxy: RecordingProxy,
    spans: InMemorySpanExporter,
) -> None:
    trace_id, parent_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    client = GraphQLClient(http, traced.url, {"X-API-Key": FULL_KEY})
    proxy.reset()
    reply = await client.send(
        "{ viewer { email } }", headers={"traceparent": f"00-{trace_id}-{parent_id}-01"}
    )
    assert not reply.errors
    operation = operation_span(spans, reply.headers["X-Request-Id"])
    assert operation.context.trace_id == int(trace_id, 16)
    assert operation.parent is not None and operation.parent.span_id == int(parent_id, 16)
    assert operation.name == "query"  # unnamed: the operation type alone
    (upstream,) = proxy.api_requests()
    assert upstream.headers["traceparent"].startswith(f"00-{trace_id}-")


async def test_a_repeat_answered_by_the_fast_lane_continues_the_callers_trace(
    http: aiohttp.ClientSession,
    proxy: RecordingProxy,
    sim: SimServer,
    spans: InMemorySpanExporter,
) -> None:
    settings = Settings(upstream_url=sim.url, tracing=True, cache_ttl=60)
    async with GatewayServer(through(proxy, sim, settings)) as server:
        client = GraphQLClient(http, server.url, {"X-API-Key": FULL_KEY})
        for parent_id in ("00f067aa0ba902b7", "00f067aa0ba902b8", "00f067aa0ba902b9"):
            trace_id = "4bf92f3577b34da6a3ce929d0e0e47" + parent_id[-2:]
            reply = await client.send(
                QUERY, headers={"traceparent": f"00-{trace_id}-{parent_id}-01"}
            )
            assert not reply.errors
            operation = operation_span(spans, reply.headers["X-Request-Id"])
            assert operation.context.trace_id == int(trace_id, 16)
            assert operation.parent is not None and operation.parent.span_id == int(parent_id, 16)
            assert operation.name == "query Pair"
        # The second from the store, the third from its prepared answer: both by the lane.
        assert server.app.state.response_cache.answered_early == 2


@pytest.mark.parametrize(
    "traceparent",
    ["00-zzzz", "00-" + "0" * 32 + "-" + "1" * 16 + "-01", "x" * 5000, "00-4bf92f35-00f0-01"],
)
async def test_a_malformed_traceparent_starts_a_new_trace(
    http: aiohttp.ClientSession,
    traced: GatewayServer,
    spans: InMemorySpanExporter,
    traceparent: str,
) -> None:
    client = GraphQLClient(http, traced.url, {"X-API-Key": FULL_KEY})
    reply = await client.send("{ viewer { email } }", headers={"traceparent": traceparent})
    assert not reply.errors
    operation = operation_span(spans, reply.headers["X-Request-Id"])
    assert operation.parent is None
    assert operation.context.is_valid


async def test_a_failed_upstream_call_is_an_error_span(
    http: aiohttp.ClientSession,
    sim: SimServer,
    proxy: RecordingProxy,
    gateway_settings: Settings,
    stats: SimStats,
    spans: InMemorySpanExporter,
) -> None:
    settings = through(
        proxy, sim, gateway_settings.model_copy(update={"tracing": True, "read_retries": 0})
    )
    async with GatewayServer(settings) as server:
        async with http.post(
            sim.url + "/__sim/faults",
            json={"mode": "error503", "count": 1, "path_prefix": "/api/v1/contacts"},
        ) as resp:
            assert resp.status == 200
        client = GraphQLClient(http, server.url, {"X-API-Key": FULL_KEY})
        reply = await client.send(QUERY)
    assert reply.codes() == ["UPSTREAM_UNAVAILABLE"]
    assert reply.data["viewer"] is not None  # the sibling survived
    operation = operation_span(spans, reply.headers["X-Request-Id"])
    assert dict(operation.attributes or {})["restloom.outcome"] == "partial"
    assert operation.status.status_code is StatusCode.ERROR
    calls = {
        dict(s.attributes or {})["url.template"]: s
        for s in by_trace(spans, operation.context.trace_id)
        if s.kind is SpanKind.CLIENT
    }
    failed = calls["/contacts"]
    assert dict(failed.attributes or {})["http.response.status_code"] == 503
    assert failed.status.status_code is StatusCode.ERROR
    assert calls["/users/me"].status.status_code is not StatusCode.ERROR


async def test_without_tracing_no_spans_and_no_traceparent(
    http: aiohttp.ClientSession,
    sim: SimServer,
    proxy: RecordingProxy,
    gateway_settings: Settings,
    spans: InMemorySpanExporter,
) -> None:
    async with GatewayServer(through(proxy, sim, gateway_settings)) as server:
        proxy.reset()  # the start-up check of the upstream
        client = GraphQLClient(http, server.url, {"X-API-Key": FULL_KEY})
        reply = await client.send(
            QUERY,
            headers={"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
        )
    assert not reply.errors
    assert spans.get_finished_spans() == ()  # none at all, start-up check included
    upstream = proxy.api_requests()
    assert len(upstream) == 2
    assert all("traceparent" not in r.headers for r in upstream)


async def test_serve_with_tracing_exports_spans_over_otlp(
    http: aiohttp.ClientSession, gateway_settings: Settings
) -> None:
    """The real CLI: `tracing` on installs the SDK with the OTLP/HTTP exporter (OTEL_* env)."""
    async with OtlpCollector() as collector:
        env = {
            "RESTLOOM_TRACING": "true",
            "RESTLOOM_CURSOR_SECRET": "test-cursor-secret",
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
            "OTEL_BSP_SCHEDULE_DELAY": "50",
        }
        async with ServeProcess(str(gateway_settings.upstream_url), env) as serve:
            client = GraphQLClient(http, serve.url, {"X-API-Key": FULL_KEY})
            assert not (await client.send(QUERY)).errors
            for _ in range(200):  # the batch processor exports on its own schedule
                if len(collector.spans) >= 3:
                    break
                await asyncio.sleep(0.05)
    assert "Traceback" not in serve.stderr, serve.stderr
    assert collector.service_names == {"restloom"}
    (operation,) = [s for s in collector.spans if s.name == "query Pair"]
    children = [s for s in collector.spans if s.parent_span_id == operation.span_id]
    assert sorted(s.name for s in children) == ["GET /contacts", "GET /users/me"]
    assert all(s.trace_id == operation.trace_id for s in children)
