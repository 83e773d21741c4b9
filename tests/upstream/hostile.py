"""A misbehaving upstream on loopback, and a second listener that records what reaches it.

`HostileUpstream` speaks just enough of the mossdesk style (a few contacts, the
viewer, create and delete) to be a working upstream in mode "ok", and in every
other mode answers the way a broken or hostile upstream would: HTML with 200,
truncated JSON, wrong types, a huge body, a gzip bomb, a redirect to the
`Recorder`, a body that drips past the timeout, a 429 with an absurd
Retry-After, or any status. A mode applies to the next `times` API requests
(all of them when `times` is None), then mode `then` ("ok": it behaves again).
"""

from __future__ import annotations

import asyncio
import functools
import zlib
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from tests.loopback import Listener

PREFIX = "/api/v1"
CHUNK = b" " * 65536

CONTACTS: list[dict[str, Any]] = [
    {
        "id": f"cnt_hostile{n}",
        "first_name": name,
        "last_name": "Example",
        "email": f"{name.lower()}@example.com",
        "phone": None,
        "company": "Acme",
        "job_title": None,
        "created_at": f"2025-01-0{n}T00:00:00Z",
        "updated_at": f"2025-01-0{n}T00:00:00Z",
    }
    for n, name in ((1, "Ada"), (2, "Brian"), (3, "Chen"))
]

ME = {
    "id": "usr_hostile1",
    "email": "ada@example.com",
    "username": "ada",
    "role": "admin",
    "profile": {"first_name": "Ada", "last_name": "Example", "avatar_url": None},
    "created_at": "2025-01-01T00:00:00Z",
    "updated_at": "2025-01-01T00:00:00Z",
}


