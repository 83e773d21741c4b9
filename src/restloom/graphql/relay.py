"""Relay plumbing: global ids, opaque cursors, connection arguments, connection types.

A connection's window is a range of offsets into the upstream's list; cursors
carry the offset and the item's id (to find it again when the list changed),
bound to their list and signed, so a tampered or foreign cursor is refused.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import math
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

import orjson
import strawberry

from restloom.graphql.errors import bad_user_input
from restloom.upstream.anchors import Anchor, SortValue
from restloom.upstream.api import ListQuery
from restloom.upstream.profile import Profile
from restloom.upstream.urls import valid_id
from restloom.upstream.windows import Slice, Window

NodeT = TypeVar("NodeT")


@strawberry.interface(description="An object with a globally unique id.")
class Node:
    id: strawberry.ID


# --- global ids ---------------------------------------------------------------


# Each record read builds its global id, and the same records come back request after
# request (a page of 100 contacts: 100 ids each time): memoise, bounded (~5 MB at most).
@functools.lru_cache(maxsize=16384)
def to_global_id(type_name: str, database_id: str) -> strawberry.ID:
    raw = f"{type_name}:{database_id}".encode()
    return strawberry.ID(base64.urlsafe_b64encode(raw).decode().rstrip("="))


def from_global_id(global_id: str) -> tuple[str, str] | None:
    """`(type name, database id)`, or None when `global_id` is not one of ours."""
    padded = global_id + "=" * (-len(global_id) % 4)
    try:
        decoded = base64.urlsafe_b64decode(padded.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    type_name, sep, database_id = decoded.partition(":")
    if not sep or not type_name.isidentifier() or not database_id:
        return None
    return type_name, database_id


def database_id_for(
    type_name: str, id_or_global_id: str, profile: Profile, argument: str = "id"
) -> str:
    """The upstream's id from a Relay global id of `type_name` or the upstream's own id.

    Either way it must match the profile's id format, or it is BAD_USER_INPUT naming
    `argument` (the GraphQL argument, camelCase) and nothing reaches the upstream: ids
    are data, never paths.
    """
    decoded = from_global_id(id_or_global_id)
    if decoded is None or decoded[0] not in NODE_TYPE_NAMES:
        database_id = id_or_global_id
    elif decoded[0] != type_name:
        raise bad_user_input(f"`{argument}` is a {decoded[0]} id, not a {type_name} id", argument)
    else:
        database_id = decoded[1]
    if not valid_id(profile, database_id):
        raise bad_user_input(
            f"`{argument}` is not a valid {type_name} id for this upstream", argument
        )
    return database_id


# Filled in by each node type's module, so `database_id_for` can tell ours from raw ids.
NODE_TYPE_NAMES: set[str] = set()


# --- cursors ------------------------------------------------------------------

# A cursor longer than this is refused before it is decoded. Ours stay below: an id of
# 200 characters and a sort value of 64, each escaped by JSON at up to 6 bytes a
# character, make a payload under 1,700 bytes, under 2,300 characters in base64.
MAX_CURSOR_LENGTH = 2500
# Sort values longer than this are not carried (the walk then realigns by id alone).
MAX_SORT_VALUE_LENGTH = 64


class CursorCodec:
    """Cursors are base64url of `[scope, offset, item id, sort value, total]` and a MAC.

    `scope` is a keyed hash of the whole list query (collection, parent, filters,
    search, order, updatedAfter), so a cursor of another list is refused; the item's
    id and sort value let a walk find its place again when the list changed
    (`upstream.anchors`); `total` is the list's size when the cursor was made, so a
    window never asks for a page past it before the upstream has said otherwise.
    """

    def __init__(self, secret: bytes) -> None:
        self.secret = secret
        # A page of 250 edges needs 250 cursors, and the same windows come back request
        # after request: memoise per codec instead of MAC-ing each one again.
        self._encode_cached = functools.lru_cache(maxsize=65536)(self._encode)
        self.scope = functools.lru_cache(maxsize=4096)(self._scope)
        # One memo entry per whole window: one lookup instead of 250.
        self._window_cached = functools.lru_cache(maxsize=1024)(self._window)

    def _scope(self, query: ListQuery) -> str:
        canonical = orjson.dumps(
            [
                query.collection,
                query.parent_id,
                query.filters,
                [query.sort.field, query.sort.direction] if query.sort else None,
            ]
        )
        return hashlib.blake2b(canonical, key=self._key(b"scope"), digest_size=9).hexdigest()

    def encode(
        self,
        scope: str,
        offset: int,
        item_id: str | None = None,
        sort_value: object = None,
        total: int | None = None,
    ) -> str:
        return self._encode_cached(scope, offset, item_id, _carried(sort_value), total)

    def window(
        self,
        scope: str,
        offsets: tuple[int, ...],
        ids: tuple[str | None, ...],
        sort_values: tuple[object, ...],
        total: int,
    ) -> tuple[str, ...]:
        """The cursors of a window's items, memoised as a whole."""
        return self._window_cached(scope, offsets, ids, tuple(map(_carried, sort_values)), total)

    def _window(
        self,
        scope: str,
        offsets: tuple[int, ...],
        ids: tuple[str | None, ...],
        sort_values: tuple[SortValue, ...],
        total: int,
    ) -> tuple[str, ...]:
        encode = self._encode_cached
        return tuple(
            encode(scope, offset, item_id, value, total)
            for offset, item_id, value in zip(offsets, ids, sort_values, strict=True)
        )

    def _encode(
        self,
        scope: str,
        offset: int,
        item_id: str | None,
        sort_value: SortValue,
        total: int | None,
    ) -> str:
        payload = orjson.dumps([scope, offset, item_id, sort_value, total])
        raw = payload + b"." + self._mac(payload).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def decode(self, scope: str, cursor: str, argument: str) -> Anchor:
        invalid = bad_user_input(f"`{argument}` is not a valid cursor", argument)
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise invalid
        padded = cursor + "=" * (-len(cursor) % 4)
        try:
            payload, _, mac = base64.urlsafe_b64decode(padded.encode()).rpartition(b".")
            if not hmac.compare_digest(mac, self._mac(payload).encode()):
                raise invalid
            fields = orjson.loads(payload)
        except (binascii.Error, ValueError, orjson.JSONDecodeError):
            raise invalid from None
        anchor = _anchor(fields)
        if anchor is None:
            raise invalid
        if fields[0] != scope:
            raise bad_user_input(f"`{argument}` is a cursor of another list", argument)
        return anchor

    def _key(self, purpose: bytes) -> bytes:
        return hashlib.blake2b(self.secret, key=purpose, digest_size=32).digest()

    def _mac(self, payload: bytes) -> str:
        # Keyed BLAKE2 is a MAC in itself, and cheaper than HMAC-SHA256.
        return hashlib.blake2b(payload, key=self.secret[:64], digest_size=8).hexdigest()


