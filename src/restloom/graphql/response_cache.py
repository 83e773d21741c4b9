"""Whole responses of repeated queries, kept while everything they read is unchanged.

A repeated query answered from here skips execution altogether: one store lookup and
one version-token read instead of every field of the response.

Key. The caller's principal (a hash of its credential), the impersonated user, every
other part of the upstream caller (organizational unit...), the document, the
operation name and the variables. Two principals never share an entry.

Validity. The entry carries the version token of every scope the execution read
(`readcache`: each collection it read, and the principal's own scope). A lookup reads
the current tokens (one MGET, as any cached read does) and answers only when all are
the same: a write through restloom, on any instance sharing the store, replaces a
token and the next lookup misses at once. A scope with an invalidation not yet in the
store (`pendingtokens`) is a miss.

What is kept. Only query operations, only results without errors, and only when the
request fetched everything it read from the upstream, each read cacheable (a type
with a TTL, not refused by the upstream's Cache-Control), so the age of what it holds
is known; the entry lives as long as the shortest of those TTLs. A request that read
something from the read cache (or shared another request's call) does not store its
response: how long those entries had left is not known. A request that read from a
type without a TTL, or on an upstream whose calls switch organizational units, is
never kept.

On by default (`response_cache`) whenever the read cache caches something; it uses the
same store (memory or Redis), so with Redis every instance shares it.
"""

from __future__ import annotations

import functools
import hashlib
import math
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

import orjson
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from graphql import ExecutionResult, OperationType, get_operation_ast
from restloom.upstream.cache import CacheUnavailable
from restloom.upstream.cachedread import (
    Params,
    Read,
    Source,
    StoredResponse,
    ttl_for_response,
)
from restloom.upstream.client import Caller, Exchange
from restloom.upstream.pages import Record
from restloom.upstream.readcache import MISSING, CacheView, ReadCache
from restloom.upstream.targets import locate

# Reads the current version tokens of some scopes; None when they cannot be known.
TokenReader = Callable[[list[str]], Awaitable[list[str] | None]]

# Caller fields that are not about whose data it is.
_NOT_KEYED = frozenset({"credential", "request_id"})


# Documents this process has checked (limits, parse, validation) and run as queries:
# at most this many are remembered, the least recently used forgotten first.
MAX_VETTED = 4096


@dataclass(frozen=True)
class Hit:
    data_json: str  # the kept `data`, as JSON: a hit is sent without encoding it again
    reads: int  # the cached reads this answer stands for (`extensions.upstream.cacheHits`)
    operation_name: str | None  # as the execution named it (for the log line and metrics)
    tokens: Mapping[str, str]  # the version token of each scope it was kept under
    expires: float  # when its TTL ends, in `time.time()` seconds

    @property
    def data(self) -> dict[str, Any]:
        decoded: dict[str, Any] = orjson.loads(self.data_json)
        return decoded


class RecordingView(CacheView):
    """A request's cache view that also notes whether its response may be kept, and how long."""

    def __init__(self, cache: ReadCache, principal: str, actor: str | None) -> None:
        super().__init__(cache, principal, actor)
        self.principal = principal
        self.keepable = True
        self.ttl = math.inf
        # Responses and records read: what a hit on the kept response stands for.
        self.reads = 0
        # Collections read past the cache (`cached=False`), and those whose records
        # this request kept: a read past the cache is fine only when what it read was
        # kept record by record (a batch lookup by id); anything else (a job's status,
        # a session check) must not be answered from a kept response.
        self.read_past: set[str | None] = set()
        self.records_kept: set[str] = set()

    async def read_through(
        self, path: str, params: Params, fetch: Callable[[], Awaitable[StoredResponse]]
    ) -> Read:
        collection = self._collection_of(path)
        if collection is None or self._cache.pending.dirty(self._scopes(collection)):
            self.keepable = False  # read through: nothing holds it
            return await super().read_through(path, params, fetch)
        type_ttl = self._cache.policy.ttl(collection)
        honour = self._cache.profile.honour_cache_control

        async def fetch_and_note() -> StoredResponse:
            response = await fetch()
            self.reads += 1
            ok = response.status == 200
            self._note(ttl_for_response(response.headers, type_ttl, honour) if ok else 0.0)
            return response

        read = await super().read_through(path, params, fetch_and_note)
        if read.source is not Source.UPSTREAM:
            self.keepable = False  # from the cache or another request: its age is unknown
        return read

    async def lookup_records(self, collection: str, ids: Sequence[str]) -> dict[str, Record]:
        found = await super().lookup_records(collection, ids)
        if found:
            self.keepable = False
        return found

    async def keep_records(self, collection: str, records: Mapping[str, Record]) -> None:
        if self._cache.pending.dirty(self._scopes(collection)):
            self.keepable = False
        self._note(self._cache.policy.ttl(collection))
        self.reads += len(records)
        self.records_kept.add(collection)
        await super().keep_records(collection, records)

    def note_uncached_read(self, path: str) -> None:
        target = locate(self._cache.profile, path)
        self.read_past.add(target.collection if target is not None else None)

    @property
    def complete(self) -> bool:
        """Everything this request read is held by the cache, for `ttl` seconds at least."""
        return self.keepable and self.read_past <= self.records_kept

    def _note(self, ttl: float) -> None:
        if ttl <= 0:
            self.keepable = False
        self.ttl = min(self.ttl, ttl)

    async def current_tokens(self, scopes: list[str]) -> list[str] | None:
        """The tokens of `scopes` now (MISSING where there is none); None: store unavailable."""
        if self._cache.pending.dirty(scopes):
            return None
        return await self._tokens(scopes)

    def tokens_read(self) -> dict[str, str] | None:
        """Every scope this request read, with its token; None if one is unknown or missing."""
        tokens: dict[str, str] = {}
        for scope, future in self._versions.items():
            token = future.result() if future.done() and not future.cancelled() else None
            if token is None or token == MISSING:
                return None
            tokens[scope] = token
        return tokens


