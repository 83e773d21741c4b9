"""When and how long to wait before trying an upstream call again."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime

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


def max_read_attempts(read_retries: int) -> int:
    """The most calls one GET may send (`ReadRetries`): the first, up to `read_retries`
    repeats after failures, and one more after a 429 it waited out."""
    return 1 + read_retries + 1


def read_is_retryable(error: UpstreamError) -> bool:
    if error.kind in _IN_DOUBT:
        return True
    return error.kind is FailureKind.HTTP and error.status in _RETRYABLE_STATUSES


# Answers restloom refused to read (a 303 after a POST, a 201 with HTML): the upstream
# may well have done the work before answering that way.
_REFUSED_ANSWERS = (FailureKind.REDIRECT, FailureKind.TOO_LARGE, FailureKind.INVALID_RESPONSE)


def may_have_committed(error: UpstreamError) -> bool:
    """Whether a failed write may still have changed upstream data (so caches must forget)."""
    if error.kind in _IN_DOUBT or error.kind in _REFUSED_ANSWERS:
        return True
    return error.kind is FailureKind.HTTP and (error.status or 0) >= 500


def is_upstream_failure(error: UpstreamError) -> bool:
    """What counts against the circuit breaker: the upstream, or the way to it, is down.

    Only a timeout, a broken connection or a 502/503/504 (a proxy or gateway in front
    of the upstream failing, or the upstream saying it is overloaded). An answer, any
    answer, proves the upstream is up: a 500 or a 4xx is about the request that drew
    it, which one caller chooses (a bad id, a forged cursor), and so is a body restloom
    refuses (not JSON, too large, a redirect). Counting those would let one caller open
    the breaker for everyone.
    """
    if error.kind in _IN_DOUBT:
        return True
    return error.kind is FailureKind.HTTP and error.status in _RETRYABLE_STATUSES


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


# Delta-seconds (RFC 9110 10.2.3): ASCII digits only; no sign, exponent, "inf" or "nan".
_DELTA_SECONDS = re.compile(r"[0-9]{1,12}")
# Anything larger in X-RateLimit-Reset is a Unix time, not a number of seconds to wait.
_UNIX_TIME_2001 = 1_000_000_000


def retry_after(headers: Mapping[str, str], cap: float, now: float | None = None) -> float | None:
    """Seconds a 429/503 asks us to wait, at most `cap`; None when no header says so.

    `Retry-After` is delta-seconds or an HTTP date; `X-RateLimit-Reset` (seeds 003/004)
    is a Unix time or, from some upstreams, seconds from now. Any other spelling is
    ignored rather than guessed at: an upstream must not be able to park a credential
    for a day, or hand us `inf`.
    """
    clock = time.time() if now is None else now
    named = {k.lower(): v for k, v in headers.items()}
    seconds = _retry_after_value(named.get("retry-after"), clock)
    if seconds is None:
        seconds = _reset_value(named.get("x-ratelimit-reset"), clock)
    return None if seconds is None else min(seconds, cap)


def _retry_after_value(value: str | None, now: float) -> float | None:
    if value is None:
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        return float(int(value))
    if len(value) > 64 or not any(c.isalpha() for c in value):
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # "-0000" and asctime dates: UTC by RFC 9110
    return max(0.0, when.timestamp() - now)


def _reset_value(value: str | None, now: float) -> float | None:
    if value is None or not _DELTA_SECONDS.fullmatch(value.strip()):
        return None
    seconds = int(value.strip())
    return max(0.0, seconds - now) if seconds > _UNIX_TIME_2001 else float(seconds)
