"""Windows of a list: items `[start, end)` from the fewest upstream page requests.

`api.fetch_page` reads one page; this module decides which pages a Relay
window needs and cuts the window out of them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from restloom.upstream.api import ListQuery, fetch_page
from restloom.upstream.client import Exchange
from restloom.upstream.pages import Record, plan_pages


@dataclass(frozen=True)
class Window:
    """Items `[start, start + len(items))` of a list of `total` items."""

    items: list[Record]
    start: int
    total: int


async def fetch_range(ex: Exchange, query: ListQuery, start: int, end: int) -> Window:
    """Items `[start, end)`, with the fewest page requests, sent concurrently."""
    plan = plan_pages(start, end, ex.profile.pagination.max_size)
    pages = await asyncio.gather(*(fetch_page(ex, query, p, plan.size) for p in plan.pages))
    items = [item for page in pages for item in page.items]
    offset = start - plan.first_offset
    return Window(items=items[offset : offset + end - start], start=start, total=pages[0].total)


async def fetch_tail(ex: Exchange, query: ListQuery, count: int, not_before: int) -> Window:
    """The last `count` items at or after offset `not_before`, when the total is unknown.

    The first page (of `count` items) tells the total; a list no longer than
    that is then complete, otherwise a second round fetches the tail.
    """
    size = min(count, ex.profile.pagination.max_size)
    head = await fetch_page(ex, query, 1, size)
    start = max(not_before, head.total - count)
    if start >= head.total:
        return Window(items=[], start=head.total, total=head.total)
    if head.total <= size:
        return Window(items=head.items[start:], start=start, total=head.total)
    return await fetch_range(ex, query, start, head.total)
