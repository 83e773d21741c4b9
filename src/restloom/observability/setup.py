"""Building one app's observer and its routes from settings (what `create_app` calls)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from restloom.config import Settings
from restloom.observability.endpoint import metrics_route
from restloom.observability.metrics import GatewayMetrics
from restloom.observability.observer import Observer
from restloom.upstream.profile import Profile


def build_observer(settings: Settings, profile: Profile) -> Observer:
    """Logs always; metrics with `metrics`; spans with `tracing`. A registry per app."""
    metrics = GatewayMetrics(settings.max_metric_operations) if settings.metrics else None
    return Observer(profile, metrics=metrics, tracing=settings.tracing)


def observability_routes(observer: Observer, settings: Settings) -> list[BaseRoute]:
    """`/metrics` when metrics are on; without them the path is a plain 404."""
    if observer.metrics is None:
        return []
    return [metrics_route(observer.metrics, settings.metrics_token)]
