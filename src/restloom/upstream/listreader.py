"""Reading a list by offsets, for one window: pages in, items by offset out.

Upstreams disagree past the end of a list: Django REST Framework answers 404
"Invalid page.", json-server 1.0 serves the last page again, others an empty page.
Only the total is reliable, so every page's items are kept only below the total
that page itself reported, and a 404 on a page after the first is the end of the
list (the first page is then read to learn the total, if no other page told it).
"""

from __future__ import annotations

from restloom.upstream.api import ListQuery, fetch_page
from restloom.upstream.client import Exchange
from restloom.upstream.errors import UpstreamError
from restloom.upstream.pages import Page, Record, plan_pages
from restloom.upstream.together import together

# Ids longer than this are not carried in cursors nor used to realign (hostile upstreams).
MAX_ID_LENGTH = 200


def item_id(item: Record) -> str | None:
    """An item's identity in its list: its id, or the user id of a membership."""
    value = item.get("id")
    if type(value) is str:  # the common case first: this runs once per edge
        return value if len(value) <= MAX_ID_LENGTH else None
    if value is None:
        value = item.get("user_id")
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value)
    return text if len(text) <= MAX_ID_LENGTH else None


class ListReader:
    """The items of one list read so far, by offset, and the list's total.

    `bound` is the total as last seen (by a cursor): until a page tells the
    real total, nothing at or past it is requested.
    """

    def __init__(self, ex: Exchange, query: ListQuery, bound: int | None = None) -> None:
        self._ex = ex
        self._query = query
        self._bound = bound
        self.items: dict[int, Record] = {}
        self.total: int | None = None
        self.requests = 0
        self.max_size = ex.profile.pagination.max_size

    async def read(self, start: int, end: int) -> None:
        """Make items `[start, end)` known, as far as they exist; learns the total."""
        limit = self.total if self.total is not None else self._bound
        if limit is not None:
            end = min(end, limit)
        missing = [offset for offset in range(max(start, 0), end) if offset not in self.items]
        if missing:
            plan = plan_pages(missing[0], missing[-1] + 1, self.max_size)
            pages = await self._pages(plan.pages, plan.size)
            answered = [
                (p, page) for p, page in zip(plan.pages, pages, strict=True) if page is not None
            ]
            for number, page in answered:
                self._keep(number, plan.size, page)
            if answered:
                # The lowest page answered speaks for the list (they normally agree).
                self.total = answered[0][1].total
        if self.total is None:
            # Every page asked for was past the end (or none was needed): page 1 says how long.
            page = await self._page(1, 1)
            assert page is not None, "page 1 is never past the end"
            self._keep(1, 1, page)
            self.total = page.total

    async def _pages(self, numbers: tuple[int, ...], size: int) -> list[Page | None]:
        return await together([self._page(n, size) for n in numbers])

    async def _page(self, number: int, size: int) -> Page | None:
        self.requests += 1
        try:
            return await fetch_page(self._ex, self._query, number, size)
        except UpstreamError as error:
            if error.status == 404 and number > 1:
                return None  # past the end, the way Django REST Framework says it
            raise

    def _keep(self, number: int, size: int, page: Page) -> None:
        base = (number - 1) * size
        # Never more than asked; nothing at or past the total this page reported
        # (an upstream serving its last page again for a page past the end).
        for index, item in enumerate(page.items[:size]):
            offset = base + index
            if offset >= page.total:
                break
            self.items.setdefault(offset, item)

    def find(
        self, wanted: str, near: int, sort_field: str | None, sort_value: object
    ) -> int | None:
        """The offset nearest `near` of the item with id `wanted` (and, when given,
        the same sort value it had: an item whose own sort key changed has moved
        by itself, and must not drag the walk along)."""
        best: int | None = None
        for offset, item in self.items.items():
            if item_id(item) != wanted:
                continue
            if sort_field is not None and item.get(sort_field) != sort_value:
                continue
            if best is None or abs(offset - near) < abs(best - near):
                best = offset
        return best
