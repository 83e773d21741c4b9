"""Repeated queries answered before Starlette, strawberry and GraphQL: the response cache's lane.

A response-cache hit executes nothing, yet going through the router, the strawberry
view, its schema extensions and the middleware stack cost 0.3 ms of CPU per hit,
ten times what the HTTP server itself costs (README, "Performance"). This ASGI
middleware answers such a request from the response cache directly, with the same
status, headers and body as the view would give, and hands every other request to
the app untouched.

It answers only the plain case, where the outcome cannot depend on anything it skips:

- a POST to the GraphQL path, `Content-Type: application/json` (UTF-8), a declared
  `Content-Length` within the body cap, an `Accept` the front door serves;
- none of the headers the view checks or forwards (`X-Impersonate-User-Id`,
  `X-Org-Unit`, `Idempotency-Key`);
- a well-formed request (`frontdoor.request`) without `extensions`;
- a document this process has already checked (limits, parse, validation) and run
  as a query (`ResponseCache.vetted`): an entry in a Redis shared with other
  instances says nothing of this instance's limits;
- a kept response whose version tokens are all current (`ResponseCache.lookup`).

A body it read and did not answer is replayed to the app, so the app sees the
request as the server sent it. A hit's whole response body is kept (a few hundred, in
this process) for the same principal, media type and request bytes: a repeat then skips
parsing, hashing and the entry read, and is sent once its TTL and version tokens are
checked again. The operation is observed as the view observes one
(log line, metrics, span) through the app's `Observer`.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from restloom.frontdoor.body import length_value
from restloom.frontdoor.errors import RequestRejected
from restloom.frontdoor.negotiate import response_media_type
from restloom.frontdoor.request import from_json_body
from restloom.frontdoor.request_id import request_id_given
from restloom.graphql.response_cache import Hit, ResponseCache, document_digest
from restloom.observability.observer import Observer, OperationEnd
from restloom.upstream.client import Caller, UpstreamClient
from restloom.upstream.credentials import Credential

# Headers that change who the upstream sees or that the view checks: their requests
# take the whole way.
_VIEW_HEADERS = frozenset({b"x-impersonate-user-id", b"x-org-unit", b"idempotency-key"})
# The usual spellings of a JSON body's type; any other goes to the view, which parses it
# (frontdoor.media) and answers it or refuses it with 415.
_JSON_TYPES = frozenset(
    {"application/json", "application/json; charset=utf-8", "application/json;charset=utf-8"}
)
# What `UpstreamStats` says of an answer from the response cache (`cacheHits` filled in).
_EXTENSIONS = (
    b',"extensions":{"upstream":{"requests":0,"cacheHits":%d,"coalesced":0,"retries":0},'
    b'"cost":{"predicted":0,"actual":0}}'
)
# `Accept` values seen, with the media type they mean; bounded (values come from callers).
_MAX_ACCEPT_MEMO = 64


# The request headers the lane reads, in `_Headers` order.
_READ_HEADERS = (
    b"content-type",
    b"accept",
    b"x-api-key",
    b"authorization",
    b"content-length",
    b"x-request-id",
    b"traceparent",
)
_HEADER_INDEX = {name: index for index, name in enumerate(_READ_HEADERS)}


class _Headers(NamedTuple):
    """The request headers the lane reads, as sent (the first of each, as Starlette's
    `Headers.get` gives it)."""

    content_type: bytes | None
    accept: bytes | None
    api_key: bytes | None
    authorization: bytes | None
    content_length: bytes | None
    request_id: bytes | None
    traceparent: bytes | None

    def as_mapping(self) -> dict[str, str]:
        """By header name, as the view's observer reads them (`traceparent`)."""
        return {
            name.decode(): value.decode("latin-1")
            for name, value in zip(_READ_HEADERS, self, strict=True)
            if value is not None
        }


