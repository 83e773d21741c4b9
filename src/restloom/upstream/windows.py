"""Windows of a list: the items a Relay window selects, from the fewest page requests.

A window is given by its anchors (where the `after`/`before` cursors' items stood)
and its size. Round one reads the window as the anchors place it, plus the anchors'
own items, never past the total the cursors last saw; each anchor is then checked by
item id and, if the list moved under it, found again (`anchors.locate`) before the
window is cut. Items are keyed by offset in a `ListReader`, so a page read once is
never read again within a window, and pages past the end (404, empty, or the last
page served again) leave no trace in it.
"""

from __future__ import annotations

from dataclasses import dataclass

from restloom.upstream.anchors import Anchor, locate
from restloom.upstream.api import ListQuery
from restloom.upstream.client import Exchange
from restloom.upstream.listreader import ListReader, item_id
from restloom.upstream.pages import Record
from restloom.upstream.together import together


@dataclass(frozen=True)
class Slice:
    """What a connection's arguments ask for: a size and up to two anchors.

    `first`/`last` are already validated; both None never happens (`first`
    defaults to the profile's page size). The anchors are where the cursors'
    items stood when the cursors were made.
    """

    first: int | None = None
    last: int | None = None
    after: Anchor | None = None
    before: Anchor | None = None


@dataclass(frozen=True)
class Window:
    """Items of a list of `total` items, each at its offset in `offsets`.

    Offsets are increasing, normally consecutive from `start`; an item the
    upstream served twice (a page that moved while it was read) is shown once,
    which can leave a gap.
    """

    items: list[Record]
    offsets: list[int]
    start: int
    total: int

    @property
    def has_next_page(self) -> bool:
        return (self.offsets[-1] + 1 if self.offsets else self.start) < self.total

    @property
    def has_previous_page(self) -> bool:
        return (self.offsets[0] if self.offsets else self.start) > 0


async def load_window(ex: Exchange, query: ListQuery, want: Slice) -> Window:
    """The window `want` selects of `query`'s list, trimmed to the list's total."""
    hint = _known_total(want)
    reader = ListReader(ex, query, bound=hint)
    rounds = _first_round(want, hint, ex.profile.pagination.max_size)
    await together([reader.read(lo, hi) for lo, hi in rounds])
    start, end = 0, None
    if want.after is not None:
        position, found = await locate(reader, query.sort, want.after)
        start = position + 1 if found else position
    if want.before is not None:
        end, _ = await locate(reader, query.sort, want.before)
    assert reader.total is not None, "every read learns the total"
    total = reader.total
    start = min(start, total)
    end = start if end is not None and end < start else end
    end = total if end is None else min(end, total)
    if want.first is not None:
        end = min(end, start + want.first)
    if want.last is not None:
        start = max(start, end - want.last)
    if end > start:
        await reader.read(start, end)
    return _cut(reader, start, end)


def _known_total(want: Slice) -> int | None:
    """The largest total the cursors saw: no page past it is asked for in round one."""
    totals = [a.total for a in (want.after, want.before) if a is not None and a.total is not None]
    return max(totals) if totals else None


def _first_round(want: Slice, hint: int | None, max_size: int) -> list[tuple[int, int]]:
    """Offset ranges to read before anything is known: the window as the cursors
    place it, and the anchors' own items (to check them), never past `hint`."""
    after, before = want.after, want.before
    start = after.offset + 1 if after is not None else 0
    end = before.offset if before is not None else None
    if end is None and want.first is None:
        if hint is None:
            # `last` from the end, total unknown: one page of `last` items tells it.
            return [(0, min(want.last or 1, max_size))]
        end = hint
    if end is not None and end < start:
        end = start
    if want.first is not None:
        end = start + want.first if end is None else min(end, start + want.first)
    assert end is not None
    if want.last is not None:
        start = max(start, end - want.last)
    ranges = [(start, end)] if end > start else []
    ranges += [(a.offset, a.offset + 1) for a in (after, before) if a is not None]
    if hint is not None:
        ranges = [(lo, min(hi, hint)) for lo, hi in ranges if lo < hint]
    # `first: 0` from the start, or every cursor at or past the end: one item tells the total.
    return _merged(ranges) or [(0, 1)]


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Touching or overlapping ranges as one: one read (and plan) for each stretch."""
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _cut(reader: ListReader, start: int, end: int) -> Window:
    items: list[Record] = []
    offsets: list[int] = []
    seen: set[str] = set()
    for offset in range(start, end):
        item = reader.items.get(offset)
        if item is None:
            continue  # gone between two page reads of this window
        key = item_id(item)
        if key is not None:
            if key in seen:
                continue  # served twice: shown once
            seen.add(key)
        items.append(item)
        offsets.append(offset)
    assert reader.total is not None
    return Window(items=items, offsets=offsets, start=start, total=reader.total)
