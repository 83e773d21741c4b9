"""Cross-request caching of upstream reads, keyed by who asks and invalidated by writes.

Keys. Every entry is keyed by the caller's principal (a hash of its credential,
never the credential itself), the impersonated user if any, and either the
request (method, path, normalised query) or the record (collection, id). A
read-only key and a full key are different principals, so they share nothing.

Invalidation. Each collection has a version token, and each principal one
more; both go into every key. A write replaces the tokens of the collections it
made stale (its own, those nested in it and those containing it) in the shared
store, so every principal on every instance stops seeing the old entries at
once; those expire with their TTL. Tokens are random rather than counters, so a
token lost from the store (eviction, restart) can never bring back an old
generation.

A request reads the tokens it needs once (one MGET), before it fetches
anything, so whatever it stores under a token was fetched after that token
became current: a write that finishes before a read starts is always seen.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from restloom.upstream.cache import CacheStore, CacheUnavailable
from restloom.upstream.pages import Record
from restloom.upstream.profile import Profile
from restloom.upstream.targets import locate, related

log = logging.getLogger("restloom.cache")

Params = tuple[tuple[str, str], ...]

# Version tokens outlive any sensible TTL; one that expires only costs misses.
VERSION_TTL = 86400.0

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

# What an auth action makes stale: registering adds a user; logging out also drops the
# caller's own entries (see `invalidate`); logging in or refreshing changes no data.
_AUTH_EFFECTS: dict[str, tuple[str, ...]] = {"register": ("users",), "logout": ()}


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


def principal_scope(principal: str) -> str:
    return f"p:{principal}"


def normalised_query(params: Params) -> str:
    # Sorted by name only: the order of repeated names can matter to an upstream.
    return urlencode(sorted(params, key=lambda pair: pair[0]))


class ReadCache:
    """Process-wide: the store, the TTLs and the profile; hands out one view per request."""

    def __init__(
        self, store: CacheStore, profile: Profile, policy: CachePolicy, namespace: str
    ) -> None:
        self.store = store
        self.profile = profile
        self.policy = policy
        self.namespace = namespace
        self._last_warning = 0.0

    def view(self, principal: str, actor: str | None) -> CacheView:
        return CacheView(self, principal, actor)

    def version_key(self, scope: str) -> str:
        return f"{self.namespace}:v:{scope}"

    async def invalidate(self, path: str, principal: str | None) -> dict[str, str]:
        """After a write to `path` (done, or maybe done): new tokens for what it touched.

        Returns the new tokens by scope; none when the store could not be reached.
        """
        target = locate(self.profile, path)
        if target is None:
            # A path no template names: anything may be stale.
            scopes = {f"c:{name}" for name in self.profile.paths}
        elif target.collection == "auth":
            action = target.object_id or ""
            scopes = {f"c:{name}" for name in _AUTH_EFFECTS.get(action, ())}
            if action == "logout" and principal is not None:
                # A revoked token must not keep reading what it cached.
                scopes.add(principal_scope(principal))
        else:
            scopes = {f"c:{name}" for name in related(self.profile, target.collection)}
        if not scopes:
            return {}
        tokens = {scope: secrets.token_hex(8) for scope in sorted(scopes)}
        try:
            await self.store.set_many(
                [(self.version_key(scope), token) for scope, token in tokens.items()],
                VERSION_TTL,
            )
        except CacheUnavailable as exc:
            log.error(
                "could not invalidate %s after a write to %s (%s): cached reads of it may be "
                "served until their TTL ends",
                ", ".join(sorted(scopes)),
                path,
                exc,
            )
            return {}
        return tokens

    def warn_unavailable(self, error: CacheUnavailable) -> None:
        # Once a minute at most: a Redis outage must not also flood the logs.
        now = time.monotonic()
        if now - self._last_warning > 60:
            self._last_warning = now
            log.warning("cache unavailable, reading through to the upstream: %s", error)


class CacheView:
    """One GraphQL request's window on the cache, for one principal (and impersonated user)."""

    def __init__(self, cache: ReadCache, principal: str, actor: str | None) -> None:
        self._cache = cache
        self._principal = principal
        self._actor = actor or ""
        # Version tokens as this request sees them; None when the store did not answer,
        # which turns caching off for the rest of the request instead of retrying per key.
        self._versions: dict[str, asyncio.Future[str | None]] = {}

    # --- responses ----------------------------------------------------------------

    async def lookup(self, path: str, params: Params) -> StoredResponse | None:
        key = await self._response_key(path, params)
        if key is None:
            return None
        values = await self._get_many([key])
        return StoredResponse.from_json(values[0]) if values else None

    async def keep(self, path: str, params: Params, response: StoredResponse) -> None:
        collection = self._collection_of(path)
        if collection is None or response.status != 200:
            return
        ttl = ttl_for_response(
            response.headers,
            self._cache.policy.ttl(collection),
            self._cache.profile.honour_cache_control,
        )
        key = await self._response_key(path, params)
        if key is None or ttl <= 0:
            return
        # str(): aiohttp's header names are `istr`, which orjson refuses as keys.
        headers = {str(k): v for k, v in response.headers.items() if k.lower() not in _NOT_STORED}
        stored = StoredResponse(response.status, headers, response.body)
        await self._set_many([(key, stored.to_json())], ttl)

    # --- records (objects looked up by id, in batches) -------------------------------

    async def lookup_records(self, collection: str, ids: Sequence[str]) -> dict[str, Record]:
        keys = await self._record_keys(collection, ids)
        if keys is None:
            return {}
        values = await self._get_many(list(keys.values()))
        return {
            object_id: value
            for object_id, value in zip(keys, values, strict=False)
            if isinstance(value, dict)
        }

    async def keep_records(self, collection: str, records: Mapping[str, Record]) -> None:
        ttl = self._cache.policy.ttl(collection)
        keys = await self._record_keys(collection, list(records)) if ttl > 0 else None
        if keys:
            await self._set_many([(keys[i], records[i]) for i in records], ttl)

    def adopt(self, tokens: Mapping[str, str]) -> None:
        """Version tokens this request just wrote: its later reads use them."""
        loop = asyncio.get_running_loop()
        for scope, token in tokens.items():
            future: asyncio.Future[str | None] = loop.create_future()
            future.set_result(token)
            self._versions[scope] = future

    # --- keys ------------------------------------------------------------------------

    def _collection_of(self, path: str) -> str | None:
        target = locate(self._cache.profile, path)
        if target is None or target.collection == "auth":
            return None
        return target.collection if self._cache.policy.ttl(target.collection) > 0 else None

    async def _response_key(self, path: str, params: Params) -> str | None:
        collection = self._collection_of(path)
        if collection is None:
            return None
        return await self._key(collection, f"GET {path}?{normalised_query(params)}")

    async def _record_keys(self, collection: str, ids: Sequence[str]) -> dict[str, str] | None:
        if not ids or self._cache.policy.ttl(collection) <= 0:
            return None
        tokens = await self._tokens(collection)
        if tokens is None:
            return None
        return {i: self._digest_key("rec", tokens, f"{collection}/{i}") for i in ids}

    async def _key(self, collection: str, what: str) -> str | None:
        tokens = await self._tokens(collection)
        return None if tokens is None else self._digest_key("get", tokens, what)

    def _digest_key(self, kind: str, tokens: Sequence[str], what: str) -> str:
        material = "\x00".join((self._actor, *tokens, what)).encode()
        digest = hashlib.sha256(material).hexdigest()[:40]
        return f"{self._cache.namespace}:{kind}:{self._principal}:{digest}"

    async def _tokens(self, collection: str) -> list[str] | None:
        scopes = [f"c:{collection}", principal_scope(self._principal)]
        missing = [s for s in scopes if s not in self._versions]
        if missing:
            loop = asyncio.get_running_loop()
            futures = {s: loop.create_future() for s in missing}
            self._versions.update(futures)
            tokens: list[str | None] = [None] * len(missing)
            try:
                tokens = await self._read_tokens(missing)
            except CacheUnavailable as exc:
                self._cache.warn_unavailable(exc)
            finally:
                # Resolved whatever happened (even cancellation): other fields wait on these.
                for scope, token in zip(missing, tokens, strict=True):
                    futures[scope].set_result(token)
        current = [await self._versions[s] for s in scopes]
        if any(t is None for t in current):
            return None
        return [t for t in current if t is not None]

    async def _read_tokens(self, scopes: list[str]) -> list[str | None]:
        store = self._cache.store
        keys = [self._cache.version_key(s) for s in scopes]
        found = await store.get_many(keys)
        tokens: list[str | None] = []
        for key, token in zip(keys, found, strict=True):
            if not isinstance(token, str):
                # First use (or the token expired): start a generation; if another
                # instance just did, use theirs.
                fresh = secrets.token_hex(8)
                if await store.add(key, fresh, VERSION_TTL):
                    token = fresh
                else:
                    token = (await store.get_many([key]))[0]
                    token = token if isinstance(token, str) else None
            tokens.append(token)
        return tokens

    async def _get_many(self, keys: list[str]) -> list[Any]:
        try:
            return await self._cache.store.get_many(keys)
        except CacheUnavailable as exc:
            self._cache.warn_unavailable(exc)
            return [None] * len(keys)

    async def _set_many(self, pairs: list[tuple[str, Any]], ttl: float) -> None:
        try:
            await self._cache.store.set_many(pairs, ttl)
        except CacheUnavailable as exc:
            self._cache.warn_unavailable(exc)
