"""Finding a cursor's item again in a list that may have changed since.

A cursor remembers its item's offset, id and sort value. If the item still
stands at that offset, nothing more is read. If it moved (items were inserted
or deleted before it), it is looked for by id: first among the pages already
read, then in a neighbourhood of `NEIGHBOURHOOD` items (or the profile's maximum
page size, if smaller) on either side: at most three more page requests. If it
is not there (deleted, or moved by a change of its own sort value), the walk
continues where it would have stood: the first item that sorts after it, by its
remembered sort value and id, when the pages read show that place; otherwise at
its old offset.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from restloom.upstream.api import Direction, Sort
from restloom.upstream.listreader import ListReader, item_id
from restloom.upstream.pages import Record

SortValue = str | int | float | None

# The most items looked at on either side of a moved cursor item (the profile's maximum
# page size when smaller): a walk survives up to that many net inserts or deletes
# before its position, for at most three more page requests.
NEIGHBOURHOOD = 250

_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


@dataclass(frozen=True)
class Anchor:
    """Where a cursor's item stood when the cursor was made."""

    offset: int
    item_id: str | None = None
    sort_value: SortValue = None
    total: int | None = None  # the list's size then: round one never reads past it


async def locate(reader: ListReader, sort: Sort | None, anchor: Anchor) -> tuple[int, bool]:
    """`(offset, True)` where the anchor's item stands now, or `(offset, False)`
    where it would stand (the offset of the first item after it) if it is gone."""
    if anchor.item_id is None:
        return anchor.offset, True  # an item without an id: its offset is all there is
    field = sort.field if sort is not None and anchor.sort_value is not None else None
    if _is_anchor(reader.items.get(anchor.offset), anchor, field):
        return anchor.offset, True
    found = reader.find(anchor.item_id, anchor.offset, field, anchor.sort_value)
    if found is None:
        reach = _reach(reader)
        await reader.read(max(0, anchor.offset - reach), anchor.offset + reach)
        found = reader.find(anchor.item_id, anchor.offset, field, anchor.sort_value)
    if found is not None:
        return found, True
    assert reader.total is not None
    if sort is not None and field is not None:
        place = _place_by_sort(reader, sort, anchor)
        if place is not None:
            return place, False
    # Deleted, and nothing to place it by: the items after it moved up into its place.
    return min(anchor.offset, reader.total), False


def _reach(reader: ListReader) -> int:
    return min(NEIGHBOURHOOD, reader.max_size)


def _is_anchor(item: Record | None, anchor: Anchor, field: str | None) -> bool:
    if item is None or item_id(item) != anchor.item_id:
        return False
    return field is None or item.get(field) == anchor.sort_value


def _place_by_sort(reader: ListReader, sort: Sort, anchor: Anchor) -> int | None:
    """The offset of the first item read that sorts after the anchor's item, if the
    items read around it show that place (an item before it right in front, or the
    start of the list; an item after it right behind, or the end of the list)."""
    total = reader.total
    assert total is not None
    low = max(0, anchor.offset - _reach(reader))
    high = min(total, anchor.offset + _reach(reader))
    previous_before = low == 0  # the start of the list is "before" the anchor
    for offset in range(low, high):
        item = reader.items.get(offset)
        if item is None:
            previous_before = False  # a hole: no boundary can be trusted across it
            continue
        after = _sorts_after(item, sort, anchor)
        if after is None:
            return None
        if after:
            return offset if previous_before else None
        previous_before = True
    return high if previous_before and high == total else None


def _sorts_after(item: Record, sort: Sort, anchor: Anchor) -> bool | None:
    """Whether `item` comes after the anchor's item in the list's order (ties by id,
    ascending, whatever the direction); None when the two cannot be compared."""
    mine, theirs = _key(item.get(sort.field)), _key(anchor.sort_value)
    if mine is None or theirs is None or mine[0] != theirs[0]:
        return None
    if mine != theirs:
        return (mine > theirs) == (sort.direction is Direction.ASC)
    own_id, anchor_id = item_id(item), anchor.item_id
    if own_id is None or anchor_id is None:
        return None
    if own_id.isdigit() and anchor_id.isdigit():
        return int(own_id) > int(anchor_id)
    return own_id > anchor_id


def _key(value: Any) -> tuple[int, Any] | None:
    """A sort value as something comparable: numbers, timestamps (as instants), text."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return (0, float(value))
    if isinstance(value, str):
        if _TIMESTAMP.match(value):
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return (2, value)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return (1, moment.timestamp())
        return (2, value)
    return None
