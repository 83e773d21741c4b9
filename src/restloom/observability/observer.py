"""One app's observer: log lines, metrics and spans for GraphQL operations and upstream calls.

Upstream calls arrive through the `CallObserver` hook in `UpstreamClient.send`;
operations through `OperationObserver` (restloom.graphql.observe). An upstream
call's span is a child of the operation's because the operation span is the
current span (a context variable) while its resolvers run.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from logging import DEBUG
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from restloom.observability.budget import CountedBudget
from restloom.observability.logs import log_event
from restloom.observability.metrics import GatewayMetrics
from restloom.observability.routes import route_for
from restloom.observability.tracing import caller_context, get_tracer
from restloom.upstream.targets import Target, locate

if TYPE_CHECKING:
    from restloom.upstream.client import UpstreamClient
    from restloom.upstream.profile import Profile

request_log = logging.getLogger("restloom.requests")
call_log = logging.getLogger("restloom.upstream.calls")

MAX_LOGGED_PATH = 256
MAX_LOGGED_NAME = 128
_LOG_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,39}$")
MAX_CODES = 5


def status_label(status: int | None, failure: str | None) -> str:
    """ "200", "404", or the failure kind when no HTTP answer explains it ("timeout")."""
    if status is not None and failure in (None, "http"):
        return str(status)
    return failure or "unknown"


def logged_name(name: str | None) -> str | None:
    """An operation name safe to print: a GraphQL name of sane length, else "(invalid)"."""
    if name is None:
        return None
    return name if len(name) <= MAX_LOGGED_NAME and _LOG_NAME.match(name) else "(invalid)"


def error_codes(errors: Sequence[Any]) -> list[str]:
    codes = set()
    for error in errors:
        code = (getattr(error, "extensions", None) or {}).get("code")
        if isinstance(code, str) and _CODE.match(code):
            codes.add(code)
    return sorted(codes)[:MAX_CODES]


@dataclass(frozen=True)
class OperationEnd:
    """What the GraphQL layer knows when an operation ends."""

    name: str | None
    type: str | None  # query, mutation, subscription; None when the document did not parse
    outcome: str  # ok, partial, error
    errors: Sequence[Any]
    upstream_calls: int
    cache_hits: int
    retries: int
    coalesced: int


class Observer:
    def __init__(
        self, profile: Profile, *, metrics: GatewayMetrics | None = None, tracing: bool = False
    ) -> None:
        self.profile = profile
        self.metrics = metrics
        self.tracer = get_tracer() if tracing else None
        # The cache policy's ttl(collection), once attached to a client with a cache.
        self._cache_ttl: Callable[[str], float] | None = None

    def attach(self, client: UpstreamClient) -> None:
        """Watch `client`'s calls, its breaker and its rate budget."""
        client.observer = self
        policy = getattr(client.cache, "policy", None)
        self._cache_ttl = getattr(policy, "ttl", None)
        if self.metrics is not None:
            self.metrics.watch_breaker(client.breaker.status)
            if client.budget is not None and not isinstance(client.budget, CountedBudget):
                client.budget = CountedBudget(client.budget, self.metrics)

    # Upstream calls (the CallObserver protocol).

    def start(self, request_id: str, method: str, path: str, attempt: int) -> CallWatch | IdleWatch:
        if self.metrics is None and self.tracer is None and not call_log.isEnabledFor(DEBUG):
            return IDLE  # nothing wants the call: skip locating its route (~8 µs)
        target = locate(self.profile, path)
        route = route_for(self.profile, target)
        cacheable = method == "GET" and self._cached(target)
        watch = CallWatch(self, request_id, method, path, route, attempt, cacheable)
        if self.tracer is not None:
            watch.span = self.tracer.start_span(
                f"{method} {route}",
                kind=SpanKind.CLIENT,
                attributes={
                    "http.request.method": method,
                    "url.template": route,
                    "restloom.attempt": attempt,
                    "restloom.request_id": request_id,
                },
            )
            carrier: dict[str, str] = {}
            propagate.inject(carrier, context=trace.set_span_in_context(watch.span))
            watch.headers = carrier
        return watch

    def _cached(self, target: Target | None) -> bool:
        """Whether reads of `target` are kept in the cache (its TTL > 0)."""
        if self._cache_ttl is None or target is None:
            return False
        return self._cache_ttl(target.collection) > 0

    # GraphQL operations (restloom.graphql.observe).

    def watches_operations(self) -> bool:
        """Whether anything wants operations: their log line, metrics or a span."""
        wanted = self.metrics is not None or self.tracer is not None
        return wanted or request_log.isEnabledFor(logging.INFO)

    def begin(self, request_id: str, headers: Mapping[str, str] | None) -> OperationWatch:
        watch = OperationWatch(self, request_id)
        if self.tracer is not None:
            parent = caller_context(headers)
            watch.span = self.tracer.start_span("graphql", context=parent, kind=SpanKind.SERVER)
            # Current while resolvers run, so upstream call spans become its children.
            watch.token = otel_context.attach(trace.set_span_in_context(watch.span, parent))
        return watch


