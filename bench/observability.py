"""The observer's own cost, per upstream call and per GraphQL operation, in microseconds.

Run by hand: `.venv/bin/python bench/observability.py`. It drives
`restloom.observability.observer.Observer` directly (no HTTP) with each combination
of settings; log lines go to /dev/null, spans to a batching exporter that drops them.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from restloom.observability.logs import configure_logging
from restloom.observability.metrics import GatewayMetrics
from restloom.observability.observer import Observer, OperationEnd
from restloom.upstream.profile import BUILTIN_PROFILES

ITERATIONS = 20_000


class Drop(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def measure(observer: Observer) -> tuple[float, float]:
    started = time.perf_counter()
    for i in range(ITERATIONS):
        observer.start("req", "GET", f"/api/v1/contacts/cnt_{i}", 1).finish(200, None)
    per_call = (time.perf_counter() - started) / ITERATIONS * 1e6
    end = OperationEnd("Few", "query", "ok", [], 1, 0, 0, 0)
    started = time.perf_counter()
    for _ in range(ITERATIONS):
        observer.begin("req", {}).end(end)
    per_operation = (time.perf_counter() - started) / ITERATIONS * 1e6
    return per_call, per_operation


def main() -> None:
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(Drop()))
    trace.set_tracer_provider(provider)
    out = sys.stdout
    sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - the log handler writes here
    profile = BUILTIN_PROFILES["mossdesk"]
    cases = [
        ("logs at warning, no metrics, no tracing", "warning", "text", False, False),
        ("text request lines at info", "info", "text", False, False),
        ("json request lines at info", "info", "json", False, False),
        ("metrics only (logs at warning)", "warning", "text", True, False),
        ("tracing only (logs at warning)", "warning", "text", False, True),
        ("json at info + metrics + tracing", "info", "json", True, True),
        ("json at debug + metrics + tracing", "debug", "json", True, True),
    ]
    for label, level, log_format, metrics, tracing in cases:
        configure_logging(level, log_format)  # type: ignore[arg-type]
        observer = Observer(profile, metrics=GatewayMetrics() if metrics else None, tracing=tracing)
        per_call, per_operation = measure(observer)
        print(
            f"{label}: {per_call:.1f} us per upstream call, {per_operation:.1f} us per operation",
            file=out,
        )
    provider.shutdown()


if __name__ == "__main__":
    main()
