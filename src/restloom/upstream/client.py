"""HTTP to the upstream: one shared session, and one `Exchange` per GraphQL request.

`UpstreamClient` lives as long as the process and owns the aiohttp session,
the read cache, the rate budget and the circuit breaker. `Exchange` is what a
single GraphQL request talks through: it attaches the caller's credential and
request id to every call, answers GETs from the cache or shares one upstream
call between identical GETs in flight, keeps every call within the request's
deadline and the upstream's budget, retries reads, and counts what it did.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
import orjson

from restloom.observability.calls import CallObserver
from restloom.upstream.breaker import CircuitBreaker
from restloom.upstream.credentials import ANONYMOUS, Credential, auth_headers
from restloom.upstream.deadline import Deadline
from restloom.upstream.errors import FailureKind, UpstreamError, error_from_response
from restloom.upstream.orgunits import OrgUnitGate
from restloom.upstream.pages import Record
from restloom.upstream.profile import Profile
from restloom.upstream.ratelimit import RateBudget, hold_off_seconds, wait_turn
from restloom.upstream.readcache import (
    CacheView,
    Invalidation,
    ReadCache,
    Source,
    StoredResponse,
    note_invalidation,
)
from restloom.upstream.responses import (
    is_redirect,
    parse_success_body,
    read_body,
    read_error_body,
    refuse_redirect,
)
from restloom.upstream.retry import (
    DEFAULT_RATE_LIMIT_WAIT,
    ReadRetries,
    backoff,
    is_upstream_failure,
    may_have_committed,
    retry_after,
    write_is_retryable,
)

Params = tuple[tuple[str, str], ...]

WRITE_ATTEMPTS = 4

DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_RETRY_AFTER = 60.0


@dataclass(frozen=True)
class Caller:
    """Everything about the GraphQL request that the upstream needs to see."""

    credential: Credential | None
    request_id: str
    impersonate_user_id: str | None = None
    # The organizational unit the caller picked (X-Org-Unit); None: the home OU.
    org_unit: str | None = None

    @property
    def cache_actor(self) -> str | None:
        """Who the cache keys name besides the principal: impersonated user and OU."""
        if self.org_unit is None:
            return self.impersonate_user_id
        return f"{self.impersonate_user_id or ''}\x00ou:{self.org_unit}"


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: Any


@dataclass
class ExchangeStats:
    requests: int = 0  # calls actually sent to the upstream
    coalesced: int = 0  # GETs answered by an identical call already in flight
    retries: int = 0  # calls repeated after a failure or a 429
    cache_hits: int = 0  # responses and records served from the cross-request cache


def upstream_id(base_url: str) -> str:
    """A short name for the upstream, for shared state that must not mix two of them."""
    return hashlib.sha256(base_url.rstrip("/").encode()).hexdigest()[:12]


def create_session(max_connections: int, connect_timeout: float) -> aiohttp.ClientSession:
    """The process-wide session: pooled, cookie-free, orjson on the way out."""
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=max_connections, limit_per_host=max_connections),
        # Upstream cookies must never carry one caller's session over to another.
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(connect=connect_timeout),
        json_serialize=lambda obj: orjson.dumps(obj).decode(),
        raise_for_status=False,
    )
    # aiohttp silently resends GET/PUT/DELETE once when the server drops the
    # connection; a DELETE without an idempotency key must never be repeated, and
    # reads are retried (and counted) by our own policy. There is no public switch.
    session._retry_connection = False
    return session


class UpstreamClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        profile: Profile,
        *,
        service_credential: Credential | None = None,
        call_timeout: float = 10.0,
        request_deadline: float = 30.0,
        read_retries: int = 2,
        cache: ReadCache | None = None,
        budget: RateBudget | None = None,
        breaker: CircuitBreaker | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
    ) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.profile = profile
        self.service_credential = service_credential
        self.call_timeout = call_timeout
        self.request_deadline = request_deadline
        self.read_retries = read_retries
        self.cache = cache
        self.budget = budget
        self.breaker = breaker or CircuitBreaker()
        self.max_body_bytes = max_body_bytes
        self.max_retry_after = max_retry_after
        self.upstream_id = upstream_id(self.base_url)
        # Logs, metrics and a trace span per call (restloom.observability); None: unwatched.
        self.observer: CallObserver | None = None
        # Keeps each call in the organizational unit it needs (upstream.orgunits).
        self.org_units: OrgUnitGate | None = None

    def exchange(self, caller: Caller, deadline: Deadline | None = None) -> Exchange:
        return Exchange(self, caller, deadline or Deadline.after(self.request_deadline))

    def credential_for(self, caller: Caller) -> Credential | None:
        """The credential the upstream sees for this caller."""
        credential = caller.credential or self.service_credential
        if credential is None and not self.profile.auth.requires_credential:
            return ANONYMOUS  # an upstream without auth: nobody needs a credential
        return credential

    async def send(
        self,
        caller: Caller,
        method: str,
        path: str,
        params: Params = (),
        json: Any = None,
        extra_headers: Mapping[str, str] | None = None,
        *,
        public: bool = False,
        time_limit: float | None = None,
        attempt: int = 1,
    ) -> Response:
        """`_send_once`, seen by the observer: it may add headers (`traceparent`)."""
        if self.observer is None:
            return await self._send_once(
                caller, method, path, params, json, extra_headers, public, time_limit
            )
        watch = self.observer.start(caller.request_id, method, path, attempt)
        headers = {**(extra_headers or {}), **watch.headers}
        try:
            response = await self._send_once(
                caller, method, path, params, json, headers, public, time_limit
            )
        except UpstreamError as error:
            watch.finish(error.status, error.kind.value)
            raise
        except BaseException:
            watch.finish(None, "cancelled")
            raise
        watch.finish(response.status, None)
        return response

    async def _send_once(
        self,
        caller: Caller,
        method: str,
        path: str,
        params: Params,
        json: Any,
        extra_headers: Mapping[str, str] | None,
        public: bool,
        time_limit: float | None,
    ) -> Response:
        """One HTTP call. Error statuses become `UpstreamError`; 2xx come back parsed.

        Nothing the upstream sends is taken on trust: a 3xx is not followed (REDIRECT),
        the body is read up to `max_body_bytes` after decompression (TOO_LARGE), a 2xx
        body must be JSON (INVALID_RESPONSE), and Retry-After is parsed strictly and
        capped at `max_retry_after`. `time_limit` (seconds) replaces the call timeout,
        e.g. when the deadline is nearer; it covers reading the body too.
        """
        timeout = self.call_timeout if time_limit is None else time_limit
        if not public and self.credential_for(caller) is None:
            raise no_credential(caller.request_id)
        url = self.base_url + path
        if params:
            url += "?" + urlencode(params)
        headers = self._headers(caller)
        if extra_headers:
            headers.update(extra_headers)
        data = None
        if json is not None:
            # aiohttp labels raw bytes application/octet-stream: strict frameworks refuse it.
            data = orjson.dumps(json)
            headers["Content-Type"] = "application/json"
        try:
            async with self.session.request(
                method,
                url,
                headers=headers,
                data=data,
                # Followed, a redirect would take the credential and the body elsewhere.
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as resp:
                status = resp.status
                response_headers = dict(resp.headers)
                if is_redirect(status):
                    resp.close()
                    raise refuse_redirect(
                        status, resp.headers.get("Location"), url, caller.request_id
                    )
                if status >= 400:
                    body = await read_error_body(resp)
                else:
                    raw = await read_body(resp, self.max_body_bytes, caller.request_id)
                    body = parse_success_body(raw, status, method, caller.request_id)
        except TimeoutError as exc:
            raise UpstreamError(
                kind=FailureKind.TIMEOUT,
                message=f"Upstream did not answer within {timeout:g}s",
                request_id=caller.request_id,
            ) from exc
        except aiohttp.ClientError as exc:
            raise UpstreamError(
                kind=FailureKind.UNAVAILABLE,
                message=f"Upstream connection failed: {type(exc).__name__}",
                request_id=caller.request_id,
            ) from exc
        if status >= 400:
            raise error_from_response(
                self.profile.errors,
                status,
                body,
                caller.request_id,
                retry_after=retry_after(response_headers, self.max_retry_after),
            )
        return Response(status=status, headers=response_headers, body=body)

    def _headers(self, caller: Caller) -> dict[str, str]:
        # Accept on every call: content negotiation must not hand us HTML.
        headers = {"Accept": "application/json", "X-Request-Id": caller.request_id}
        credential = self.credential_for(caller)
        if credential is not None:
            headers.update(auth_headers(self.profile.auth, credential))
        if caller.impersonate_user_id:
            headers[self.profile.auth.impersonate_header] = caller.impersonate_user_id
        return headers


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
        async def fetch() -> StoredResponse:
            retries = ReadRetries(self.client.read_retries)
            attempt = 1
            while True:
                try:
                    response = await self._send("GET", path, params, attempt=attempt)
                    break
                except UpstreamError as error:
                    pause = retries.delay(error, self.deadline.remaining())
                    if pause is None:
                        raise
                    self.stats.retries += 1
                    attempt += 1
                    await asyncio.sleep(pause)
            if check is not None:
                check(response)  # before anything is cached or shared
            return StoredResponse(response.status, dict(response.headers), response.body)

        view = self._cache_view() if cached else None
        if view is None:
            stored = await fetch()
        else:
            read = await view.read_through(path, params, fetch)
            stored = read.response
            if read.source is Source.CACHE:
                self.stats.cache_hits += 1
            elif read.source is Source.SHARED:
                self.stats.coalesced += 1
        return Response(status=stored.status, headers=stored.headers, body=stored.body)

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
        self._claim()
        ticket = client.breaker.admit()
        if ticket is None:
            self._claimed -= 1
            raise circuit_open(client.breaker.status().retry_in, self.caller.request_id)
        budget_key = f"{client.upstream_id}:{credential.principal if credential else 'anonymous'}"
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
                else contextlib.nullcontext()
            ):
                response = await client.send(
                    self.caller,
                    method,
                    path,
                    params,
                    json,
                    extra_headers,
                    public=public,
                    time_limit=timeout,
                    attempt=attempt,
                )
        except UpstreamError as error:
            if error.kind is FailureKind.TIMEOUT and timeout < client.call_timeout:
                # Cut short by this request's deadline: that says nothing about the upstream.
                client.breaker.release(ticket)
            else:
                client.breaker.record(ticket, ok=not is_upstream_failure(error))
            if error.status == 429 and client.budget is not None:
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

    async def _wait_for_turn(self, budget_key: str) -> float:
        """Wait for a slot in the rate budget; the time then left for the call."""
        budget = self.client.budget
        if budget is not None:
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


def no_credential(request_id: str) -> UpstreamError:
    return UpstreamError(
        kind=FailureKind.NO_CREDENTIAL,
        message="Send X-API-Key or Authorization: Bearer with your request",
        request_id=request_id,
    )


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
