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
generation. A token that cannot be written leaves its scope dirty on this
instance until it is (see `pendingtokens`).

A request reads the tokens it needs once (one MGET), before it fetches
anything, so whatever it stores under a token was fetched after that token
became current: a write that finishes before a read starts is always seen.

Nothing is written for a credential before the upstream has accepted it. A read
never creates a token: a scope without one is a miss. The first response the
upstream answers with 200 creates the missing tokens (SET NX) and is stored under
them; if another writer got there first, that answer is not stored (it may have
been fetched before a write replaced the token). So a request with a junk key,
which the upstream answers 401, leaves no key behind.

Concurrent misses of one key in this process make one upstream call: the
first request fetches, the others wait for it (`singleflight`). Across
instances sharing a Redis there is no lock: each instance makes at most one call
per key and expiry.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from restloom.upstream.cache import CacheStore, CacheUnavailable
from restloom.upstream.cachedread import (
    CachePolicy,
    Params,
    Read,
    Source,
    StoredResponse,
    normalised_query,
    replayable_headers,
    says_the_upstream,
    ttl_for_response,
)
from restloom.upstream.pages import Record
from restloom.upstream.pendingtokens import FIRST_RETRY, PendingTokens
from restloom.upstream.profile import Profile
from restloom.upstream.singleflight import SingleFlight
from restloom.upstream.targets import locate, related

log = logging.getLogger("restloom.cache")


# Version tokens outlive any sensible TTL; one that expires only costs misses.
VERSION_TTL = 86400.0

# A request's view of a scope's token: the token; MISSING when the store has none
# (yet); None when the store did not answer.
MISSING = ""

# What an auth action makes stale: registering adds a user; logging out also drops the
# caller's own entries (see `invalidate`); logging in or refreshing changes no data.
_AUTH_EFFECTS: dict[str, tuple[str, ...]] = {"register": ("users",), "logout": ()}


@dataclass(frozen=True)
class Invalidation:
    """What a write made stale, and whether every instance now knows it."""

    scopes: tuple[str, ...]
    tokens: Mapping[str, str]
    written: bool  # False: the store did not take the new tokens (yet); see `pendingtokens`


# The outcome of the latest invalidation in this task. The logout resolver reports it
# (`cacheCleared`), and it is produced three calls down, inside the write it awaits.
_last_invalidation: ContextVar[Invalidation | None] = ContextVar(
    "restloom_last_invalidation", default=None
)


def note_invalidation(outcome: Invalidation | None) -> None:
    _last_invalidation.set(outcome)


def last_invalidation() -> Invalidation | None:
    return _last_invalidation.get()


def principal_scope(principal: str) -> str:
    return f"p:{principal}"


class ReadCache:
    """Process-wide: the store, the TTLs and the profile; hands out one view per request."""

    def __init__(
        self,
        store: CacheStore,
        profile: Profile,
        policy: CachePolicy,
        namespace: str,
        *,
        first_retry: float = FIRST_RETRY,
    ) -> None:
        self.store = store
        self.profile = profile
        self.policy = policy
        self.namespace = namespace
        self.flights: SingleFlight[StoredResponse] = SingleFlight()
        # Invalidations not yet in the store; their scopes are read through meanwhile.
        self.pending = PendingTokens(self._write_tokens, first_retry=first_retry)
        # Bumped by every invalidation here: requests that could not read the tokens
        # share a call only with those that started after the same writes.
        self.generation = 0
        self._last_warning = 0.0

    def view(self, principal: str, actor: str | None) -> CacheView:
        return CacheView(self, principal, actor)

    def version_key(self, scope: str) -> str:
        return f"{self.namespace}:v:{scope}"

    async def invalidate(self, path: str, principal: str | None) -> Invalidation:
        """After a write to `path` (done, or maybe done): new tokens for what it touched."""
        self.generation += 1
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
        return await self._replace(scopes)

    async def invalidate_collection(self, collection: str) -> Invalidation:
        """After a change made elsewhere (a webhook said so) to `collection`."""
        self.generation += 1
        return await self._replace({f"c:{name}" for name in related(self.profile, collection)})

    async def _replace(self, scopes: set[str]) -> Invalidation:
        tokens = {scope: secrets.token_hex(8) for scope in sorted(scopes)}
        written = await self.pending.publish(tokens) if tokens else True
        return Invalidation(tuple(tokens), tokens, written)

    async def close(self) -> None:
        await self.pending.close()
        await self.store.close()

    def warn_unavailable(self, error: CacheUnavailable) -> None:
        # Once a minute at most: a Redis outage must not also flood the logs.
        now = time.monotonic()
        if now - self._last_warning > 60:
            self._last_warning = now
            log.warning("cache unavailable, reading through to the upstream: %s", error)

    async def _write_tokens(self, tokens: Mapping[str, str]) -> None:
        pairs = [(self.version_key(scope), token) for scope, token in tokens.items()]
        await self.store.set_many(pairs, VERSION_TTL)


