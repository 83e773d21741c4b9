"""Request counters for ``GET /__sim/stats``: how many API requests the gateway made.

A request is counted when it arrives (before latency, faults or auth), so 401s, 404s
and 429s are included; its status is counted when it is answered.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Stats:
    requests: int = 0
    by_path: Counter[str] = field(default_factory=Counter)
    by_route: Counter[str] = field(default_factory=Counter)
    by_credential: Counter[str] = field(default_factory=Counter)
    status: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0
    # Injected faults by mode (drop, drop_after_commit, error500, timeout, ...).
    faults: Counter[str] = field(default_factory=Counter)
    # Masked credential -> monotonic arrival times, to check spend per window.
    times: dict[str, list[float]] = field(default_factory=dict)

    def arrive(self, method: str, path: str, route: str, credential: str, now: float) -> None:
        self.requests += 1
        self.by_path[f"{method} {path}"] += 1
        self.by_route[f"{method} {route}"] += 1
        self.by_credential[credential] += 1
        self.times.setdefault(credential, []).append(now)

    def answered(self, status: int) -> None:
        self.status[str(status)] += 1
        if status == 429:
            self.rate_limited += 1

    def fault(self, mode: str) -> None:
        self.faults[mode] += 1

    def reset(self) -> None:
        fresh = Stats()
        self.__dict__.update(fresh.__dict__)

    def snapshot(self, *, times: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "requests": self.requests,
            "by_path": dict(sorted(self.by_path.items())),
            "by_route": dict(sorted(self.by_route.items())),
            "by_credential": dict(sorted(self.by_credential.items())),
            "status": dict(sorted(self.status.items())),
            "rate_limited": self.rate_limited,
            "faults": dict(sorted(self.faults.items())),
        }
        if times:
            out["times"] = {k: list(v) for k, v in sorted(self.times.items())}
        return out
