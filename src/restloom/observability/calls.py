"""The hook `UpstreamClient.send` calls around each upstream call (kept tiny on purpose).

`upstream/` knows only these two protocols; what happens behind them (logs,
metrics, a client span) is `restloom.observability.observer`'s business.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class CallWatch(Protocol):
    """One upstream call being watched: headers to send with it, and its end."""

    @property
    def headers(self) -> Mapping[str, str]:
        """Extra headers for the call, e.g. the W3C `traceparent`; may be empty."""
        ...

    def finish(self, status: int | None, failure: str | None) -> None:
        """The call ended: its HTTP status if one came back, and a failure kind if it failed."""
        ...


class CallObserver(Protocol):
    def start(self, request_id: str, method: str, path: str, attempt: int) -> CallWatch:
        """A call is about to go out; `path` has no query string."""
        ...
