"""The newest webhook delivery attempts, for ``GET /__sim/deliveries`` and tests."""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

# Attempts kept; older ones fall off (a flood of deliveries must not grow memory).
LOG_SIZE = 5000


@dataclass(frozen=True)
class Attempt:
    hook_id: Any  # the hook's id on the wire (an integer in the MOCO style)
    event_id: str
    event_type: str
    # 1 for the first try; 0 for an event dropped before any attempt.
    attempt: int
    # delivered | failed (non-2xx) | timeout | error (no HTTP answer) | dropped (queue full)
    outcome: str
    status_code: int | None
    error: str | None
    # Seconds until the next attempt; None when this one was the last.
    retry_in: float | None
    # This attempt's failure disabled the hook.
    hook_disabled: bool
    at: float  # Unix time

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class DeliveryLog:
    def __init__(self, size: int = LOG_SIZE) -> None:
        self._entries: deque[Attempt] = deque(maxlen=size)

    def add(self, attempt: Attempt) -> None:
        self._entries.append(attempt)

    def clear(self) -> None:
        self._entries.clear()

    def snapshot(self, hook_id: str | None = None, event_id: str | None = None) -> list[Any]:
        return [
            a.as_json()
            for a in self._entries
            if (hook_id is None or str(a.hook_id) == hook_id)
            and (event_id is None or a.event_id == event_id)
        ]