class ResponseCache:
    """Process-wide: the read cache's store, namespace and invalidation state."""

    def __init__(self, cache: ReadCache) -> None:
        self.cache = cache
        self.hits = 0  # answers given from here, in this process
        self.kept = 0  # responses stored from this process
        self.answered_early = 0  # hits the fast lane sent (restloom.fastlane), of `hits`
        # Documents that passed this process's checks as queries (see `vet`).
        self._vetted: OrderedDict[bytes, None] = OrderedDict()

    # --- documents this process has checked ----------------------------------------

    def vet(self, document: bytes) -> None:
        """The document (`document_digest`) passed this process's checks and is a query.

        The fast lane (restloom.fastlane) answers only such documents: an entry in a
        store shared with other instances says nothing of *this* instance's limits.
        """
        self._vetted[document] = None
        self._vetted.move_to_end(document)
        if len(self._vetted) > MAX_VETTED:
            self._vetted.popitem(last=False)

    def vetted(self, document: bytes) -> bool:
        return document in self._vetted

    def view_for(self, exchange: Exchange) -> RecordingView | None:
        """Install a recording view on a fresh exchange; None when this one cannot be cached."""
        client = exchange.client
        # An upstream with organizational units answers by the unit active upstream.
        if client.cache is not self.cache or getattr(client.profile, "org_units", None):
            return None
        credential = client.credential_for(exchange.caller)
        if credential is None:
            return None
        caller = exchange.caller
        actor = getattr(caller, "cache_actor", caller.impersonate_user_id)
        view = RecordingView(self.cache, credential.principal, actor)
        # The exchange reads through this view from now on (it creates its own otherwise).
        return view if exchange.use_view(view) else None

    def key(
        self,
        principal: str,
        caller: Caller,
        document: bytes,
        variables: Mapping[str, Any] | None,
    ) -> str | None:
        """The entry of `document` (`document_digest`) with `variables`, for this caller."""
        try:
            given = orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS)
        except TypeError:
            return None  # not JSON (cannot come from HTTP): not worth a key
        material = b"\x00".join((_caller_material(caller), document, given))
        digest = hashlib.sha256(material).hexdigest()[:40]
        return f"{self.cache.namespace}:resp:{principal}:{digest}"

    async def lookup(self, key: str, current_tokens: TokenReader) -> Hit | None:
        """The kept response under `key`, if every token it was kept under is still current."""
        [entry] = await self._get(key)
        if not _is_entry(entry):
            return None
        hit = Hit(entry["d"], entry["n"], entry["o"], entry["v"], entry["x"])
        if not await self.still_current(hit, current_tokens):
            return None
        self.hits += 1
        return hit

    async def still_current(self, hit: Hit, current_tokens: TokenReader | None = None) -> bool:
        """Whether `hit` may answer now: within its TTL, and every token it was kept under
        still current (read by `current_tokens`, by default this cache's own reader)."""
        if time.time() >= hit.expires:
            return False
        current = await (current_tokens or self.current_tokens)(list(hit.tokens))
        return current is not None and current == list(hit.tokens.values())

    async def current_tokens(self, scopes: list[str]) -> list[str] | None:
        """The tokens of `scopes` now, for a request with no cache view of its own."""
        if self.cache.pending.dirty(scopes):
            return None
        try:
            found = await self.cache.store.get_many([self.cache.version_key(s) for s in scopes])
        except CacheUnavailable as exc:
            self.cache.warn_unavailable(exc)
            return None
        return [token if isinstance(token, str) and token else MISSING for token in found]

    async def keep(
        self, view: RecordingView, key: str, data: dict[str, Any], operation_name: str | None
    ) -> bool:
        if not view.complete or not (0 < view.ttl < math.inf):
            return False
        tokens = view.tokens_read()
        if not tokens or self.cache.pending.dirty(list(tokens)):
            return False
        try:
            encoded = orjson.dumps(data).decode()
            entry = {
                "v": tokens,
                "n": view.reads,
                "o": operation_name,
                "d": encoded,
                "x": time.time() + view.ttl,
            }
            await self.cache.store.set_many([(key, entry)], view.ttl)
        except CacheUnavailable as exc:
            self.cache.warn_unavailable(exc)
            return False
        except TypeError:  # what JSON cannot hold (an integer past 64 bits in a JSON scalar)
            return False
        self.kept += 1
        return True

    async def _get(self, key: str) -> list[Any]:
        try:
            return await self.cache.store.get_many([key])
        except CacheUnavailable as exc:
            self.cache.warn_unavailable(exc)
            return [None]


