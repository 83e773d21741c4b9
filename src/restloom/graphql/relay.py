"""Relay plumbing: global ids, opaque cursors, connection arguments, connection types.

A connection's window is a range of offsets into the upstream's list; cursors
carry the offset, signed so a tampered or foreign cursor is refused.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
from dataclasses import dataclass
from typing import Generic, TypeVar

import strawberry

from restloom.graphql.errors import bad_user_input
from restloom.upstream.profile import Profile
from restloom.upstream.urls import valid_id

NodeT = TypeVar("NodeT")


@strawberry.interface(description="An object with a globally unique id.")
class Node:
    id: strawberry.ID


# --- global ids ---------------------------------------------------------------


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


class CursorCodec:
    """Cursors are `scope:offset:mac`, base64url; the MAC makes them tamper-evident."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret
        # A page of 250 edges needs 250 cursors, and the same windows come back request
        # after request: memoise per codec instead of MAC-ing each one again.
        self.encode = functools.lru_cache(maxsize=65536)(self._encode)

    def _encode(self, scope: str, offset: int) -> str:
        payload = f"{scope}:{offset}"
        raw = f"{payload}:{self._mac(payload)}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def decode(self, scope: str, cursor: str, argument: str) -> int:
        padded = cursor + "=" * (-len(cursor) % 4)
        try:
            payload, _, mac = base64.urlsafe_b64decode(padded.encode()).decode().rpartition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise bad_user_input(f"`{argument}` is not a valid cursor", argument) from None
        cursor_scope, _, offset = payload.rpartition(":")
        if not hmac.compare_digest(mac, self._mac(payload)) or not offset.isdigit():
            raise bad_user_input(f"`{argument}` is not a valid cursor", argument)
        if cursor_scope != scope:
            raise bad_user_input(f"`{argument}` is a cursor of another list", argument)
        return int(offset)

    def _mac(self, payload: str) -> str:
        # Keyed BLAKE2 is a MAC in itself, and cheaper than HMAC-SHA256.
        return hashlib.blake2b(payload.encode(), key=self.secret[:64], digest_size=8).hexdigest()


# --- connection arguments ------------------------------------------------------


@dataclass(frozen=True)
class Slice:
    """Offsets `[start, end)` to show; `end` None means "up to the end of the list".

    `last` set means: of that range, only the last `last` items, which needs
    the list's total when `end` is None.
    """

    start: int
    end: int | None
    last: int | None = None


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
    start = cursors.decode(scope, after, "after") + 1 if after is not None else 0
    end = cursors.decode(scope, before, "before") if before is not None else None
    if end is not None and end < start:
        end = start
    if first is None and last is None:
        first = default_size
    if first is not None:
        end = start + first if end is None else min(end, start + first)
    if last is not None and end is not None:
        return Slice(start=max(start, end - last), end=end)
    return Slice(start=start, end=end, last=last)


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


def page_info(cursors: list[str], start: int, total: int) -> PageInfo:
    return PageInfo(
        has_next_page=start + len(cursors) < total,
        has_previous_page=start > 0,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )
