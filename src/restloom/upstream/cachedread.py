"""What a cached read is: the stored answer, its TTL and the key material of its query."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import orjson

from restloom.upstream.errors import FailureKind, UpstreamError
from restloom.upstream.urls import query_string

Params = tuple[tuple[str, str], ...]

# Per-response headers that must not be replayed from the cache.
_NOT_STORED = frozenset(
    {
        "age",
        "connection",
        "content-encoding",
        "content-length",
        "date",
        "keep-alive",
        "retry-after",
        "server",
        "set-cookie",
        "transfer-encoding",
        "x-request-id",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
    }
)


@dataclass(frozen=True)
class CachePolicy:
    """Seconds to keep a collection's reads; 0 keeps nothing."""

    default_ttl: float = 0.0
    ttls: Mapping[str, float] = field(default_factory=dict)

    def ttl(self, collection: str) -> float:
        return self.ttls.get(collection, self.default_ttl)


@dataclass(frozen=True)
class StoredResponse:
    status: int
    headers: dict[str, str]
    body: Any

    def to_json(self) -> dict[str, Any]:
        return {"s": self.status, "h": self.headers, "b": self.body}

    @classmethod
    def from_json(cls, value: Any) -> StoredResponse | None:
        if not isinstance(value, dict) or not isinstance(value.get("s"), int):
            return None  # written by another version of restloom: a miss
        return cls(value["s"], dict(value.get("h") or {}), value.get("b"))

    def copy(self) -> StoredResponse:
        """A deep copy, so that two requests sharing one answer never share its objects."""
        try:
            body = orjson.loads(orjson.dumps(self.body))
        except TypeError:  # what orjson cannot write (an integer past 64 bits, say)
            body = copy.deepcopy(self.body)
        return StoredResponse(self.status, dict(self.headers), body)


def ttl_for_response(headers: Mapping[str, str], ttl: float, honour: bool) -> float:
    """The TTL for a response after its Cache-Control; 0 means do not store it."""
    if not honour:
        return ttl
    value = next((v for k, v in headers.items() if k.lower() == "cache-control"), "")
    for directive in value.lower().split(","):
        name, _, argument = directive.strip().partition("=")
        if name in ("no-store", "no-cache", "private"):
            return 0.0
        if name == "max-age":
            try:
                ttl = min(ttl, max(0.0, float(argument.strip().strip('"'))))
            except ValueError:
                return 0.0  # unreadable freshness: do not guess
    return ttl


def normalised_query(params: Params) -> str:
    # Sorted by name only: the order of repeated names can matter to an upstream.
    return query_string(sorted(params, key=lambda pair: pair[0]))


def replayable_headers(headers: Mapping[str, str]) -> dict[str, str]:
    # str(): aiohttp's header names are `istr`, which orjson refuses as keys.
    return {str(k): v for k, v in headers.items() if k.lower() not in _NOT_STORED}


class Source(StrEnum):
    CACHE = "cache"  # a stored entry
    SHARED = "shared"  # another request's upstream call, in flight at the same time
    UPSTREAM = "upstream"  # this request's own upstream call


@dataclass(frozen=True)
class Read:
    response: StoredResponse
    source: Source


# Failures of the leading request itself, not of the upstream: its deadline ran out or
# its request cap was reached. Another request waiting for the same answer fetches it.
_OWN_FAILURES = frozenset(
    {
        FailureKind.TIMEOUT,  # may be the leader's deadline cutting its call short
        FailureKind.RATE_LIMITED,  # no budget slot before the leader's deadline
        FailureKind.TOO_MANY_REQUESTS,
        FailureKind.NO_CREDENTIAL,
    }
)


def says_the_upstream(error: Exception) -> bool:
    """Whether every request asking the same thing would have got `error` as well."""
    return not (isinstance(error, UpstreamError) and error.kind in _OWN_FAILURES)