class CacheView:
    """One GraphQL request's window on the cache, for one principal (and impersonated user)."""

    def __init__(self, cache: ReadCache, principal: str, actor: str | None) -> None:
        self._cache = cache
        self._principal = principal
        self._actor = actor or ""
        # Version tokens as this request sees them (see MISSING); None when the store did
        # not answer, which turns caching off for the rest of the request instead of
        # retrying per key.
        self._versions: dict[str, asyncio.Future[str | None]] = {}
        self._creating: dict[str, asyncio.Future[str | None]] = {}

    # --- responses ----------------------------------------------------------------

    def note_uncached_read(self, path: str) -> None:
        """A read of `path` that went past the cache (`cached=False`); views that must
        know what a request read without the cache (the response cache's) say so here."""

    async def read_through(
        self, path: str, params: Params, fetch: Callable[[], Awaitable[StoredResponse]]
    ) -> Read:
        """The stored answer; else one upstream call shared by every request missing it.

        A stored answer's body may be the very object other reads of it were given (a
        shared read of the memory store): nobody changes what the upstream answered.
        """
        collection = self._collection_of(path)
        if collection is None:
            return Read(await fetch(), Source.UPSTREAM)
        scopes = self._scopes(collection)
        if self._cache.pending.dirty(scopes):
            return Read(await fetch(), Source.UPSTREAM)
        tokens = await self._tokens(scopes)
        what = f"GET {path}?{normalised_query(params)}"
        if tokens is not None and MISSING not in tokens:
            [value] = await self._get_many([self._digest_key("get", tokens, what)], shared=True)
            hit = StoredResponse.from_json(value)
            if hit is not None:
                return Read(hit, Source.CACHE)

        async def fetch_and_keep() -> StoredResponse:
            response = await fetch()
            await self._keep(collection, tokens, what, response)
            return response

        flown = await self._cache.flights.run(
            self._flight_key(tokens, what), fetch_and_keep, shareable=says_the_upstream
        )
        if flown.shared:
            return Read(flown.value.copy(), Source.SHARED)
        return Read(flown.value, Source.UPSTREAM)

    async def lookup(self, path: str, params: Params) -> StoredResponse | None:
        collection = self._collection_of(path)
        if collection is None or self._cache.pending.dirty(self._scopes(collection)):
            return None
        tokens = await self._tokens(self._scopes(collection))
        if tokens is None or MISSING in tokens:
            return None
        what = f"GET {path}?{normalised_query(params)}"
        [value] = await self._get_many([self._digest_key("get", tokens, what)])
        return StoredResponse.from_json(value)

    async def keep(self, path: str, params: Params, response: StoredResponse) -> None:
        collection = self._collection_of(path)
        if collection is not None:
            tokens = await self._tokens(self._scopes(collection))
            what = f"GET {path}?{normalised_query(params)}"
            await self._keep(collection, tokens, what, response)

    async def _keep(
        self, collection: str, tokens: list[str] | None, what: str, response: StoredResponse
    ) -> None:
        if response.status != 200 or tokens is None:
            return
        ttl = ttl_for_response(
            response.headers,
            self._cache.policy.ttl(collection),
            self._cache.profile.honour_cache_control,
        )
        scopes = self._scopes(collection)
        if ttl <= 0 or self._cache.pending.dirty(scopes):
            return
        current = await self._created(scopes, tokens)
        if current is None:
            return
        stored = StoredResponse(
            response.status, replayable_headers(response.headers), response.body
        )
        await self._set_many([(self._digest_key("get", current, what), stored.to_json())], ttl)

    # --- records (objects looked up by id, in batches) -------------------------------

    async def lookup_records(self, collection: str, ids: Sequence[str]) -> dict[str, Record]:
        scopes = self._scopes(collection)
        if not ids or self._cache.policy.ttl(collection) <= 0 or self._cache.pending.dirty(scopes):
            return {}
        tokens = await self._tokens(scopes)
        if tokens is None or MISSING in tokens:
            return {}
        keys = [self._digest_key("rec", tokens, f"{collection}/{i}") for i in ids]
        values = await self._get_many(keys)
        return {i: value for i, value in zip(ids, values, strict=True) if isinstance(value, dict)}

    async def keep_records(self, collection: str, records: Mapping[str, Record]) -> None:
        ttl = self._cache.policy.ttl(collection)
        scopes = self._scopes(collection)
        if not records or ttl <= 0 or self._cache.pending.dirty(scopes):
            return
        tokens = await self._tokens(scopes)
        current = None if tokens is None else await self._created(scopes, tokens)
        if current is not None:
            pairs = [
                (self._digest_key("rec", current, f"{collection}/{i}"), records[i]) for i in records
            ]
            await self._set_many(pairs, ttl)

    def adopt(self, tokens: Mapping[str, str]) -> None:
        """Version tokens this request just wrote: its later reads use them."""
        for scope, token in tokens.items():
            self._versions[scope] = _resolved(token)

    # --- keys ------------------------------------------------------------------------

    def _collection_of(self, path: str) -> str | None:
        target = locate(self._cache.profile, path)
        if target is None or target.collection == "auth":
            return None
        return target.collection if self._cache.policy.ttl(target.collection) > 0 else None

    def _scopes(self, collection: str) -> list[str]:
        return [f"c:{collection}", principal_scope(self._principal)]

    def _digest_key(self, kind: str, tokens: Sequence[str], what: str) -> str:
        material = "\x00".join((self._actor, *tokens, what)).encode()
        digest = hashlib.sha256(material).hexdigest()[:40]
        return f"{self._cache.namespace}:{kind}:{self._principal}:{digest}"

    def _flight_key(self, tokens: list[str] | None, what: str) -> str:
        # Without tokens, the local generation keeps a read that starts after a write
        # here from joining a call that started before it.
        versions = tokens if tokens is not None else ["?", str(self._cache.generation)]
        return self._digest_key("flight", versions, what)

    async def _tokens(self, scopes: list[str]) -> list[str] | None:
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
        found = await self._cache.store.get_many([self._cache.version_key(s) for s in scopes])
        # Reading never creates a token: see `_created`.
        return [token if isinstance(token, str) and token else MISSING for token in found]

    async def _created(self, scopes: list[str], tokens: list[str]) -> list[str] | None:
        """`tokens` with the missing ones created; None when one could not be (then store nothing).

        Called only with an answer the upstream gave this principal, so only accepted
        credentials ever get a token.
        """
        current: list[str] = []
        for scope, token in zip(scopes, tokens, strict=True):
            if token == MISSING:
                created = await self._create(scope)
                if created is None:
                    return None
                token = created
            current.append(token)
        return current

    async def _create(self, scope: str) -> str | None:
        pending = self._creating.get(scope)
        if pending is None:
            pending = asyncio.get_running_loop().create_future()
            self._creating[scope] = pending
            fresh = secrets.token_hex(8)
            created: str | None = None
            try:
                if await self._cache.store.add(self._cache.version_key(scope), fresh, VERSION_TTL):
                    created = fresh
                # Else someone set it since this request read it: maybe a write, after
                # which this request's answers may be stale. Store none of them.
            except CacheUnavailable as exc:
                self._cache.warn_unavailable(exc)
            finally:
                pending.set_result(created)
                self._versions[scope] = _resolved(created)
        return await pending

    async def _get_many(self, keys: list[str], *, shared: bool = False) -> list[Any]:
        try:
            return await self._cache.store.get_many(keys, shared=shared)
        except CacheUnavailable as exc:
            self._cache.warn_unavailable(exc)
            return [None] * len(keys)

    async def _set_many(self, pairs: list[tuple[str, Any]], ttl: float) -> None:
        try:
            await self._cache.store.set_many(pairs, ttl)
        except CacheUnavailable as exc:
            self._cache.warn_unavailable(exc)


def _resolved(token: str | None) -> asyncio.Future[str | None]:
    future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
    future.set_result(token)
    return future