class IdleWatch:
    """A call nobody is watching."""

    headers: Mapping[str, str] = MappingProxyType({})

    def finish(self, status: int | None, failure: str | None) -> None:
        return None


IDLE = IdleWatch()


@dataclass
class CallWatch:
    observer: Observer
    request_id: str
    method: str
    path: str
    route: str
    attempt: int
    cacheable: bool  # a GET on a route with a cache TTL: sent, so the cache missed
    started: float = field(default_factory=time.perf_counter)
    headers: Mapping[str, str] = field(default_factory=dict)
    span: Span | None = None

    def finish(self, status: int | None, failure: str | None) -> None:
        seconds = time.perf_counter() - self.started
        label = status_label(status, failure)
        cacheable = self.cacheable
        metrics = self.observer.metrics
        if metrics is not None:
            metrics.upstream_calls.labels(self.method, self.route, label).inc()
            metrics.upstream_seconds.labels(self.method, self.route).observe(seconds)
            if self.attempt > 1:
                metrics.retries.labels(self.method, self.route).inc()
            if cacheable and self.attempt == 1:  # a retry is the same miss again
                metrics.cache_misses.inc()
        if self.span is not None:
            self._end_span(status, failure)
        log_event(
            call_log,
            logging.DEBUG,
            "upstream call",
            method=self.method,
            route=self.route,
            path=self.path[:MAX_LOGGED_PATH],
            status=label,
            ms=round(seconds * 1000, 1),
            attempt=self.attempt,
            cache="miss" if cacheable else "none",
            request_id=self.request_id,
        )

    def _end_span(self, status: int | None, failure: str | None) -> None:
        assert self.span is not None
        if status is not None:
            self.span.set_attribute("http.response.status_code", status)
        if failure not in (None, "http"):
            self.span.set_attribute("error.type", str(failure))
        if failure is not None or (status is not None and status >= 400):
            self.span.set_status(Status(StatusCode.ERROR))
        self.span.end()


@dataclass
class OperationWatch:
    observer: Observer
    request_id: str
    started: float = field(default_factory=time.perf_counter)
    span: Span | None = None
    token: object | None = None

    def end(self, result: OperationEnd) -> None:
        seconds = time.perf_counter() - self.started
        if self.token is not None:
            otel_context.detach(self.token)  # type: ignore[arg-type]
        metrics = self.observer.metrics
        if metrics is not None:
            operation = metrics.operation_names.label(result.name)
            metrics.requests.labels(operation, result.outcome).inc()
            metrics.request_seconds.labels(operation).observe(seconds)
            metrics.cache_hits.inc(result.cache_hits)
        trace_id = None
        if self.span is not None:
            trace_id = self._end_span(result)
        log_event(
            request_log,
            logging.INFO,
            "graphql",
            operation=logged_name(result.name),
            type=result.type,
            outcome=result.outcome,
            ms=round(seconds * 1000, 1),
            upstream_calls=result.upstream_calls,
            cache_hits=result.cache_hits,
            coalesced=result.coalesced,
            retries=result.retries,
            codes=error_codes(result.errors),
            request_id=self.request_id,
            trace_id=trace_id,
        )

    def _end_span(self, result: OperationEnd) -> str | None:
        span = self.span
        assert span is not None
        name = logged_name(result.name)
        # OpenTelemetry's GraphQL convention: "query GetContacts", or the type alone.
        span.update_name(" ".join(part for part in (result.type or "graphql", name) if part))
        if name is not None:
            span.set_attribute("graphql.operation.name", name)
        if result.type is not None:
            span.set_attribute("graphql.operation.type", result.type)
        span.set_attribute("restloom.outcome", result.outcome)
        span.set_attribute("restloom.request_id", self.request_id)
        span.set_attribute("restloom.upstream_calls", result.upstream_calls)
        if result.outcome != "ok":
            span.set_status(Status(StatusCode.ERROR, ",".join(error_codes(result.errors))))
        span.end()
        context = span.get_span_context()
        return format(context.trace_id, "032x") if context.is_valid else None
