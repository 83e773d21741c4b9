"""A GraphQL request's deadline: every upstream call, wait and retry of it ends by then."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Deadline:
    seconds: float  # the whole budget, for messages
    expires_at: float  # time.monotonic()

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(seconds, time.monotonic() + seconds)

    def remaining(self) -> float:
        return max(0.0, self.expires_at - time.monotonic())

    def allows(self, seconds: float) -> bool:
        """Whether waiting `seconds` still leaves some time for the call itself."""
        return seconds < self.remaining()
