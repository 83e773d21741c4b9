"""Per-request DataLoaders: objects by id, and list windows.

Both batch what one tick of resolvers asks for. Windows go through a loader
too: when 25 organizations each want their members, the 25 member pages are
fetched together and come back together, so the users they reference are
all asked for in the same tick and fetched in one batch lookup.
"""

from __future__ import annotations

import asyncio
from functools import partial

from strawberry.dataloader import DataLoader

from restloom.upstream.api import ListQuery, fetch_many
from restloom.upstream.client import Exchange
from restloom.upstream.pages import Record
from restloom.upstream.windows import Slice, Window, load_window

WindowKey = tuple[ListQuery, Slice]


class Loaders:
    def __init__(self, exchange: Exchange) -> None:
        self._exchange = exchange
        self._objects: dict[str, DataLoader[str, Record]] = {}
        self.windows: DataLoader[WindowKey, Window] = DataLoader(load_fn=self._load_windows)

    def objects(self, collection: str) -> DataLoader[str, Record]:
        loader = self._objects.get(collection)
        if loader is None:
            loader = DataLoader(load_fn=partial(fetch_many, self._exchange, collection))
            self._objects[collection] = loader
        return loader

    async def _load_windows(self, keys: list[WindowKey]) -> list[Window | BaseException]:
        loads = (load_window(self._exchange, query, window) for query, window in keys)
        return list(await asyncio.gather(*loads, return_exceptions=True))
