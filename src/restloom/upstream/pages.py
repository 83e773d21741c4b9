"""Page-number pagination: which pages cover a window of items, and reading a page back.

A client asks for items `[start, end)` of a list; the upstream only serves
pages `(page, size)` covering `[(page - 1) * size, page * size)`. `plan_pages`
picks the page size that covers the window with the fewest requests (and,
among those, fetches the fewest items); `parse_page` reads items and the
total out of a response in whichever style the profile names.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from restloom.upstream.errors import dig
from restloom.upstream.profile import PaginationSpec, PaginationStyle

Record = dict[str, Any]


@dataclass(frozen=True)
class PagePlan:
    size: int
    pages: tuple[int, ...]  # 1-indexed page numbers (`api.fetch_page` shifts them for the wire)

    @property
    def first_offset(self) -> int:
        return (self.pages[0] - 1) * self.size


@dataclass(frozen=True)
class Page:
    items: list[Record]
    total: int
    page: int
    size: int


@functools.lru_cache(maxsize=4096)
def plan_pages(start: int, end: int, max_size: int) -> PagePlan:
    """The fewest pages (then the fewest items) covering offsets `[start, end)`.

    `end > start >= 0`. The search is over page sizes up to `max_size`, which
    is at most a few hundred, so trying each one is exact; windows repeat (every
    `first: 10` is the same plan), so plans are memoised.
    """
    if not 0 <= start < end:
        raise ValueError(f"empty or negative window [{start}, {end})")
    if start == 0 and end <= max_size:
        return PagePlan(size=end, pages=(1,))  # one page of exactly the window
    best: tuple[int, int, int] | None = None  # (requests, items fetched, size)
    for size in range(1, max_size + 1):
        first_page = start // size
        last_page = (end - 1) // size
        requests = last_page - first_page + 1
        candidate = (requests, requests * size, size)
        if best is None or candidate < best:
            best = candidate
    assert best is not None
    size = best[2]
    return PagePlan(size=size, pages=tuple(range(start // size + 1, (end - 1) // size + 2)))


class ShapeError(ValueError):
    """A 2xx body that does not fit the profile's shape; the caller reports it upstream-invalid."""


def parse_page(
    spec: PaginationSpec,
    body: Any,
    headers: Mapping[str, str],
    page: int,
    size: int,
    *,
    id_key: str = "id",
) -> Page:
    """Items and total of one list response, in the profile's pagination style.

    `page` is 1-based whatever the upstream counts from. Raises `ShapeError` when the
    items are not a list of objects each carrying `id_key`, when the page holds more
    items than the `size` asked for, or when the total is not a non-negative integer:
    a body that cannot be read never becomes an empty list.
    """
    items = body if not spec.items_key else dig(body, spec.items_key)
    where = f"`{spec.items_key}`" if spec.items_key else "the body"
    if not isinstance(items, list):
        raise ShapeError(f"the items ({where}) are not a list")
    if len(items) > size:
        raise ShapeError(f"a page of {size} items came back with {len(items)}")
    for item in items:
        # The usual item (a plain object with a string or integer id) passes here; any
        # other is judged, and refused if it must be, by `check_record`.
        if type(item) is dict:
            value = item.get(id_key)
            if (type(value) is str and value) or type(value) is int:
                continue
        check_record(item, id_key)
    if spec.style is PaginationStyle.HEADERS:
        total = _header_total(spec, headers, page, size, len(items))
    else:
        total = dig(body, spec.total_path)
        if isinstance(total, bool) or not isinstance(total, int) or total < 0:
            raise ShapeError(f"the total (`{spec.total_path}`) is not a non-negative integer")
    return Page(items=items, total=total, page=page, size=size)


def check_record(item: Any, id_key: str = "id") -> Record:
    """`item` if it is an object whose `id_key` is a non-empty string or an integer."""
    if not isinstance(item, dict):
        raise ShapeError(f"an item is a {type(item).__name__}, not an object")
    value = item.get(id_key)
    usable = isinstance(value, int) or (isinstance(value, str) and value != "")
    if isinstance(value, bool) or not usable:
        raise ShapeError(f"an item has no `{id_key}`")
    return item


# A total has at most 18 digits: anything longer is not a count of anything.
_TOTAL_HEADER = re.compile(r"^\s*[0-9]{1,18}\s*$")


def _header_total(
    spec: PaginationSpec, headers: Mapping[str, str], page: int, size: int, count: int
) -> int:
    named = {k.lower(): v for k, v in headers.items()}
    raw = named.get(spec.total_header.lower())
    if raw is None:
        # Without a total header only the Link header tells whether more pages follow.
        has_next = 'rel="next"' in named.get("link", "")
        return (page - 1) * size + count + (1 if has_next else 0)
    if not _TOTAL_HEADER.match(raw):
        raise ShapeError(f"the total ({spec.total_header}) is not a non-negative integer")
    return int(raw)