@dataclass(frozen=True)
class _Prepared:
    """A hit's whole response body, ready to send again while the hit is current."""

    hit: Hit
    body: bytes
    content_type: bytes
    content_length: bytes


# A request as the lane tells requests apart: the headers that decide who asks and in
# which media type (`Content-Type`, `Accept`, `X-API-Key`, `Authorization`, as sent) and
# the body bytes. The body holds the document, the operation name and the variables,
# and the headers decide the principal and the media type, so the same key always
# names the same kept response.
_Request = tuple[bytes | None, bytes | None, bytes | None, bytes | None, bytes]
# Prepared answers kept in this process: a repeat with the same bytes skips parsing,
# hashing, the credential and the entry read (most of the lane's own time). Bounded in
# number and size; each still checks its TTL and version tokens before it is sent.
_MAX_PREPARED = 256
_MAX_PREPARED_REQUEST = 4096
_MAX_PREPARED_BODY = 64 * 1024


class ResponseCacheLane:
    """ASGI middleware (inside CORS, outside the body limit): answers response-cache hits."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        path: str,
        max_body_bytes: int,
        response_extensions: bool,
        client: Callable[[], UpstreamClient | None],
    ) -> None:
        self.app = app
        self.path = path
        self.max_body_bytes = max_body_bytes
        self.response_extensions = response_extensions
        self.client = client
        self._media_types: dict[str | None, str | None] = {}
        self._prepared: OrderedDict[_Request, _Prepared] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        responses = _response_cache_of(scope)
        if (
            responses is None
            or scope["type"] != "http"
            or scope["method"] != "POST"
            or _route_path(scope) != self.path
        ):
            await self.app(scope, receive, send)
            return
        headers = _plain_headers(scope)
        if headers is None or headers.content_length is None:
            await self.app(scope, receive, send)
            return
        # -1 (not a number) is refused by the view, with its own words.
        if not 0 <= length_value(headers.content_length) <= self.max_body_bytes:
            await self.app(scope, receive, send)
            return
        body, messages = await _read_body(receive)
        answered = body is not None and await self._answer(headers, body, responses, send)
        if not answered:
            await self.app(scope, _replay(messages, receive), send)

    async def _answer(
        self, headers: _Headers, body: bytes, responses: ResponseCache, send: Send
    ) -> bool:
        started = time.perf_counter()
        client = self.client()
        if client is None:
            return False
        request = (headers.content_type, headers.accept, headers.api_key, headers.authorization)
        request += (body,)
        prepared = await self._prepared_answer(responses, request)
        if prepared is None:
            prepared = await self._first_answer(headers, body, responses, client)
            if prepared is None:
                return False
            self._keep(request, prepared)
        responses.answered_early += 1
        given_id = headers.request_id
        request_id = request_id_given(None if given_id is None else given_id.decode("latin-1"))
        observer = client.observer
        watch = None
        if isinstance(observer, Observer) and observer.watches_operations():
            watch = observer.begin(request_id, headers.as_mapping())
        await _send(send, prepared, request_id)
        if watch is not None:
            watch.started = started  # the log line's `ms` counts the lookup too
            watch.end(_operation_end(prepared.hit))
        return True

    async def _first_answer(
        self, headers: _Headers, body: bytes, responses: ResponseCache, client: UpstreamClient
    ) -> _Prepared | None:
        """The answer to a request not prepared yet, from the store; None: the view answers."""
        accept = None if headers.accept is None else headers.accept.decode("latin-1")
        media_type = self._media_type(accept)
        if media_type is None:
            return None
        content_type = headers.content_type or b""
        if content_type.decode("latin-1").lower() not in _JSON_TYPES:
            return None
        credential = Credential.from_headers(
            None if headers.api_key is None else headers.api_key.decode("latin-1"),
            None if headers.authorization is None else headers.authorization.decode("latin-1"),
        )
        # The request id only names upstream calls, and the lookup makes none.
        caller = Caller(credential=credential, request_id="")
        upstream_credential = client.credential_for(caller)
        if upstream_credential is None:
            return None  # the view answers UNAUTHENTICATED
        hit = await self._lookup(responses, upstream_credential.principal, body, caller)
        return None if hit is None else self._prepare(hit, media_type)

    async def _lookup(
        self, responses: ResponseCache, principal: str, body: bytes, caller: Caller
    ) -> Hit | None:
        """The kept response for this request, from the store; None: the view answers."""
        try:
            parsed = from_json_body(body)
        except RequestRejected:
            return None  # the view words the refusal
        if parsed.extensions is not None:
            return None
        document = document_digest(parsed.query, parsed.operation_name)
        if not responses.vetted(document):
            return None
        key = responses.key(principal, caller, document, parsed.variables)
        return await responses.lookup(key, responses.current_tokens) if key is not None else None

    def _prepare(self, hit: Hit, media_type: str) -> _Prepared:
        body = b'{"data":' + hit.data_json.encode()
        if self.response_extensions:
            body += _EXTENSIONS % hit.reads
        body += b"}"
        content_type = f"{media_type}; charset=utf-8".encode()
        return _Prepared(hit, body, content_type, str(len(body)).encode())

    def _keep(self, request: _Request, prepared: _Prepared) -> None:
        size = sum(len(part) for part in request if part is not None)
        if size <= _MAX_PREPARED_REQUEST and len(prepared.body) <= _MAX_PREPARED_BODY:
            self._prepared[request] = prepared
            if len(self._prepared) > _MAX_PREPARED:
                self._prepared.popitem(last=False)

    async def _prepared_answer(
        self, responses: ResponseCache, request: _Request
    ) -> _Prepared | None:
        """The answer prepared for the same request, if it may still be given."""
        prepared = self._prepared.get(request)
        if prepared is None:
            return None
        if not await responses.still_current(prepared.hit):
            self._prepared.pop(request, None)
            return None
        self._prepared.move_to_end(request)
        responses.hits += 1
        return prepared

    def _media_type(self, accept: str | None) -> str | None:
        if accept in self._media_types:
            return self._media_types[accept]
        found = response_media_type(accept)
        if len(self._media_types) < _MAX_ACCEPT_MEMO:
            self._media_types[accept] = found
        return found


async def _send(send: Send, prepared: _Prepared, request_id: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-length", prepared.content_length),
                (b"content-type", prepared.content_type),
                (b"x-request-id", request_id.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": prepared.body})


def _operation_end(hit: Hit) -> OperationEnd:
    return OperationEnd(
        name=hit.operation_name,
        type="query",
        outcome="ok",
        errors=(),
        upstream_calls=0,
        cache_hits=hit.reads,
        retries=0,
        coalesced=0,
    )


def _response_cache_of(scope: Scope) -> ResponseCache | None:
    app = scope.get("app")
    found = getattr(getattr(app, "state", None), "response_cache", None)
    return found if isinstance(found, ResponseCache) else None


def _route_path(scope: Scope) -> str:
    """The path below `root_path`, as Starlette's router matches it."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root) :]
    return path


def _plain_headers(scope: Scope) -> _Headers | None:
    """The headers the lane reads, or None when the request carries one that only the
    view may handle."""
    found: list[bytes | None] = [None] * len(_READ_HEADERS)
    for name, value in scope["headers"]:
        index = _HEADER_INDEX.get(name)
        if index is not None:
            if found[index] is None:
                found[index] = value
        elif name in _VIEW_HEADERS or name == b"transfer-encoding":
            return None
    return _Headers(*found)


async def _read_body(receive: Receive) -> tuple[bytes | None, list[Message]]:
    """The whole body (None if the client left first), and the messages that carried it."""
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return None, messages
        if not message.get("more_body", False):
            if len(messages) == 1:
                return message.get("body", b""), messages
            return b"".join(m.get("body", b"") for m in messages), messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """`receive` for the app: the messages already read, then the server's."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
