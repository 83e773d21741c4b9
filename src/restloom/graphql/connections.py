"""Serving a Relay connection from an upstream list: arguments in, window out."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar, overload

import strawberry

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
)
from restloom.graphql.relay import Connection, CursorCodec, Edge, page_info, parse_slice
from restloom.upstream.api import Direction, ListQuery, Sort
from restloom.upstream.listreader import item_id
from restloom.upstream.pages import Record
from restloom.upstream.windows import Window

if TYPE_CHECKING:
    from restloom.graphql.context import Context
    from restloom.graphql.loaders import WindowKey

T = TypeVar("T")


@strawberry.enum(description="Sort direction.")
class OrderDirection(Enum):
    ASC = "asc"
    DESC = "desc"


@dataclass(frozen=True)
class ConnectionArgs:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


async def load_connection_window(
    context: Context, query: ListQuery, args: ConnectionArgs
) -> tuple[Window, WindowCursors]:
    """The window of `query` that `args` select, and a cursor for each item of it."""
    return await load_window_at(context, window_key(context, query, args))


def window_key(context: Context, query: ListQuery, args: ConnectionArgs) -> WindowKey:
    """What `args` select of `query`, as the windows loader's key.

    Cursors are bound to the whole query (not just the collection), so a cursor
    of one organization's members, or of another search, is refused here.
    """
    pagination = context.profile.pagination
    window_slice = parse_slice(
        first=args.first,
        after=args.after,
        last=args.last,
        before=args.before,
        scope=context.cursors.scope(query),
        cursors=context.cursors,
        max_size=pagination.max_size,
        default_size=pagination.default_size,
    )
    return query, window_slice


async def load_window_at(context: Context, key: WindowKey) -> tuple[Window, WindowCursors]:
    """The window of `key` (see `window_key`), and a cursor for each item of it."""
    window = await context.loaders.windows.load(key)
    return window, WindowCursors(context.cursors, key[0], window)


class WindowCursors(Sequence[str]):
    """A window's cursors, worked out on first use.

    The usual `edges { node { ... } }` selects no cursor: it no longer pays for a
    hundred of them (ids, sort values, the memo's key) on every request.
    """

    __slots__ = ("_codec", "_cursors", "_query", "_window")

    def __init__(self, codec: CursorCodec, query: ListQuery, window: Window) -> None:
        self._codec = codec
        self._query = query
        self._window = window
        self._cursors: list[str] | None = None

    def _all(self) -> list[str]:
        if self._cursors is None:
            codec, query = self._codec, self._query
            self._cursors = edge_cursors(codec, codec.scope(query), query, self._window)
        return self._cursors

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._window.items)


def edge_cursors(codec: CursorCodec, scope: str, query: ListQuery, window: Window) -> list[str]:
    """A cursor per item: offset, id and sort value (to find the item again), the total.

    On the hot path of every big list: the whole window's cursors are one memo lookup.
    """
    items = window.items
    field = query.sort.field if query.sort is not None else None
    sort_values = tuple(item.get(field) for item in items) if field else (None,) * len(items)
    ids = tuple(map(item_id, items))
    return list(codec.window(scope, tuple(window.offsets), ids, sort_values, window.total))


class CursorFromWindow:
    """For an edge type: its cursor read from its window's cursors when asked.

    Put first among the bases, so that the property stands in for the type's field;
    the edge's `__init__` sets `_cursors` and `_index` (no call more per edge).
    """

    __slots__ = ("_cursors", "_index")
    _cursors: WindowCursors
    _index: int

    @property
    def cursor(self) -> str:
        return self._cursors[self._index]


class _WindowEdge(CursorFromWindow, Edge[Any]):
    """An edge whose cursor is read from its window's cursors when asked."""

    def __init__(self, cursors: WindowCursors, index: int, node: Any) -> None:
        self._cursors = cursors
        self._index = index
        self.node = node


async def list_connection(
    context: Context, query: ListQuery, args: ConnectionArgs, convert: Callable[[Record], T]
) -> Connection[T]:
    window, cursors = await load_connection_window(context, query, args)
    edges = [_WindowEdge(cursors, index, convert(item)) for index, item in enumerate(window.items)]
    return Connection(edges=edges, page_info=page_info(cursors, window), total_count=window.total)


def sort_of(order: Any) -> Sort:
    """An `XOrder` input (with `field` and `direction` enums) as an upstream sort.

    Resolvers pass the input's defaults when the caller gives none: upstreams
    disagree on their default order, and the same query must list the same way
    whichever profile is behind it.
    """
    return Sort(field=order.field.value, direction=Direction(order.direction.value))


def iso(moment: datetime | None) -> str | None:
    """A DateTime argument as the upstream's UTC ISO 8601 string."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    return _parse_time(value)


# Two timestamps per record, the same records request after request: memoise
# (datetimes are immutable, so sharing one between responses is safe), bounded.
@functools.lru_cache(maxsize=16384)
def _parse_time(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def selects(info: Any, *path: str) -> bool:
    """Whether the current field's selection reaches `path` (through fragments too).

    Field names, not aliases; @skip/@include are not evaluated (a field is selected if
    it is written), as with strawberry's `info.selected_fields`. Walks the document's
    nodes directly: `selected_fields` converts the whole selection tree, arguments and
    all, on every call.
    """
    fragments = info._raw_info.fragments
    nodes: list[FieldNode] = list(info._raw_info.field_nodes)
    for name in path:
        nodes = [
            field
            for parent in nodes
            for field in _fields(parent.selection_set, fragments)
            if field.name.value == name
        ]
        if not nodes:
            return False
    return True


def _fields(
    selection_set: SelectionSetNode | None, fragments: dict[str, FragmentDefinitionNode]
) -> Iterator[FieldNode]:
    """The fields of a selection set, those inside its fragments included."""
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode):
            yield from _fields(fragments[selection.name.value].selection_set, fragments)
