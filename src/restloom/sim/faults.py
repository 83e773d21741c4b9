"""Injected failures, for testing the gateway's retries and timeouts.

``POST /__sim/faults`` arms the next N matching API requests with one mode:

- ``drop``: close the connection before doing anything.
- ``drop_after_commit``: run the request (the write happens, and its result is stored
  under its Idempotency-Key), then close the connection without answering.
- ``error500`` / ``error502`` / ``error503``: answer that status with INTERNAL_ERROR,
  without doing the work.
- ``timeout``: hold the answer for ``seconds`` (default ``SimConfig.fault_timeout``);
  if the client goes away meanwhile nothing is done, otherwise the request then runs
  normally (a slow upstream, not a failing one).

``fail_rate`` additionally fails that fraction of requests, picking among error500,
timeout and drop with its own ``random.Random`` seeded from the dataset seed.
Armed faults take precedence and are consumed in the order they were armed.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any

from restloom.sim import errors

MODES: tuple[str, ...] = (
    "drop_after_commit",
    "drop",
    "error500",
    "error502",
    "error503",
    "timeout",
)
RANDOM_MODES: tuple[str, ...] = ("error500", "timeout", "drop")


@dataclass
class Fault:
    mode: str
    count: int
    method: str | None = None
    path_prefix: str | None = None
    seconds: float | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return self.path_prefix is None or path.startswith(self.path_prefix)


@dataclass(frozen=True)
class Injection:
    mode: str
    seconds: float


def parse_fault(body: Any) -> Fault:
    """Validate a ``POST /__sim/faults`` body (errors name the offending key)."""
    if not isinstance(body, dict):
        raise errors.validation("body", "expected a JSON object")
    mode = body.get("mode")
    if mode not in MODES:
        raise errors.validation("mode", f"mode must be one of {', '.join(MODES)}")
    count = body.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise errors.validation("count", "count must be an integer >= 1")
    method = body.get("method")
    if method is not None and (not isinstance(method, str) or not method):
        raise errors.validation("method", "method must be an HTTP method")
    prefix = body.get("path_prefix")
    if prefix is not None and (not isinstance(prefix, str) or not prefix.startswith("/")):
        raise errors.validation("path_prefix", "path_prefix must start with /")
    seconds = body.get("seconds")
    if seconds is not None and (
        not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0
    ):
        raise errors.validation("seconds", "seconds must be a number >= 0")
    return Fault(
        mode=mode,
        count=count,
        method=method.upper() if method else None,
        path_prefix=prefix,
        seconds=float(seconds) if seconds is not None else None,
    )


class Faults:
    def __init__(self, fail_rate: float, seed: int, timeout: float) -> None:
        self.fail_rate = fail_rate
        self.timeout = timeout
        self._rng = random.Random(f"{seed}:faults")
        self._armed: list[Fault] = []

    def arm(self, fault: Fault) -> None:
        self._armed.append(fault)

    def clear(self) -> None:
        self._armed.clear()

    def snapshot(self) -> list[dict[str, Any]]:
        return [asdict(f) for f in self._armed]

    def take(self, method: str, path: str) -> Injection | None:
        """The fault for this request, if any (consumes one armed use)."""
        for fault in self._armed:
            if fault.matches(method, path):
                fault.count -= 1
                if fault.count <= 0:
                    self._armed.remove(fault)
                seconds = self.timeout if fault.seconds is None else fault.seconds
                return Injection(fault.mode, seconds)
        if self.fail_rate > 0 and self._rng.random() < self.fail_rate:
            return Injection(self._rng.choice(RANDOM_MODES), self.timeout)
        return None
