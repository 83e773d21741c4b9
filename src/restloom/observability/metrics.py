"""Prometheus metrics, one `CollectorRegistry` per app (several apps in one process stay apart).

Every label value is bounded: operation names are caller input, so only names
that look like GraphQL names, at most `MAX_OPERATION_NAME` characters, and only
the first `max_operations` distinct ones get their own series (the rest are
`(other)`); upstream calls are labelled by route template and status, never by
path. The breaker's state is read when Prometheus scrapes, not tracked.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from restloom.upstream.breaker import BreakerState, BreakerStatus

ANONYMOUS = "(anonymous)"
OTHER = "(other)"
MAX_OPERATION_NAME = 64
DEFAULT_MAX_OPERATIONS = 100

_GRAPHQL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Seconds. A GraphQL request is bounded by request_deadline (30 s by default).
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
UPSTREAM_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class OperationNames:
    """Caller-chosen operation names -> a bounded set of label values."""

    def __init__(self, limit: int = DEFAULT_MAX_OPERATIONS) -> None:
        self.limit = limit
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def label(self, name: str | None) -> str:
        if not name:
            return ANONYMOUS
        if len(name) > MAX_OPERATION_NAME or not _GRAPHQL_NAME.match(name):
            return OTHER
        if name in self._seen:
            return name
        with self._lock:
            if len(self._seen) >= self.limit:
                return OTHER
            self._seen.add(name)
        return name


class BreakerCollector(Collector):
    """The circuit breaker's state at scrape time: 1 on the current state, 0 on the others."""

    def __init__(self, status: Callable[[], BreakerStatus | None]) -> None:
        self._status = status

    def collect(self) -> Iterator[Metric]:
        status = self._status()
        if status is None:  # before the lifespan opened the upstream client
            return
        state = GaugeMetricFamily(
            "restloom_upstream_breaker_state",
            "Circuit breaker state of the upstream (1 = current): closed, open, half_open.",
            labels=["state"],
        )
        for each in BreakerState:
            state.add_metric([each.value], 1.0 if status.state is each else 0.0)
        yield state
        yield GaugeMetricFamily(
            "restloom_upstream_breaker_consecutive_failures",
            "Consecutive upstream failures the breaker has counted.",
            value=status.consecutive_failures,
        )


class GatewayMetrics:
    def __init__(self, max_operations: int = DEFAULT_MAX_OPERATIONS) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.operation_names = OperationNames(max_operations)
        registry = self.registry
        self.requests = Counter(
            "restloom_graphql_requests",
            "GraphQL operations by operation name and outcome (ok, partial, error).",
            ["operation", "outcome"],
            registry=registry,
        )
        self.request_seconds = Histogram(
            "restloom_graphql_request_duration_seconds",
            "Time from parsing to the result of a GraphQL operation.",
            ["operation"],
            buckets=REQUEST_BUCKETS,
            registry=registry,
        )
        self.upstream_calls = Counter(
            "restloom_upstream_calls",
            "Calls sent to the upstream by method, route template and status "
            "(the HTTP status, or a failure kind such as timeout or unavailable).",
            ["method", "route", "status"],
            registry=registry,
        )
        self.upstream_seconds = Histogram(
            "restloom_upstream_call_duration_seconds",
            "Duration of one upstream call, body read included.",
            ["method", "route"],
            buckets=UPSTREAM_BUCKETS,
            registry=registry,
        )
        self.retries = Counter(
            "restloom_upstream_retries",
            "Upstream calls that were repeats of a failed or rate-limited call.",
            ["method", "route"],
            registry=registry,
        )
        self.cache_hits = Counter(
            "restloom_cache_hits",
            "Upstream responses and records served from the cross-request cache.",
            registry=registry,
        )
        self.cache_misses = Counter(
            "restloom_cache_misses",
            "GETs sent to the upstream on routes with a cache TTL (approximate: reads "
            "that bypass the cache before a write count too).",
            registry=registry,
        )
        self.budget_waits = Counter(
            "restloom_rate_budget_waits",
            "Upstream calls that waited for a slot in the rate budget.",
            registry=registry,
        )
        self.budget_wait_seconds = Counter(
            "restloom_rate_budget_wait_seconds",
            "Seconds upstream calls spent waiting for a slot in the rate budget.",
            registry=registry,
        )
        self.budget_refusals = Counter(
            "restloom_rate_budget_refusals",
            "Upstream calls not sent: no slot in the rate budget before the deadline.",
            registry=registry,
        )
        self.budget_hold_offs = Counter(
            "restloom_rate_budget_hold_offs",
            "Upstream 429 answers that paused every call on that credential.",
            registry=registry,
        )
        self._breaker: Callable[[], BreakerStatus | None] = lambda: None
        registry.register(BreakerCollector(lambda: self._breaker()))

    def watch_breaker(self, status: Callable[[], BreakerStatus]) -> None:
        self._breaker = status

    def exposition(self) -> bytes:
        """The Prometheus text format (version 0.0.4) of everything in this registry."""
        return generate_latest(self.registry)
