"""What restloom accepts back from the upstream at the HTTP level, and what it refuses.

The upstream is not trusted to be well behaved: a redirect is never followed
(it would carry the caller's credential, idempotency key and body to wherever
it points), a body is read in chunks against a byte cap counted after
decompression (a gzip bomb stops at the cap, not at the end of memory), and a
2xx whose body is not JSON is an error rather than an empty answer.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import orjson
from yarl import URL

from restloom.upstream.errors import FailureKind, UpstreamError, invalid_response

log = logging.getLogger("restloom.upstream")

CHUNK_BYTES = 64 * 1024
# An error status's body is only read for its code and message: a small cap is plenty.
ERROR_BODY_BYTES = 64 * 1024
EXCERPT_CHARS = 200


def is_redirect(status: int) -> bool:
    return 300 <= status < 400


def refuse_redirect(
    status: int, location: str | None, request_url: str, request_id: str
) -> UpstreamError:
    """A 3xx as an error; only the origin it pointed to is logged (a URL may carry secrets)."""
    log.warning(
        "upstream answered HTTP %s redirecting to %s; not followed (request %s)",
        status,
        _origin(location, request_url),
        request_id,
    )
    return UpstreamError(
        kind=FailureKind.REDIRECT,
        status=status,
        message=f"The upstream answered HTTP {status} (a redirect); restloom never follows one",
        request_id=request_id,
    )


def too_large(status: int, limit: int, request_id: str) -> UpstreamError:
    return UpstreamError(
        kind=FailureKind.TOO_LARGE,
        status=status,
        message=f"The upstream's answer is larger than the {limit} bytes restloom accepts",
        request_id=request_id,
    )


async def read_body(resp: aiohttp.ClientResponse, limit: int, request_id: str) -> bytes:
    """The decompressed body, at most `limit` bytes; past it TOO_LARGE, connection dropped.

    Content-Length (of the encoded body) is checked first so that an announced
    oversize body is not read at all; the count that matters is the decoded one.
    """
    declared = resp.content_length
    if declared is not None and declared > limit:
        resp.close()
        raise too_large(resp.status, limit, request_id)
    body = bytearray()
    async for chunk in resp.content.iter_chunked(CHUNK_BYTES):
        if len(body) + len(chunk) > limit:
            # Closing, not releasing: the unread rest must not go back into the pool.
            resp.close()
            raise too_large(resp.status, limit, request_id)
        body += chunk
    return bytes(body)


async def read_error_body(resp: aiohttp.ClientResponse) -> Any:
    """An error status's body, parsed when it is small JSON; otherwise None (status only)."""
    declared = resp.content_length
    if declared is not None and declared > ERROR_BODY_BYTES:
        resp.close()
        return None
    body = bytearray()
    async for chunk in resp.content.iter_chunked(CHUNK_BYTES):
        if len(body) + len(chunk) > ERROR_BODY_BYTES:
            resp.close()
            return None
        body += chunk
    return _json_or_none(bytes(body))


def parse_success_body(raw: bytes, status: int, method: str, request_id: str) -> Any:
    """A 2xx body as JSON. Empty is fine for a write (204, DELETE); for a GET it is not.

    A DELETE's body is never read as data: whatever it holds, the delete happened,
    and reporting it as failed would invite the caller to repeat it.
    """
    if method == "DELETE":
        return _json_or_none(raw)
    if not raw.strip():
        if method == "GET":
            log.warning(
                "upstream sent an empty HTTP %s body to a GET (request %s)", status, request_id
            )
            raise invalid_response(request_id, "the body is empty", status)
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        log.warning(
            "upstream sent HTTP %s with a body that is not JSON (request %s): %s",
            status,
            request_id,
            excerpt(raw),
        )
        raise invalid_response(request_id, "the body is not JSON", status) from None


def _json_or_none(raw: bytes) -> Any:
    try:
        return orjson.loads(raw) if raw.strip() else None
    except orjson.JSONDecodeError:
        return None


def excerpt(raw: bytes) -> str:
    """The start of a body for a log line: printable ASCII only, so it cannot forge lines."""
    text = raw[: EXCERPT_CHARS * 4].decode("utf-8", "replace")[:EXCERPT_CHARS]
    return "".join(c if " " <= c <= "~" else "?" for c in text)


def _origin(location: str | None, request_url: str) -> str:
    if not location:
        return "(no Location)"
    try:
        target = URL(request_url).join(URL(location))
        return str(target.origin())
    except ValueError:
        return "(an unreadable Location)"
