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
    pages: tuple[int, ...]  # 1-indexed page numbers

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


def parse_page(
    spec: PaginationSpec, body: Any, headers: Mapping[str, str], page: int, size: int
) -> Page:
    """Items and total of one list response, in the profile's pagination style."""
    if spec.style is PaginationStyle.HEADERS:
        items = body if isinstance(body, list) else []
        total = _int_or_none(headers.get(spec.total_header))
        if total is None:
            # Without X-Total only the Link header tells whether more pages follow.
            has_next = 'rel="next"' in headers.get("Link", "")
            total = (page - 1) * size + len(items) + (1 if has_next else 0)
    else:
        items = dig(body, spec.items_key) if isinstance(body, dict) else None
        items = items if isinstance(items, list) else []
        total = _int_or_none(dig(body, spec.total_path))
        if total is None:
            total = (page - 1) * size + len(items)
    return Page(items=[i for i in items if isinstance(i, dict)], total=total, page=page, size=size)


_INT = re.compile(r"^\s*\d+\s*$")


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INT.match(value):
        return int(value)
    return None
