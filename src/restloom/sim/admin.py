"""Sim control endpoints under ``/__sim`` (never counted, limited or faulted).

- ``GET /__sim/stats`` (``?times=1`` adds arrival times), ``POST /__sim/stats/reset``
  (also clears the request log)
- ``GET /__sim/requests``, ``DELETE /__sim/requests``: the newest API requests
- ``GET /__sim/audit``, ``DELETE /__sim/audit``
- ``GET|POST|DELETE /__sim/faults`` (see ``restloom.sim.faults``)
- ``GET|POST /__sim/config``: ``rate_limit``, ``rate_window``, ``latency_ms``, ``fail_rate``
- ``GET /__sim/info``: style, prefix, paths and the demo credentials' users
- ``GET /__sim/deliveries`` (``?hook_id=``, ``?event_id=``), ``DELETE /__sim/deliveries``,
  ``POST /__sim/deliveries/flush?within=SECONDS``: webhook delivery attempts, and a wait
  until none is pending (see ``restloom.sim.delivery``)
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from restloom.sim import errors
from restloom.sim.errors import ApiError
from restloom.sim.faults import parse_fault
from restloom.sim.pipeline import STATE_KEY, new_request_id
from restloom.sim.state import SimState

AdminHandler = Callable[[web.Request, SimState], Awaitable[Any]]


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


def admin(fn: AdminHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Wrap an admin handler: JSON out, errors as Mossdesk-shaped bodies, request id echo."""

    async def handler(request: web.Request) -> web.StreamResponse:
        try:
            result = await fn(request, request.app[STATE_KEY])
            response = web.Response(status=204) if result is None else _json(result)
        except ApiError as err:
            body = {"code": err.code, "message": err.message, "field": err.field}
            response = _json({"error": body}, err.status)
        response.headers["X-Request-Id"] = request.headers.get("X-Request-Id") or new_request_id()
        return response

    return handler


async def _body(request: web.Request) -> Any:
    raw = await request.read()
    try:
        return orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError:
        raise errors.validation("body", "Request body is not valid JSON") from None


async def get_stats(request: web.Request, state: SimState) -> Any:
    times = request.query.get("times", "") not in ("", "0", "false")
    return state.stats.snapshot(times=times)


async def reset_stats(request: web.Request, state: SimState) -> Any:
    state.stats.reset()
    state.requests.clear()
    return state.stats.snapshot()


async def get_requests(request: web.Request, state: SimState) -> Any:
    return state.requests.snapshot()


async def clear_requests(request: web.Request, state: SimState) -> Any:
    state.requests.clear()
    return None


async def get_audit(request: web.Request, state: SimState) -> Any:
    return state.audit.snapshot()


async def clear_audit(request: web.Request, state: SimState) -> Any:
    state.audit.clear()
    return None


async def get_faults(request: web.Request, state: SimState) -> Any:
    return {"faults": state.faults.snapshot(), "fail_rate": state.faults.fail_rate}


async def arm_fault(request: web.Request, state: SimState) -> Any:
    state.faults.arm(parse_fault(await _body(request)))
    return await get_faults(request, state)


async def clear_faults(request: web.Request, state: SimState) -> Any:
    state.faults.clear()
    return await get_faults(request, state)


def _runtime_config(state: SimState) -> dict[str, Any]:
    return {
        "rate_limit": state.limiter.limit,
        "rate_window": state.limiter.window,
        "latency_ms": state.latency_ms,
        "fail_rate": state.faults.fail_rate,
    }


def _number(body: dict[str, Any], name: str, *, minimum: float, exclusive: bool = False) -> float:
    value = body[name]
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < minimum or (exclusive and value == minimum):
        op = ">" if exclusive else ">="
        raise errors.validation(name, f"{name} must be a number {op} {minimum:g}")
    return float(value)


