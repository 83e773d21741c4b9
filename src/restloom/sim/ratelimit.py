"""Per-credential rate limit with a *sliding window log*.

A request is allowed when fewer than ``limit`` requests of the same credential were
allowed in the last ``window`` seconds. Rejected (429) requests do not spend budget.
``reset_after`` is when the oldest request in the window leaves it, i.e. when one
more request becomes possible.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    # Seconds until one more request is allowed (0 when some budget is left).
    reset_after: float

    @property
    def retry_after(self) -> int:
        return max(1, math.ceil(self.reset_after))


@dataclass
class SlidingWindowLimiter:
    limit: int  # 0 = unlimited
    window: float
    _log: dict[str, deque[float]] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def configure(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window

    def hit(self, key: str, now: float) -> Decision:
        log = self._log.setdefault(key, deque())
        while log and log[0] <= now - self.window:
            log.popleft()
        allowed = len(log) < self.limit
        if allowed:
            log.append(now)
        remaining = max(0, self.limit - len(log))
        reset_after = (log[0] + self.window - now) if log else 0.0
        return Decision(allowed, self.limit, remaining, max(0.0, reset_after))

    def reset(self) -> None:
        self._log.clear()