def _carried(value: object) -> SortValue:
    """A sort value a cursor can carry: short text or a finite number, else None."""
    if type(value) is str:
        return value if len(value) <= MAX_SORT_VALUE_LENGTH else None
    if isinstance(value, str):
        return value if len(value) <= MAX_SORT_VALUE_LENGTH else None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    return None


def _anchor(fields: Any) -> Anchor | None:
    """The anchor a (MAC-checked) cursor payload names, or None if it is malformed."""
    if not isinstance(fields, list) or len(fields) != 5 or not isinstance(fields[0], str):
        return None
    _, offset, item_id, sort_value, total = fields
    if not _natural(offset) or (total is not None and not _natural(total)):
        return None
    if item_id is not None and not isinstance(item_id, str):
        return None
    if isinstance(sort_value, bool) or not isinstance(sort_value, str | int | float | None):
        return None
    return Anchor(offset=offset, item_id=item_id, sort_value=sort_value, total=total)


def _natural(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**53


# --- connection arguments ------------------------------------------------------


def parse_slice(
    *,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    scope: str,
    cursors: CursorCodec,
    max_size: int,
    default_size: int,
) -> Slice:
    for name, value in (("first", first), ("last", last)):
        if value is not None and value < 0:
            raise bad_user_input(f"`{name}` must not be negative", name)
        if value is not None and value > max_size:
            raise bad_user_input(f"`{name}` must be at most {max_size}, got {value}", name)
    after_anchor = cursors.decode(scope, after, "after") if after is not None else None
    before_anchor = cursors.decode(scope, before, "before") if before is not None else None
    if first is None and last is None:
        first = default_size
    return Slice(first=first, last=last, after=after_anchor, before=before_anchor)


# --- connection types ----------------------------------------------------------


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    total_count: int

    @strawberry.field
    def nodes(self) -> list[NodeT]:
        return [edge.node for edge in self.edges]


def page_info(cursors: Sequence[str], window: Window) -> PageInfo:
    return _WindowPageInfo(cursors, window)


class _WindowPageInfo(PageInfo):
    """A PageInfo whose cursors are read when asked (see `WindowCursors`)."""

    __slots__ = ("_cursors", "_window")

    def __init__(self, cursors: Sequence[str], window: Window) -> None:
        self._cursors = cursors
        self._window = window

    @property  # type: ignore[override]
    def has_next_page(self) -> bool:
        return self._window.has_next_page

    @property  # type: ignore[override]
    def has_previous_page(self) -> bool:
        return self._window.has_previous_page

    @property  # type: ignore[override]
    def start_cursor(self) -> str | None:
        return self._cursors[0] if self._cursors else None

    @property  # type: ignore[override]
    def end_cursor(self) -> str | None:
        return self._cursors[-1] if self._cursors else None
