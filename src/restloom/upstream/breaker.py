"""A circuit breaker for the upstream: stop calling it while it is down, probe to come back.

Closed: calls go through; `failures` consecutive failures open it. Open: calls
fail at once, without touching the upstream, for `cooldown` seconds. Then
half-open: the next call goes through as a probe (the others keep failing
fast); its success closes the breaker, its failure opens it for another cooldown.

What is a failure is `retry.is_upstream_failure`'s call: only a timeout, a broken
connection or a 502/503/504. Any other answer (a 404, a 429, a 500, a body
restloom refuses) comes from an upstream that is up, and is about the request
that drew it: one caller choosing requests that make the upstream answer 500
must not be able to stop everyone else's calls.

One breaker per upstream and process: each instance judges what it sees.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class Ticket:
    """Permission for one call; hand it back with `record` or `release`."""

    generation: int
    probe: bool


@dataclass(frozen=True)
class BreakerStatus:
    state: BreakerState
    consecutive_failures: int
    retry_in: float  # seconds until a probe is allowed (0 unless open)


class CircuitBreaker:
    def __init__(
        self, failures: int = 5, cooldown: float = 10.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.failures = failures
        self.cooldown = cooldown
        self._clock = clock
        self._state = BreakerState.CLOSED
        self._consecutive = 0
        self._opened_at = 0.0
        self._probing = False
        # Bumped on every state change: a call admitted under an earlier state does
        # not get to close or count against the current one.
        self._generation = 0

    def admit(self) -> Ticket | None:
        """A ticket for one call, or None: fail fast."""
        if self._state is BreakerState.OPEN and self.probe_due():
            self._state = BreakerState.HALF_OPEN
        if self._state is BreakerState.CLOSED:
            return Ticket(self._generation, probe=False)
        if self._state is BreakerState.HALF_OPEN and not self._probing:
            self._probing = True
            return Ticket(self._generation, probe=True)
        return None

    def record(self, ticket: Ticket, ok: bool) -> None:
        if ticket.probe:
            self._probing = False
            if ok:
                self._close()
            else:
                self._open()
            return
        if ticket.generation != self._generation or self._state is not BreakerState.CLOSED:
            return
        if ok:
            self._consecutive = 0
            return
        self._consecutive += 1
        if self._consecutive >= self.failures:
            self._open()

    def release(self, ticket: Ticket) -> None:
        """The call was never made, or was cancelled: it proves nothing either way."""
        if ticket.probe:
            self._probing = False

    def probe_due(self) -> bool:
        return (
            self._state is not BreakerState.CLOSED
            and self._clock() >= self._opened_at + self.cooldown
        )

    def status(self) -> BreakerStatus:
        retry_in = 0.0
        if self._state is BreakerState.OPEN:
            retry_in = max(0.0, self._opened_at + self.cooldown - self._clock())
        return BreakerStatus(self._state, self._consecutive, retry_in)

    def _open(self) -> None:
        self._state = BreakerState.OPEN
        self._opened_at = self._clock()
        self._generation += 1

    def _close(self) -> None:
        self._state = BreakerState.CLOSED
        self._consecutive = 0
        self._generation += 1
