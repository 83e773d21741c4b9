"""`/readyz`: whether this instance can serve, and why not.

Not ready (503) while the upstream's circuit breaker is open, or while the
configured Redis does not answer. When the breaker's cooldown is over, a call
to /readyz is itself the probe, so that an instance taken out of rotation by
its readiness check still finds out when the upstream is back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import redis.asyncio as redis
from redis.exceptions import RedisError

from restloom.startup import UpstreamCheck
from restloom.upstream.breaker import BreakerState
from restloom.upstream.client import Caller, UpstreamClient
from restloom.upstream.errors import UpstreamError
from restloom.upstream.ratelimit import wait_turn
from restloom.upstream.retry import is_upstream_failure

# A probe must answer quickly: a readiness check that hangs is a failed one.
PROBE_TIMEOUT = 3.0


@dataclass(frozen=True)
class Readiness:
    ready: bool
    body: dict[str, Any]


async def check(
    client: UpstreamClient, redis_client: redis.Redis | None, startup: UpstreamCheck | None = None
) -> Readiness:
    breaker = client.breaker
    if breaker.probe_due():
        await probe(client)
    status = breaker.status()
    upstream_ok = status.state is BreakerState.CLOSED
    checks: dict[str, Any] = {
        "upstream": {
            "status": "ok" if upstream_ok else "failing",
            "breaker": status.state.value,
            "consecutiveFailures": status.consecutive_failures,
            "retryIn": round(status.retry_in, 3),
        }
    }
    redis_ok = True
    if redis_client is not None:
        try:
            await redis_client.ping()
            checks["redis"] = {"status": "ok"}
        except (RedisError, OSError) as exc:
            redis_ok = False
            checks["redis"] = {"status": "unreachable", "error": type(exc).__name__}
    findings_ok = True
    if startup is not None and startup.checked_at is not None:
        # A wrong base URL or a refused service key fails every query: not ready.
        findings_ok = not startup.failing
        checks["startup"] = {
            "status": "ok" if findings_ok else "failing",
            "findings": startup.report(),
        }
    ready = upstream_ok and redis_ok and findings_ok
    return Readiness(ready, {"status": "ready" if ready else "unready", "checks": checks})


async def probe(client: UpstreamClient) -> None:
    """One cheap GET as the breaker's half-open probe; an answer that is not a failure
    (a timeout, a broken connection, 502-504) closes it."""
    ticket = client.breaker.admit()
    if ticket is None:
        return  # another call is already probing
    caller = Caller(credential=None, request_id=f"readyz-{uuid.uuid4().hex[:12]}")
    credential = client.credential_for(caller)
    try:
        if client.budget is not None:
            key = f"{client.upstream_id}:{credential.principal if credential else 'anonymous'}"
            turn = await wait_turn(client.budget, key, max_wait=0.5)
            if not turn.granted:
                client.breaker.release(ticket)
                return
        await client.send(
            caller, "GET", client.profile.path("me"), public=True, time_limit=PROBE_TIMEOUT
        )
    except UpstreamError as error:
        client.breaker.record(ticket, ok=not is_upstream_failure(error))
    except BaseException:
        client.breaker.release(ticket)
        raise
    else:
        client.breaker.record(ticket, ok=True)