def _caller_material(caller: Caller) -> bytes:
    if not is_dataclass(caller):
        return repr(caller).encode()
    parts = [f"{name}={getattr(caller, name)!r}" for name in _keyed_fields(type(caller))]
    return "\x00".join(parts).encode()


@functools.cache
def _keyed_fields(caller_type: type) -> tuple[str, ...]:
    # Worked out once per type: `dataclasses.fields` was a fifth of a fast-lane answer.
    return tuple(f.name for f in fields(caller_type) if f.name not in _NOT_KEYED)


def document_digest(query: str, operation_name: str | None) -> bytes:
    """What names a document and its chosen operation, in keys and in the vetted set."""
    material = b"\x00".join((query.encode(), (operation_name or "").encode()))
    return hashlib.sha256(material).digest()


def _is_entry(value: Any) -> bool:
    # Anything else was written by another version of restloom: a miss.
    return (
        isinstance(value, dict)
        and isinstance(value.get("v"), dict)
        and all(isinstance(t, str) for t in value["v"].values())
        and isinstance(value.get("n"), int)
        and isinstance(value.get("o"), str | None)
        and isinstance(value.get("x"), float)
        # `data` as JSON text of an object (kept by `keep`, never by a caller)
        and isinstance(value.get("d"), str)
        and value["d"].startswith("{")
    )


class ResponseCaching(SchemaExtension):
    """Answers a repeated query from the response cache; keeps a fresh query's response.

    After the trust check, before the cost limit: a cached answer sends nothing upstream.
    The app puts its `ResponseCache` in `app.state.response_cache` (None: off).
    """

    async def on_execute(self) -> AsyncIterator[None]:
        ctx = self.execution_context
        plan = await self._answer_or_plan()
        yield
        result = ctx.result
        if (
            plan is not None
            and isinstance(result, ExecutionResult)
            and not result.errors
            and isinstance(result.data, dict)
        ):
            responses, view, key = plan
            await responses.keep(view, key, result.data, ctx.operation_name)

    async def _answer_or_plan(self) -> tuple[ResponseCache, RecordingView, str] | None:
        ctx = self.execution_context
        responses = _response_cache_of(ctx.context)
        exchange = getattr(ctx.context, "exchange", None)
        document = ctx.graphql_document
        if responses is None or exchange is None or document is None or ctx.result is not None:
            return None
        operation = get_operation_ast(document, ctx.operation_name)
        if operation is None or operation.operation is not OperationType.QUERY or not ctx.query:
            return None
        view = responses.view_for(exchange)
        if view is None:
            return None
        # Keyed by the name the request gave (None for most), not the one strawberry
        # works out from the document: the fast lane, which parses nothing, has only that.
        document = document_digest(ctx.query, _given_operation_name(ctx))
        key = responses.key(view.principal, exchange.caller, document, ctx.variables)
        if key is None:
            return None
        # Checked (DocumentChecks ran before) and a query: the fast lane may answer it.
        responses.vet(document)
        hit = await responses.lookup(key, view.current_tokens)
        if hit is not None:
            # A result set here is returned instead of executing: 0 upstream calls.
            ctx.result = ExecutionResult(data=hit.data)
            exchange.stats.cache_hits += hit.reads
            return None
        return responses, view, key


def _given_operation_name(ctx: ExecutionContext) -> str | None:
    # strawberry keeps the request's own `operationName` only in a private field; without
    # it (another strawberry), the resolved name keys the entry and the lane misses.
    given = getattr(ctx, "_provided_operation_name", ctx.operation_name)
    return given if isinstance(given, str) else None


def _response_cache_of(context: object) -> ResponseCache | None:
    app = getattr(getattr(context, "request", None), "app", None)
    found = getattr(getattr(app, "state", None), "response_cache", None)
    return found if isinstance(found, ResponseCache) else None
