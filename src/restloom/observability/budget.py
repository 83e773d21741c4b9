"""The rate budget, counted: waits for a slot, refusals, and 429 hold-offs, for /metrics."""

from __future__ import annotations

from dataclasses import dataclass

from restloom.observability.metrics import GatewayMetrics
from restloom.upstream.ratelimit import RateBudget, Turn


@dataclass
class CountedBudget:
    """A `RateBudget` that behaves exactly like `inner` and counts what it decided."""

    inner: RateBudget
    metrics: GatewayMetrics

    async def reserve(self, key: str, max_wait: float) -> Turn:
        turn = await self.inner.reserve(key, max_wait)
        if not turn.granted:
            self.metrics.budget_refusals.inc()
        elif turn.wait > 0:
            self.metrics.budget_waits.inc()
            self.metrics.budget_wait_seconds.inc(turn.wait)
        return turn

    async def hold_off(self, key: str, seconds: float) -> None:
        self.metrics.budget_hold_offs.inc()
        await self.inner.hold_off(key, seconds)

    async def close(self) -> None:
        await self.inner.close()
