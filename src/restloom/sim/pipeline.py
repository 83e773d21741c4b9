"""The path every API request takes, in this order:

1. count it (stats) and note its request id;
2. rate limit by the presented credential (429s spend no budget);
3. pick an injected fault, if one is armed or ``fail_rate`` strikes;
4. sleep ``latency_ms``;
5. authenticate (401), resolve X-IMPERSONATE-USER-ID (403/400), refuse writes for
   read-only credentials (403); refuse a body that is not labelled JSON (415);
6. Idempotency-Key: replay or refuse reuse (422);
7. run the handler (synchronous: no await between the idempotency lookup and the store);
8. add X-Request-Id and X-RateLimit-* headers, count the status, audit writes.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from restloom.sim import errors
from restloom.sim.audit import AuditEntry
from restloom.sim.auth import Principal, mask_credential
from restloom.sim.errors import ApiError
from restloom.sim.faults import Injection
from restloom.sim.idempotency import REPLAY_HEADER, fingerprint
from restloom.sim.ratelimit import Decision
from restloom.sim.requestlog import RequestEntry
from restloom.sim.results import Result
from restloom.sim.state import SimState

log = logging.getLogger(__name__)

STATE_KEY: web.AppKey[SimState] = web.AppKey("restloom_sim_state", SimState)
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
# Writes whose body the documents require to be JSON (MOCO: "application/json" is
# mandatory), refused otherwise as strict frameworks do (DRF answers 415).
BODY_METHODS = frozenset({"POST", "PATCH", "PUT"})
JSON_MEDIA_TYPE = "application/json"
IMPERSONATE_HEADER = "X-IMPERSONATE-USER-ID"


@dataclass
class Ctx:
    """What a handler sees of its request."""

    state: SimState
    request: web.Request
    principal: Principal | None
    # The user the request acts as: the principal's, or the impersonated one.
    actor_id: str | None
    params: Mapping[str, str]
    query: Mapping[str, str]
    body: Any
    request_id: str


Handler = Callable[[Ctx], Result]


@dataclass(frozen=True)
class Operation:
    method: str
    # Route template below the prefix, as counted in stats ("/contacts/{id}").
    route: str
    handler: Handler
    # No credential needed (login, register, refresh).
    public: bool = False
    # Refused for read-only credentials.
    writes: bool = False


def new_request_id() -> str:
    return "req_" + uuid.uuid4().hex[:20]


async def _client_stays(request: web.Request, seconds: float) -> bool:
    """Wait up to ``seconds``; False as soon as the client has gone away."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        transport = request.transport
        if transport is None or transport.is_closing():
            return False
        await asyncio.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
    transport = request.transport
    return transport is not None and not transport.is_closing()


def _drop(request: web.Request) -> web.Response:
    # Closing the transport makes the client see a disconnect; the returned response
    # is never written.
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=500)


def _rate_headers(decision: Decision) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(decision.limit),
        "X-RateLimit-Remaining": str(decision.remaining),
        "X-RateLimit-Reset": str(int(time.time() + decision.reset_after + 0.999)),
    }


async def run(request: web.Request, op: Operation) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    style = state.style
    request_id = request.headers.get("X-Request-Id") or new_request_id()
    presented = style.credential(request)
    masked = mask_credential(presented) if presented else "anonymous"
    now = time.monotonic()
    state.stats.arrive(request.method, request.path, op.route, masked, now)
    entry = RequestEntry(
        method=request.method,
        path=request.path,
        query=request.query_string,
        route=op.route,
        request_id=request_id,
        credential=masked,
        idempotency_key=request.headers.get("Idempotency-Key"),
        impersonate_user_id=request.headers.get(IMPERSONATE_HEADER),
        at=now,
    )
    state.requests.add(entry)

    extra_headers = {"X-Request-Id": request_id}
    cache_control = state.config.cache_control.get(f"{request.method} {op.route}")
    if cache_control is not None:
        extra_headers["Cache-Control"] = cache_control
    injection: Injection | None = None
    principal: Principal | None = None
    actor_id: str | None = None
    # Honoured on writes only; recorded in the audit even when the request fails early.
    idem_key = request.headers.get("Idempotency-Key") or None
    if request.method not in WRITE_METHODS:
        idem_key = None
    replayed = False
    try:
        if state.limiter.enabled:
            decision = state.limiter.hit(presented or f"anonymous:{request.remote}", now)
            if style.sends_rate_headers:
                extra_headers.update(_rate_headers(decision))
            if not decision.allowed:
                extra_headers["Retry-After"] = str(decision.retry_after)
                raise ApiError(429, errors.RATE_LIMITED, "Too many requests, retry later")
        injection = state.faults.take(request.method, request.path)
        if state.latency_ms > 0:
            await asyncio.sleep(state.latency_ms / 1000)
        if injection is not None:
            state.stats.fault(injection.mode)
            if injection.mode == "drop":
                return _drop(request)
            if injection.mode.startswith("error"):
                raise errors.internal(int(injection.mode.removeprefix("error")))
            if injection.mode == "timeout" and not await _client_stays(request, injection.seconds):
                return _drop(request)

        principal, actor_id = _authenticate(state, request, op, presented)
        raw = await request.read() if request.method in WRITE_METHODS else b""
        if raw and request.method in BODY_METHODS:
            _require_json(request.headers.get("Content-Type"))
        response, replayed = _execute(
            state, request, op, principal, actor_id, raw, request_id, idem_key, masked
        )
    except ApiError as err:
        response = style.error(err)
    except Exception:
        log.exception("sim: unexpected error in %s %s", request.method, request.path)
        response = style.error(errors.internal())

    response.headers.update(extra_headers)
    if request.method in WRITE_METHODS:
        state.audit.add(
            AuditEntry(
                method=request.method,
                path=request.path,
                actor_user_id=style.id_out("users", actor_id) if actor_id else None,
                credential=masked,
                request_id=request_id,
                idempotency_key=idem_key,
                status=response.status,
                principal_user_id=style.id_out("users", principal.user_id) if principal else None,
                replayed=replayed,
            )
        )
    if injection is not None and injection.mode == "drop_after_commit":
        return _drop(request)
    state.stats.answered(response.status)
    entry.status = response.status
    return response


