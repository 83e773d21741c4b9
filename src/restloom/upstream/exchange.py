"""One GraphQL request's conversation with the upstream: `Exchange`.

It attaches the caller's credential and request id to every call, answers GETs
from the cache or shares one upstream call between identical GETs in flight,
keeps every call within the request's deadline and the upstream's budget,
retries reads, and counts what it did.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from restloom.upstream.caller import Caller, Params, Response, no_credential
from restloom.upstream.credentials import Credential
from restloom.upstream.deadline import Deadline
from restloom.upstream.errors import FailureKind, UpstreamError
from restloom.upstream.pages import Record
from restloom.upstream.profile import Profile
from restloom.upstream.ratelimit import hold_off_seconds, wait_turn
from restloom.upstream.readcache import (
    CacheView,
    Invalidation,
    Source,
    StoredResponse,
    note_invalidation,
)
from restloom.upstream.retry import (
    DEFAULT_RATE_LIMIT_WAIT,
    ReadRetries,
    backoff,
    is_upstream_failure,
    may_have_committed,
    write_is_retryable,
)
from restloom.upstream.urls import require_id

if TYPE_CHECKING:
    from restloom.upstream.client import UpstreamClient

WRITE_ATTEMPTS = 4


# How a bad impersonation id is named to the caller (the request header it came in).
IMPERSONATE_ARGUMENT = "X-Impersonate-User-Id"


@dataclass
class ExchangeStats:
    requests: int = 0  # calls actually sent to the upstream
    coalesced: int = 0  # GETs answered by an identical call already in flight
    retries: int = 0  # calls repeated after a failure or a 429
    cache_hits: int = 0  # responses and records served from the cross-request cache


@dataclass
class Exchange:
    """One GraphQL request's conversation with the upstream."""

    client: UpstreamClient
    caller: Caller
    deadline: Deadline = field(default_factory=lambda: Deadline.after(30.0))
    stats: ExchangeStats = field(default_factory=ExchangeStats)
    _inflight: dict[tuple[str, Params, bool], asyncio.Future[Response]] = field(
        default_factory=dict
    )
    _view: CacheView | None = None
    # Hard cap on calls actually sent for this GraphQL request (retries included), set
    # from the cost limit: it backs up the cost prediction. None: no cap.
    max_requests: int | None = None
    # Calls sent or on their way (admitted, waiting for a budget slot): the cap counts
    # these, because concurrent fields check it before any of them is sent.
    _claimed: int = 0

    @property
    def profile(self) -> Profile:
        return self.client.profile

    async def get(
        self,
        path: str,
        params: Params = (),
        *,
        cached: bool = True,
        check: Callable[[Response], None] | None = None,
    ) -> Response:
        """GET, from the cache when `cached`, sharing one call between identical GETs in flight.

        `cached=False` is for reads a write depends on: they must see the upstream as it is.
        `check` raises (an `invalid_response` error) when the body does not fit the shape
        the caller expects; it runs before anything is cached, so a bad answer never is.
        """
        if not cached and self._view is not None:
            self._view.note_uncached_read(path)
        key = (path, params, cached)
        pending = self._inflight.get(key)
        if pending is not None:
            self.stats.coalesced += 1
            return await asyncio.shield(pending)
        future: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            response = await self._read(path, params, cached, check)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            # Mark the exception retrieved when nobody else was waiting for it.
            future.exception()
            raise
        else:
            future.set_result(response)
            return response
        finally:
            del self._inflight[key]

    async def cached_records(self, collection: str, ids: list[str]) -> dict[str, Record]:
        """The records of `ids` that the cross-request cache holds for this caller."""
        view = self._cache_view()
        if view is None:
            return {}
        found = await view.lookup_records(collection, ids)
        self.stats.cache_hits += len(found)
        return found

    async def remember_records(self, collection: str, records: Mapping[str, Record]) -> None:
        view = self._cache_view()
        if view is not None and records:
            await view.keep_records(collection, records)

    async def write(
        self,
        method: str,
        path: str,
        json: Any = None,
        idempotency_key: str | None = None,
        *,
        public: bool = False,
    ) -> Response:
        """POST/PATCH/DELETE; afterwards, cached reads it may have changed are forgotten."""
        try:
            response = await self._write(method, path, json, idempotency_key, public)
        except UpstreamError as error:
            if may_have_committed(error):
                await self._forget(path)
            raise
        except asyncio.CancelledError:
            # The caller went away mid-write: the write may still have happened.
            _in_background(self._forget(path))
            raise
        await self._forget(path)
        return response

    async def _write(
        self, method: str, path: str, json: Any, idempotency_key: str | None, public: bool
    ) -> Response:
        """Repeated after a broken connection or timeout only with a key, within the deadline."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        for attempt in range(WRITE_ATTEMPTS):
            try:
                return await self._send(
                    method, path, (), json, headers, public=public, attempt=attempt + 1
                )
            except UpstreamError as error:
                if attempt + 1 == WRITE_ATTEMPTS or not write_is_retryable(error, idempotency_key):
                    raise
                pause = backoff(attempt)
                if not self.deadline.allows(pause):
                    raise
                self.stats.retries += 1
                await asyncio.sleep(pause)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _read(
        self, path: str, params: Params, cached: bool, check: Callable[[Response], None] | None
    ) -> Response:
        view = self._cache_view() if cached else None
        if view is None:
            # Nothing to keep: the answer goes back as it came (and as `check` saw it).
            return await self._fetch(path, params, check)

        async def fetch() -> StoredResponse:
            response = await self._fetch(path, params, check)
            return StoredResponse(response.status, dict(response.headers), response.body)

        read = await view.read_through(path, params, fetch)
        stored = read.response
        if read.source is Source.CACHE:
            self.stats.cache_hits += 1
        elif read.source is Source.SHARED:
            self.stats.coalesced += 1
        return Response(status=stored.status, headers=stored.headers, body=stored.body)

    async def _fetch(
        self, path: str, params: Params, check: Callable[[Response], None] | None
    ) -> Response:
        """One GET from the upstream, repeated as `ReadRetries` allows, then checked."""
        retries: ReadRetries | None = None
        attempt = 1
        while True:
            try:
                response = await self._send("GET", path, params, attempt=attempt)
                break
            except UpstreamError as error:
                retries = retries or ReadRetries(self.client.read_retries)
                pause = retries.delay(error, self.deadline.remaining())
                if pause is None:
                    raise
                self.stats.retries += 1
                attempt += 1
                await asyncio.sleep(pause)
        if check is not None:
            check(response)  # before anything is cached or shared
        return response

    async def _forget(self, path: str) -> None:
        cache = self.client.cache
        if cache is None:
            note_invalidation(Invalidation((), {}, written=True))  # nothing was cached
            return
        credential = self.client.credential_for(self.caller)
        done = await cache.invalidate(path, credential.principal if credential else None)
        note_invalidation(done)
        if done.written and self._view is not None:
            # Later fields of this request (a mutation's payload) read the new generation.
            self._view.adopt(done.tokens)

    def use_view(self, view: CacheView) -> bool:
        """Read through `view` instead of a view of its own; False once reads have begun."""
        if self._view is not None:
            return False
        self._view = view
        return True

    def _cache_view(self) -> CacheView | None:
        if self._view is None and self.client.cache is not None:
            credential = self.client.credential_for(self.caller)
            if credential is not None:  # without one the call fails before it is sent
                self._view = self.client.cache.view(credential.principal, self.caller.cache_actor)
        return self._view

    async def _send(
        self,
        method: str,
        path: str,
        params: Params = (),
        json: Any = None,
        extra_headers: Mapping[str, str] | None = None,
        *,
        public: bool = False,
        attempt: int = 1,
    ) -> Response:
        """One attempt: past the breaker and the rate budget, within the deadline."""
        client = self.client
        credential = client.credential_for(self.caller)
        if not public and credential is None:
            raise no_credential(self.caller.request_id)
        if self.caller.impersonate_user_id is not None:
            # It goes upstream as a header: a user id of this upstream, or nothing is sent.
            require_id(client.profile, self.caller.impersonate_user_id, IMPERSONATE_ARGUMENT)
        self._claim()
        ticket = client.breaker.admit()
        if ticket is None:
            self._claimed -= 1
            raise circuit_open(client.breaker.status().retry_in, self.caller.request_id)
        # Only a budget needs the key (hashing the credential is not free).
        budget_key = None if client.budget is None else _budget_key(client.upstream_id, credential)
        try:
            timeout = await self._wait_for_turn(budget_key)
        except BaseException:
            self._claimed -= 1
            client.breaker.release(ticket)
            raise
        self.stats.requests += 1
        gate = client.org_units
        try:
            async with (
                gate.hold(client, self.caller, timeout)
                if gate is not None and gate.governs(self.caller, method, path)
                else contextlib.nullcontext(timeout)
            ) as left:  # what waiting for the org unit left of the call's time
                response = await client.send(
                    self.caller,
                    method,
                    path,
                    params,
                    json,
                    extra_headers,
                    public=public,
                    time_limit=left,
                    attempt=attempt,
                    credential=credential,
                )
        except UpstreamError as error:
            if error.kind is FailureKind.TIMEOUT and timeout < client.call_timeout:
                # Cut short by this request's deadline: that says nothing about the upstream.
                client.breaker.release(ticket)
            else:
                client.breaker.record(ticket, ok=not is_upstream_failure(error))
            if error.status == 429 and client.budget is not None and budget_key is not None:
                # Everyone on this credential waits it out, not only this call; for no
                # longer than max_retry_after, whatever the upstream asked.
                wait = DEFAULT_RATE_LIMIT_WAIT if error.retry_after is None else error.retry_after
                await client.budget.hold_off(
                    budget_key, hold_off_seconds(wait, client.max_retry_after)
                )
            raise
        except BaseException:
            client.breaker.release(ticket)
            raise
        client.breaker.record(ticket, ok=True)
        return response

    def _claim(self) -> None:
        """Count one more call against `max_requests`, or refuse it unsent."""
        if self.max_requests is not None and self._claimed >= self.max_requests:
            raise UpstreamError(
                kind=FailureKind.TOO_MANY_REQUESTS,
                message=f"This request needed more than {self.max_requests} upstream "
                "requests; ask for fewer or smaller lists",
                request_id=self.caller.request_id,
            )
        self._claimed += 1

    async def _wait_for_turn(self, budget_key: str | None) -> float:
        """Wait for a slot in the rate budget; the time then left for the call."""
        budget = self.client.budget
        if budget is not None and budget_key is not None:
            turn = await wait_turn(budget, budget_key, self.deadline.remaining())
            if not turn.granted:
                raise UpstreamError(
                    kind=FailureKind.RATE_LIMITED,
                    message="The upstream's rate budget has no room before this request's "
                    f"deadline ({self.deadline.seconds:g}s)",
                    request_id=self.caller.request_id,
                    retry_after=turn.wait,
                )
        timeout = min(self.client.call_timeout, self.deadline.remaining())
        if timeout <= 0:
            raise UpstreamError(
                kind=FailureKind.TIMEOUT,
                message=f"The request's deadline of {self.deadline.seconds:g}s has passed",
                request_id=self.caller.request_id,
            )
        return timeout


def _budget_key(upstream: str, credential: Credential | None) -> str:
    """Whose rate budget a call spends: one per upstream and principal."""
    return f"{upstream}:{credential.principal if credential else 'anonymous'}"


def circuit_open(retry_in: float, request_id: str) -> UpstreamError:
    return UpstreamError(
        kind=FailureKind.CIRCUIT_OPEN,
        message="The upstream service is failing; calls are paused",
        request_id=request_id,
        retry_after=retry_in,
    )


# Invalidations started after their request was cancelled; referenced until they finish.
_background_tasks: set[asyncio.Task[None]] = set()


def _in_background(work: Any) -> None:
    task = asyncio.ensure_future(work)
    _background_tasks.add(task)
    task.add_done_callback(_background_tasks.discard)
