"""When and how long to wait before trying an upstream call again."""

from __future__ import annotations

import random
from dataclasses import dataclass

from restloom.upstream.errors import FailureKind, UpstreamError

# Failures after which the upstream may or may not have done the work.
_IN_DOUBT = (FailureKind.TIMEOUT, FailureKind.UNAVAILABLE)


def write_is_retryable(error: UpstreamError, idempotency_key: str | None) -> bool:
    """A write is repeated only when a key makes a repeat harmless (the upstream replays)."""
    return idempotency_key is not None and error.kind in _IN_DOUBT


def backoff(attempt: int, base: float = 0.05, cap: float = 2.0) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(cap, base * 2**attempt)]."""
    return random.uniform(0, min(cap, base * 2**attempt))


# Statuses after which the same GET may well succeed: a gateway or proxy in
# between failed, or the upstream is briefly overloaded. A 500 is usually the
# upstream's bug for this request, and repeating it would only spend the budget.
_RETRYABLE_STATUSES = frozenset({502, 503, 504})

# Seconds to wait after a 429 that names no time (no Retry-After / X-RateLimit-Reset).
DEFAULT_RATE_LIMIT_WAIT = 1.0


def read_is_retryable(error: UpstreamError) -> bool:
    if error.kind in _IN_DOUBT:
        return True
    return error.kind is FailureKind.HTTP and error.status in _RETRYABLE_STATUSES


def may_have_committed(error: UpstreamError) -> bool:
    """Whether a failed write may still have changed upstream data (so caches must forget)."""
    if error.kind in _IN_DOUBT:
        return True
    return error.kind is FailureKind.HTTP and (error.status or 0) >= 500


def is_upstream_failure(error: UpstreamError) -> bool:
    """What counts against the circuit breaker: the upstream did not answer sensibly."""
    return may_have_committed(error)


@dataclass
class ReadRetries:
    """How one GET is repeated: after in-doubt failures with backoff, after a 429 once."""

    limit: int  # repeats after failures (429s aside)
    done: int = 0
    waited_out_429: bool = False

    def delay(self, error: UpstreamError, remaining: float) -> float | None:
        """Seconds to wait before the next attempt, or None to give up with `error`."""
        if error.kind is FailureKind.HTTP and error.status == 429:
            wait = DEFAULT_RATE_LIMIT_WAIT if error.retry_after is None else error.retry_after
            if self.waited_out_429 or wait >= remaining:
                return None
            self.waited_out_429 = True
            return wait
        if not read_is_retryable(error) or self.done >= self.limit:
            return None
        pause = backoff(self.done)
        if pause >= remaining:
            return None
        self.done += 1
        return pause