@functools.lru_cache(maxsize=4)
def gzip_bomb(expanded_bytes: int) -> bytes:
    """A gzip body of `expanded_bytes` zeros: about 1/1000 of that on the wire."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    parts = [compressor.compress(block) for _ in range(expanded_bytes >> 20)]
    parts.append(compressor.flush())
    return b"".join(parts)


@dataclass(frozen=True)
class Seen:
    """One request as it arrived."""

    method: str
    path_qs: str
    headers: dict[str, str]
    body: bytes


class Recorder(Listener):
    """Where a redirect points: records everything that reaches it, answers 200."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[Seen] = []
        self.app.router.add_route("*", "/{tail:.*}", self._record)

    async def _record(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.seen.append(Seen(request.method, request.path_qs, dict(request.headers), body))
        return web.json_response({"data": [], "meta": {"page": 1, "per_page": 25, "total": 0}})


@dataclass
class Behaviour:
    mode: str = "ok"
    times: int | None = None  # requests the mode applies to; None: every one
    then: str = "ok"  # the mode once `times` is used up
    status: int = 200  # for mode "status"
    retry_after: str = "1"  # for mode "429"
    huge_bytes: int = 50 * 1024 * 1024  # for "huge" and "huge_declared"
    bomb_bytes: int = 200 * 1024 * 1024  # expanded size, for "gzip_bomb"
    drip_seconds: float = 5.0  # for "slow_body"
    redirect_to: str = ""  # base URL, for "redirect302" / "redirect307"


@dataclass
class Counters:
    seen: list[Seen] = field(default_factory=list)
    # Oversize bodies the server managed to send to the end (0: the client hung up).
    finished_huge: int = 0
    dripped_bytes: int = 0


class HostileUpstream(Listener):
    def __init__(self) -> None:
        super().__init__()
        self.behaviour = Behaviour()
        self.counters = Counters()
        self.app.router.add_route("*", "/{tail:.*}", self._handle)

    def set(self, mode: str, **options: Any) -> None:
        self.behaviour = Behaviour(mode=mode, **options)

    def requests(self, path_prefix: str = PREFIX) -> int:
        return sum(1 for s in self.counters.seen if s.path_qs.startswith(path_prefix))

    def last(self) -> Seen:
        return self.counters.seen[-1]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        seen = Seen(request.method, request.path_qs, dict(request.headers), body)
        self.counters.seen.append(seen)
        mode = self._take_mode()
        if mode == "ok":
            return _answer(request, body)
        return await _misbehave(mode, self.behaviour, self.counters, request)

    def _take_mode(self) -> str:
        behaviour = self.behaviour
        if behaviour.times is None:
            return behaviour.mode
        if behaviour.times <= 0:
            return behaviour.then
        behaviour.times -= 1
        return behaviour.mode


def _page(items: list[Any], total: Any = None) -> dict[str, Any]:
    count = len(CONTACTS) if total is None else total
    return {"data": items, "meta": {"page": 1, "per_page": 25, "total": count, "total_pages": 1}}


def _answer(request: web.Request, body: bytes) -> web.Response:
    """A well-behaved mossdesk answer."""
    path = request.path.removeprefix(PREFIX)
    if request.method == "GET" and path == "/users/me":
        return web.json_response({"data": ME})
    if request.method == "GET" and path == "/contacts":
        wanted = request.query.getall("filter[id]", [])
        ids = {i for value in wanted for i in value.split(",")}
        items = [c for c in CONTACTS if not ids or c["id"] in ids]
        size = int(request.query.get("per_page", "25"))
        return web.json_response(_page(items[:size]))
    if request.method == "GET" and path.startswith("/contacts/"):
        found = [c for c in CONTACTS if c["id"] == path.removeprefix("/contacts/")]
        if found:
            return web.json_response({"data": found[0]})
    if request.method == "POST" and path == "/contacts":
        sent = orjson.loads(body) if body else {}
        return web.json_response({"data": {**CONTACTS[0], **sent, "id": "cnt_new"}}, status=201)
    if request.method == "DELETE" and path.startswith("/contacts/"):
        return web.Response(status=204)
    return web.json_response({"error": {"code": "NOT_FOUND", "message": "not found"}}, status=404)


async def _misbehave(
    mode: str, behaviour: Behaviour, counters: Counters, request: web.Request
) -> web.StreamResponse:
    match mode:
        case "html":
            html = "<html><body><h1>Welcome to nginx!</h1>\n\x1b[31m</body></html>"
            return web.Response(text=html, content_type="text/html")
        case "text_ok":
            return web.Response(text="OK")
        case "truncated":
            return _json_text(orjson.dumps(_page(CONTACTS))[:-20])
        case "data_object":
            return web.json_response({"data": {}, "meta": {"page": 1, "per_page": 25, "total": 3}})
        case "total_lots":
            return web.json_response(_page(CONTACTS, total="lots"))
        case "total_negative":
            return web.json_response(_page(CONTACTS, total=-5))
        case "no_id":
            return web.json_response(_page([{"first_name": "Nobody"} for _ in range(3)]))
        case "status":
            error = {"error": {"code": "SOMETHING", "message": f"refused with {behaviour.status}"}}
            return web.json_response(error, status=behaviour.status)
        case "429":
            error = {"error": {"code": "RATE_LIMITED", "message": "slow down"}}
            headers = {"Retry-After": behaviour.retry_after}
            return web.json_response(error, status=429, headers=headers)
        case "redirect302" | "redirect307":
            location = behaviour.redirect_to + request.path_qs
            status = int(mode.removeprefix("redirect"))
            return web.Response(status=status, headers={"Location": location})
        case "huge" | "huge_declared":
            return await _huge(request, behaviour, counters, declared=mode == "huge_declared")
        case "gzip_bomb":
            bomb = gzip_bomb(behaviour.bomb_bytes)
            headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
            return web.Response(body=bomb, headers=headers)
        case "slow_body":
            return await _drip(request, behaviour, counters)
    raise AssertionError(f"unknown mode {mode!r}")


def _json_text(raw: bytes) -> web.Response:
    return web.Response(body=raw, content_type="application/json")


async def _huge(
    request: web.Request, behaviour: Behaviour, counters: Counters, *, declared: bool
) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    if declared:
        response.content_length = behaviour.huge_bytes
    try:
        await response.prepare(request)
        await response.write(b'{"data": [')
        sent = 10
        while sent < behaviour.huge_bytes:
            chunk = CHUNK[: behaviour.huge_bytes - sent]
            await response.write(chunk)
            sent += len(chunk)
        await response.write_eof()
    except ConnectionError:
        return response
    counters.finished_huge += 1
    return response


async def _drip(
    request: web.Request, behaviour: Behaviour, counters: Counters
) -> web.StreamResponse:
    """Headers at once, then one byte every 50 ms: never idle, never done in time."""
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    loop = asyncio.get_running_loop()
    until = loop.time() + behaviour.drip_seconds
    try:
        await response.write(b'{"data": [')
        while loop.time() < until:
            await asyncio.sleep(0.05)
            await response.write(b" ")
            counters.dripped_bytes += 1
        await response.write(b'], "meta": {"page": 1, "per_page": 25, "total": 0}}')
        await response.write_eof()
    except ConnectionError:
        pass
    return response
