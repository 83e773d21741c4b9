"""``Idempotency-Key`` on POST/PATCH/DELETE, scoped per credential.

The first request with a key stores its answer (status, headers, body) unless it was a
5xx. A later request with the same key and the same method, path and body (compared as
canonical JSON, so whitespace and key order do not matter) gets that stored answer back
without the work being done again, plus ``Idempotent-Replayed: true``. The same key with
a different method, path or body is rejected with 422 IDEMPOTENCY_KEY_REUSED. Keys expire
after ``SimConfig.idempotency_ttl`` seconds.

Handlers do their work without awaiting between the lookup and the store, so two
concurrent requests with one key cannot both run.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from restloom.sim.errors import IDEMPOTENCY_KEY_REUSED, ApiError

REPLAY_HEADER = "Idempotent-Replayed"


@dataclass(frozen=True)
class StoredResponse:
    fingerprint: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    expires_at: float


def fingerprint(method: str, path_qs: str, raw_body: bytes) -> str:
    try:
        canonical = orjson.dumps(orjson.loads(raw_body), option=orjson.OPT_SORT_KEYS)
    except orjson.JSONDecodeError:
        canonical = raw_body
    digest = hashlib.sha256(canonical).hexdigest()
    return f"{method} {path_qs} {digest}"


def reused_error() -> ApiError:
    return ApiError(
        422,
        IDEMPOTENCY_KEY_REUSED,
        "Idempotency-Key was already used for a different request",
        field="Idempotency-Key",
        reason="reused",
    )


class IdempotencyStore:
    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._stored: dict[tuple[str, str], StoredResponse] = {}

    def lookup(self, credential: str, key: str, print_: str) -> StoredResponse | None:
        """The stored answer to replay, None if the key is new; raises on reuse."""
        stored = self._stored.get((credential, key))
        if stored is None:
            return None
        if self.clock() >= stored.expires_at:
            del self._stored[(credential, key)]
            return None
        if stored.fingerprint != print_:
            raise reused_error()
        return stored

    def store(
        self,
        credential: str,
        key: str,
        print_: str,
        status: int,
        headers: tuple[tuple[str, str], ...],
        body: bytes,
    ) -> None:
        self._stored[(credential, key)] = StoredResponse(
            print_, status, headers, body, self.clock() + self.ttl
        )
