"""Recent API requests, for ``GET /__sim/requests``: what reached the upstream and how.

Lets a test check headers the gateway forwarded (request id, idempotency key,
impersonation) on reads as well as writes. Only the newest ``MAX_ENTRIES`` are kept.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

MAX_ENTRIES = 2000


@dataclass
class RequestEntry:
    method: str
    path: str
    query: str
    route: str
    request_id: str
    credential: str  # masked
    idempotency_key: str | None
    impersonate_user_id: str | None
    at: float  # monotonic arrival time
    # None while in flight, or when the connection was dropped.
    status: int | None = None


@dataclass
class RequestLog:
    entries: deque[RequestEntry] = field(default_factory=lambda: deque(maxlen=MAX_ENTRIES))

    def add(self, entry: RequestEntry) -> None:
        self.entries.append(entry)

    def clear(self) -> None:
        self.entries.clear()

    def snapshot(self) -> dict[str, Any]:
        return {"requests": [asdict(e) for e in self.entries]}
