"""`POST /webhooks/{source}`: verify, refuse replays, invalidate, publish, then answer.

Answers: 202 published; 200 a delivery already accepted (a retry: the sender must
stop, nothing is published twice); 401 not signed by the upstream or not fresh; 400
signed but unreadable; 404 no such source (or no `webhook_secret`); 413 too large;
503 the event could not be published (the sender retries). Nothing is published
before the signature is checked, and no log line carries a secret or a signature.
"""

from __future__ import annotations

import logging
import time

from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from restloom.events.hub import EventHub, source_names
from restloom.events.normalise import MalformedEvent, normalise
from restloom.events.signatures import BadSignature

log = logging.getLogger("restloom.events")

MAX_WEBHOOK_BYTES = 256 * 1024
REFUSAL_LOG_SECONDS = 10.0


class _Refusals:
    """Refused deliveries are logged at most once per interval, with a count: a flood of
    forged requests must not also flood the logs."""

    def __init__(self) -> None:
        self._last = 0.0
        self._unlogged = 0

    def note(self, source: str, what: str, reason: str) -> None:
        now = time.monotonic()
        if now - self._last < REFUSAL_LOG_SECONDS:
            self._unlogged += 1
            return
        more = f" (and {self._unlogged} more since the last line)" if self._unlogged else ""
        log.warning("webhook %s (source %s): %s%s", what, source, reason, more)
        self._last, self._unlogged = now, 0


_refusals = _Refusals()


def _answer(status: int, message: str, **extra: str) -> Response:
    return JSONResponse({"status": message, **extra}, status_code=status)


async def receive_webhook(request: Request) -> Response:
    hub: EventHub = request.app.state.events
    source = request.path_params["source"]
    if hub.verifier is None or source not in source_names(hub.profile):
        return _answer(404, "no such webhook source")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_WEBHOOK_BYTES):
        return _answer(413, "body too large")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_WEBHOOK_BYTES:
            return _answer(413, "body too large")
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        verified = hub.verifier.verify(headers, bytes(body), time.time())
    except BadSignature as exc:
        _refusals.note(source, "refused", str(exc))
        return _answer(401, "refused", reason=str(exc))
    try:
        event = normalise(hub.verifier.style, source, hub.profile, verified, headers, bytes(body))
    except MalformedEvent as exc:
        _refusals.note(source, "unreadable", str(exc))
        return _answer(400, "malformed", reason=str(exc))
    # Twice the tolerance: a delivery is refused as stale before its record expires.
    try:
        first = await hub.guard.first_time(verified.replay_key, 2 * hub.verifier.tolerance)
    except (RedisError, OSError):
        log.error("webhook: replay record unavailable, asking the sender to retry")
        return _answer(503, "try again")
    if not first:
        return _answer(200, "duplicate")
    try:
        published = await hub.accept(event)
    except (RedisError, OSError):
        await _forget(hub, verified.replay_key)
        log.error("webhook: could not publish the event, asking the sender to retry")
        return _answer(503, "try again")
    return _answer(202, "accepted", id=published.id)


async def _forget(hub: EventHub, key: str) -> None:
    try:
        await hub.guard.forget(key)
    except (RedisError, OSError):
        return  # the retry will be taken for a duplicate until the record expires
