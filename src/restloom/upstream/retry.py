"""When and how long to wait before trying an upstream call again."""

from __future__ import annotations

import random

from restloom.upstream.errors import FailureKind, UpstreamError

# Failures after which the upstream may or may not have done the work.
_IN_DOUBT = (FailureKind.TIMEOUT, FailureKind.UNAVAILABLE)


def write_is_retryable(error: UpstreamError, idempotency_key: str | None) -> bool:
    """A write is repeated only when a key makes a repeat harmless (the upstream replays)."""
    return idempotency_key is not None and error.kind in _IN_DOUBT


def backoff(attempt: int, base: float = 0.05, cap: float = 2.0) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(cap, base * 2**attempt)]."""
    return random.uniform(0, min(cap, base * 2**attempt))