async def set_config(request: web.Request, state: SimState) -> Any:
    body = await _body(request)
    if not isinstance(body, dict):
        raise errors.validation("body", "expected a JSON object")
    known = ("rate_limit", "rate_window", "latency_ms", "fail_rate")
    for key in body:
        if key not in known:
            raise errors.validation(key, f"unknown setting {key}; use {', '.join(known)}")
    # Validate everything before changing anything.
    limit, window = state.limiter.limit, state.limiter.window
    if "rate_limit" in body:
        value = body["rate_limit"]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise errors.validation("rate_limit", "rate_limit must be an integer >= 0")
        limit = value
    if "rate_window" in body:
        window = _number(body, "rate_window", minimum=0, exclusive=True)
    latency = _number(body, "latency_ms", minimum=0) if "latency_ms" in body else None
    fail_rate = _number(body, "fail_rate", minimum=0) if "fail_rate" in body else None
    if fail_rate is not None and fail_rate > 1:
        raise errors.validation("fail_rate", "fail_rate must be between 0 and 1")
    state.limiter.configure(limit, window)
    if latency is not None:
        state.latency_ms = latency
    if fail_rate is not None:
        state.faults.fail_rate = fail_rate
    return _runtime_config(state)


async def get_config(request: web.Request, state: SimState) -> Any:
    return _runtime_config(state)


async def get_info(request: web.Request, state: SimState) -> Any:
    config = state.config
    full_user, read_user = state.data.first_users(2)
    style = state.style
    return {
        "style": config.style,
        "prefix": config.effective_prefix,
        "paths": {name: config.path_for(name) for name in sorted(state.data.collections)},
        "params": dict(config.params),
        "full_key_user_id": style.id_out("users", full_user.id),
        "read_key_user_id": style.id_out("users", read_user.id),
        "counts": {name: len(rows) for name, rows in state.data.collections.items()},
    }


async def get_deliveries(request: web.Request, state: SimState) -> Any:
    hooks = state.webhooks
    return {
        "pending": hooks.pending,
        "consecutive_failures": {str(k): v for k, v in hooks.consecutive_failures().items()},
        "deliveries": hooks.log.snapshot(
            request.query.get("hook_id"), request.query.get("event_id")
        ),
    }


async def clear_deliveries(request: web.Request, state: SimState) -> Any:
    state.webhooks.log.clear()
    return None


# Longest wait a flush may ask for.
MAX_FLUSH_SECONDS = 120.0


async def flush_deliveries(request: web.Request, state: SimState) -> Any:
    raw = request.query.get("within", "10")
    try:
        within = float(raw)
    except ValueError:
        within = math.nan
    if not math.isfinite(within) or not 0 <= within <= MAX_FLUSH_SECONDS:
        raise errors.validation(
            "within", f"within must be seconds between 0 and {MAX_FLUSH_SECONDS:g}"
        )
    left = await state.webhooks.drain(within)
    return {"pending": left}


def add_admin_routes(app: web.Application) -> None:
    r = app.router
    r.add_route("GET", "/__sim/stats", admin(get_stats))
    r.add_route("POST", "/__sim/stats/reset", admin(reset_stats))
    r.add_route("GET", "/__sim/requests", admin(get_requests))
    r.add_route("DELETE", "/__sim/requests", admin(clear_requests))
    r.add_route("GET", "/__sim/audit", admin(get_audit))
    r.add_route("DELETE", "/__sim/audit", admin(clear_audit))
    r.add_route("GET", "/__sim/faults", admin(get_faults))
    r.add_route("POST", "/__sim/faults", admin(arm_fault))
    r.add_route("DELETE", "/__sim/faults", admin(clear_faults))
    r.add_route("GET", "/__sim/config", admin(get_config))
    r.add_route("POST", "/__sim/config", admin(set_config))
    r.add_route("GET", "/__sim/info", admin(get_info))
    r.add_route("GET", "/__sim/deliveries", admin(get_deliveries))
    r.add_route("DELETE", "/__sim/deliveries", admin(clear_deliveries))
    r.add_route("POST", "/__sim/deliveries/flush", admin(flush_deliveries))
