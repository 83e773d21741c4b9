"""Upstream answers checked against the profile's shape before anything reads or caches them.

A 2xx body that does not fit (items missing or not a list of objects with an id, a
total that is not a non-negative integer, a page longer than asked, an object body
that is not an object with an id) is `UPSTREAM_INVALID_RESPONSE`, logged with a
short excerpt: never an empty list, never cached (checks run through
`Exchange.get(check=)`, before the cache).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import orjson

from restloom.upstream.caller import Response
from restloom.upstream.errors import UpstreamError, dig, invalid_response
from restloom.upstream.exchange import Exchange
from restloom.upstream.pages import Page, Record, ShapeError, check_record, parse_page
from restloom.upstream.profile import PaginationSpec, Profile

log = logging.getLogger("restloom.upstream")

T = TypeVar("T")

EXCERPT_CHARS = 200


def object_of(profile: Profile, body: Any, id_key: str | None = "id") -> Record:
    """The single object in `body` (at the profile's `item_key`), with an id when `id_key`."""
    item = dig(body, profile.item_key) if profile.item_key else body
    if not isinstance(item, dict):
        where = f"`{profile.item_key}`" if profile.item_key else "the body"
        raise ShapeError(f"the object ({where}) is not an object")
    return check_record(item, id_key) if id_key else item


def invalid(ex: Exchange, path: str, error: ShapeError, body: Any) -> UpstreamError:
    """The error for an answer that does not fit, logged once with a short excerpt."""
    try:
        excerpt = orjson.dumps(body)[:EXCERPT_CHARS].decode(errors="replace")
    except TypeError:
        excerpt = repr(body)[:EXCERPT_CHARS]
    log.warning(
        "upstream answer to GET %s does not fit the profile %s: %s; body starts %s",
        path,
        ex.profile.name,
        error,
        excerpt,
    )
    return invalid_response(ex.caller.request_id, str(error))


def checked(ex: Exchange, path: str, parse: Callable[[Response], T]) -> Callable[[Response], T]:
    """`parse`, with a shape error turned into `UPSTREAM_INVALID_RESPONSE`."""

    def run(response: Response) -> T:
        try:
            return parse(response)
        except ShapeError as error:
            raise invalid(ex, path, error, response.body) from None

    return run


def read_object(ex: Exchange, path: str, response: Response) -> Record:
    """The object a write answered with; it must carry an id."""
    return checked(ex, path, lambda r: object_of(ex.profile, r.body))(response)


class PageRead:
    """Parses a list answer once: as the `check` of `Exchange.get`, then for the caller.

    A response from the cache or shared with an identical call in flight skips the
    check (it passed when it was fetched), so `page` parses whatever it was not given.
    The answer is recognised by its body, the very object the check parsed: the read
    cache hands back a new `Response` around it, and a copy or a stored answer is a
    new body (parsed again here).
    """

    def __init__(self, ex: Exchange, path: str, page: int, size: int, id_key: str) -> None:
        # Not a bound method of self: this object would then sit in a reference cycle,
        # and the page it parsed would wait for the cycle collector instead of going
        # as soon as the request is done.
        read = partial(_read_page, ex.profile.pagination, page, size, id_key)
        self._parse = checked(ex, path, read)
        self._parsed: tuple[Any, Page] | None = None

    def check(self, response: Response) -> None:
        self._parsed = (response.body, self._parse(response))

    def page(self, response: Response) -> Page:
        # Only a container is recognised by identity (None or a number may be shared).
        body = response.body
        parsed = self._parsed
        if parsed is not None and parsed[0] is body and isinstance(body, dict | list):
            return parsed[1]
        return self._parse(response)


def _read_page(
    spec: PaginationSpec, number: int, size: int, id_key: str, response: Response
) -> Page:
    return parse_page(spec, response.body, response.headers, number, size, id_key=id_key)


def page_check(ex: Exchange, path: str, page: int, size: int, id_key: str) -> PageRead:
    return PageRead(ex, path, page, size, id_key)
