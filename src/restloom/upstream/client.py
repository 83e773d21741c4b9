"""HTTP to the upstream: one shared session, and one `Exchange` per GraphQL request.

`UpstreamClient` lives as long as the process and owns the aiohttp session.
`Exchange` is what a single GraphQL request talks through: it attaches the
caller's credential and request id to every call, shares one upstream call
between identical GETs in flight, and counts what it sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
import orjson

from restloom.upstream.credentials import Credential, auth_headers
from restloom.upstream.errors import FailureKind, UpstreamError, error_from_response
from restloom.upstream.profile import Profile
from restloom.upstream.retry import backoff, write_is_retryable

Params = tuple[tuple[str, str], ...]

WRITE_ATTEMPTS = 4


@dataclass(frozen=True)
class Caller:
    """Everything about the GraphQL request that the upstream needs to see."""

    credential: Credential | None
    request_id: str
    impersonate_user_id: str | None = None


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: Any


@dataclass
class ExchangeStats:
    requests: int = 0  # calls actually sent to the upstream
    coalesced: int = 0  # GETs answered by an identical call already in flight
    retries: int = 0  # calls repeated after a failure


def create_session(max_connections: int, connect_timeout: float) -> aiohttp.ClientSession:
    """The process-wide session: pooled, cookie-free, orjson on the way out."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=max_connections, limit_per_host=max_connections),
        # Upstream cookies must never carry one caller's session over to another.
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(connect=connect_timeout),
        json_serialize=lambda obj: orjson.dumps(obj).decode(),
        raise_for_status=False,
    )


class UpstreamClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        profile: Profile,
        *,
        service_credential: Credential | None = None,
        call_timeout: float = 10.0,
    ) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.profile = profile
        self.service_credential = service_credential
        self.call_timeout = call_timeout

    def exchange(self, caller: Caller) -> Exchange:
        return Exchange(self, caller)

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
    ) -> Response:
        """One HTTP call. Error statuses become `UpstreamError`; 2xx come back parsed."""
        if not public and (caller.credential or self.service_credential) is None:
            raise UpstreamError(
                kind=FailureKind.NO_CREDENTIAL,
                message="Send X-API-Key or Authorization: Bearer with your request",
                request_id=caller.request_id,
            )
        url = self.base_url + path
        if params:
            url += "?" + urlencode(params)
        headers = self._headers(caller)
        if extra_headers:
            headers.update(extra_headers)
        try:
            async with self.session.request(
                method,
                url,
                headers=headers,
                data=orjson.dumps(json) if json is not None else None,
                timeout=aiohttp.ClientTimeout(total=self.call_timeout),
            ) as resp:
                raw = await resp.read()
                body = _parse_body(raw)
                response_headers = dict(resp.headers)
                status = resp.status
        except TimeoutError as exc:
            raise UpstreamError(
                kind=FailureKind.TIMEOUT,
                message=f"Upstream did not answer within {self.call_timeout:g}s",
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
                retry_after=_retry_after(response_headers),
            )
        return Response(status=status, headers=response_headers, body=body)

    def _headers(self, caller: Caller) -> dict[str, str]:
        headers = {"Accept": "application/json", "X-Request-Id": caller.request_id}
        credential = caller.credential or self.service_credential
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
    stats: ExchangeStats = field(default_factory=ExchangeStats)
    _inflight: dict[tuple[str, Params], asyncio.Future[Response]] = field(default_factory=dict)

    @property
    def profile(self) -> Profile:
        return self.client.profile

    async def get(self, path: str, params: Params = ()) -> Response:
        """GET, sharing one upstream call between identical GETs in flight."""
        key = (path, params)
        pending = self._inflight.get(key)
        if pending is not None:
            self.stats.coalesced += 1
            return await asyncio.shield(pending)
        future: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            response = await self._send("GET", path, params)
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

    async def write(
        self,
        method: str,
        path: str,
        json: Any = None,
        idempotency_key: str | None = None,
        *,
        public: bool = False,
    ) -> Response:
        """POST/PATCH/DELETE. Repeated after a broken connection or timeout only with a key."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        for attempt in range(WRITE_ATTEMPTS):
            try:
                return await self._send(method, path, (), json, headers, public=public)
            except UpstreamError as error:
                if attempt + 1 == WRITE_ATTEMPTS or not write_is_retryable(error, idempotency_key):
                    raise
                self.stats.retries += 1
                await asyncio.sleep(backoff(attempt))
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _send(
        self,
        method: str,
        path: str,
        params: Params = (),
        json: Any = None,
        extra_headers: Mapping[str, str] | None = None,
        *,
        public: bool = False,
    ) -> Response:
        self.stats.requests += 1
        return await self.client.send(
            self.caller, method, path, params, json, extra_headers, public=public
        )


def _parse_body(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
