"""HTTP to the upstream: the process-wide session and `UpstreamClient`.

`UpstreamClient` lives as long as the process and owns the aiohttp session,
the read cache, the rate budget and the circuit breaker; `send` is one HTTP call,
with nothing the upstream sends taken on trust. What a single GraphQL request
talks through is an `Exchange` (`restloom.upstream.exchange`), made by
`UpstreamClient.exchange`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from restloom.observability.calls import CallObserver
from restloom.upstream.breaker import CircuitBreaker
from restloom.upstream.caller import Caller, Params, Response, no_credential
from restloom.upstream.credentials import ANONYMOUS, Credential, auth_headers
from restloom.upstream.deadline import Deadline
from restloom.upstream.errors import FailureKind, UpstreamError, error_from_response
from restloom.upstream.exchange import WRITE_ATTEMPTS, Exchange, ExchangeStats
from restloom.upstream.orgunits import OrgUnitGate
from restloom.upstream.profile import Profile
from restloom.upstream.ratelimit import RateBudget
from restloom.upstream.readcache import ReadCache
from restloom.upstream.responses import (
    is_redirect,
    parse_success_body,
    read_body,
    read_error_body,
    refuse_redirect,
)
from restloom.upstream.retry import retry_after
from restloom.upstream.urls import query_string

# Importable from here as before the split (app, graphql, tests use these names).
__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_RETRY_AFTER",
    "WRITE_ATTEMPTS",
    "Caller",
    "Exchange",
    "ExchangeStats",
    "Params",
    "Response",
    "UpstreamClient",
    "create_session",
    "no_credential",
    "upstream_id",
]

DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_RETRY_AFTER = 60.0


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


@dataclass
class Call:
    """One HTTP call as `UpstreamClient.send` hands it on."""

    method: str
    path: str
    params: Params
    json: Any
    extra_headers: Mapping[str, str] | None
    credential: Credential | None  # `credential_for` the caller
    time_limit: float | None
    public: bool  # sent without a credential when there is none (login, a probe)


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
        credential: Credential | None = None,
    ) -> Response:
        """`_send_once`, seen by the observer: it may add headers (`traceparent`).

        `credential`: `credential_for(caller)`, when the caller has it at hand already.
        """
        credential = credential or self.credential_for(caller)
        call = Call(method, path, params, json, extra_headers, credential, time_limit, public)
        if self.observer is None:
            return await self._send_once(caller, call)
        watch = self.observer.start(caller.request_id, method, path, attempt)
        if watch.headers:
            call.extra_headers = {**(extra_headers or {}), **watch.headers}
        try:
            response = await self._send_once(caller, call)
        except UpstreamError as error:
            watch.finish(error.status, error.kind.value)
            raise
        except BaseException:
            watch.finish(None, "cancelled")
            raise
        watch.finish(response.status, None)
        return response

    async def _send_once(self, caller: Caller, call: Call) -> Response:
        """One HTTP call. Error statuses become `UpstreamError`; 2xx come back parsed.

        Nothing the upstream sends is taken on trust: a 3xx is not followed (REDIRECT),
        the body is read up to `max_body_bytes` after decompression (TOO_LARGE), a 2xx
        body must be JSON (INVALID_RESPONSE), and Retry-After is parsed strictly and
        capped at `max_retry_after`. `call.time_limit` (seconds) replaces the call
        timeout, e.g. when the deadline is nearer; it covers reading the body too.
        """
        timeout = self.call_timeout if call.time_limit is None else call.time_limit
        if not call.public and call.credential is None:
            raise no_credential(caller.request_id)
        method = call.method
        url = self.base_url + call.path
        if call.params:
            url += "?" + query_string(call.params)
        headers = self._headers(caller, call.credential)
        if call.extra_headers:
            headers.update(call.extra_headers)
        data = None
        if call.json is not None:
            # aiohttp labels raw bytes application/octet-stream: strict frameworks refuse it.
            data = orjson.dumps(call.json)
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

    def _headers(self, caller: Caller, credential: Credential | None) -> dict[str, str]:
        # Accept on every call: content negotiation must not hand us HTML.
        headers = {"Accept": "application/json", "X-Request-Id": caller.request_id}
        if credential is not None:
            headers.update(auth_headers(self.profile.auth, credential))
        if caller.impersonate_user_id:
            headers[self.profile.auth.impersonate_header] = caller.impersonate_user_id
        return headers