def _authenticate(
    state: SimState, request: web.Request, op: Operation, presented: str | None
) -> tuple[Principal | None, str | None]:
    if op.public:
        # Public endpoints ignore credentials, good or bad.
        return None, None
    principal = state.auth.authenticate(presented)
    actor_id = principal.user_id
    raw_target = request.headers.get(IMPERSONATE_HEADER)
    if raw_target is not None:
        if principal.kind != "key" or principal.scope != "full":
            raise errors.forbidden("Only the full-scope API key may impersonate users")
        target = state.style.impersonation_target(raw_target.strip())
        if target is None:
            raise errors.validation(
                IMPERSONATE_HEADER, f"{IMPERSONATE_HEADER} does not name a user"
            )
        actor_id = target
    if op.writes and principal.scope == "read":
        raise errors.forbidden("This API key is read-only")
    return principal, actor_id


def _execute(
    state: SimState,
    request: web.Request,
    op: Operation,
    principal: Principal | None,
    actor_id: str | None,
    raw: bytes,
    request_id: str,
    idem_key: str | None,
    masked: str,
) -> tuple[web.Response, bool]:
    """Run the handler, honouring Idempotency-Key; returns (response, replayed)."""
    print_ = fingerprint(request.method, request.path_qs, raw) if idem_key else ""
    if idem_key:
        stored = state.idempotency.lookup(masked, idem_key, print_)
        if stored is not None:
            response = web.Response(status=stored.status, body=stored.body or None)
            for name, value in stored.headers:
                response.headers[name] = value
            response.headers[REPLAY_HEADER] = "true"
            return response, True
    try:
        ctx = Ctx(
            state=state,
            request=request,
            principal=principal,
            actor_id=actor_id,
            params=request.match_info,
            query=request.query,
            body=_parse_body(raw),
            request_id=request_id,
        )
        response = state.style.render(op.handler(ctx), request)
    except ApiError as err:
        response = state.style.error(err)
    if idem_key and response.status < 500:
        body = response.body if isinstance(response.body, bytes) else b""
        state.idempotency.store(
            masked, idem_key, print_, response.status, tuple(response.headers.items()), body
        )
    return response, False


def media_type(content_type: str | None) -> str | None:
    """The media type of a Content-Type header, lower-cased, parameters dropped.

    Exact: `application/json; charset=utf-8` is application/json, while
    `application/jsonx` and `application/json, text/html` are not.
    """
    if content_type is None:
        return None
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind if _MEDIA_TYPE.fullmatch(kind) else None


# type "/" subtype, each an RFC 9110 token.
_MEDIA_TYPE = re.compile(r"[!#$%&'*+\-.^_`|~0-9a-z]+/[!#$%&'*+\-.^_`|~0-9a-z]+")


def _require_json(content_type: str | None) -> None:
    if media_type(content_type) != JSON_MEDIA_TYPE:
        shown = (content_type or "(none)")[:100]
        raise ApiError(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            f"Unsupported media type {shown!r}: send application/json",
        )


def _parse_body(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise errors.validation("body", "Request body is not valid JSON") from None
