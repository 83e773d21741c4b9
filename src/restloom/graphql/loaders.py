"""Per-request DataLoaders: objects by id, and list windows.

Both batch what one tick of resolvers asks for. Windows go through a loader
too: when 25 organizations each want their members, the 25 member pages are
fetched together, and the users they reference are asked for in as few batch
lookups as their number needs: each full batch as soon as the lists in hold enough
new users (`WindowLoader.prefetch`), the rest as soon as the last list is in, before
the callers waiting for it (`WindowLoader.settled`) resume.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine, Iterable, Sequence
from functools import partial
from typing import Any

from strawberry.dataloader import DataLoader
from strawberry.exceptions import WrongNumberOfResultsReturned

from restloom.upstream.api import ListQuery, fetch_many
from restloom.upstream.client import Exchange
from restloom.upstream.pages import Record
from restloom.upstream.windows import Slice, Window, load_window

WindowKey = tuple[ListQuery, Slice]


class Loaders:
    def __init__(self, exchange: Exchange) -> None:
        self._exchange = exchange
        self._objects: dict[str, DataLoader[str, Record]] = {}
        self.windows = WindowLoader(exchange)

    def objects(self, collection: str) -> DataLoader[str, Record]:
        loader = self._objects.get(collection)
        if loader is None:
            loader = DataLoader(load_fn=partial(fetch_many, self._exchange, collection))
            self._objects[collection] = loader
        return loader


class ChunkPrefetch:
    """Child ids (the members' users) of a batch's windows, gathered as each window
    arrives: whenever `chunk` new ones are waiting, they are fetched at once, so a full
    batch lookup goes upstream while slower sibling windows still travel. The rest go
    with the last ids handed in once every window is in, before the callers waiting
    for `settled` resume. A window whose caller hands nothing in (it failed) leaves the
    rest to those callers' own loads."""

    __slots__ = (
        "_adds",
        "_asked",
        "_chunk",
        "_loader",
        "_lookups",
        "_waiting",
        "_windows",
        "all_in",
    )

    def __init__(self, loader: DataLoader[str, Record], chunk: int, windows: int) -> None:
        self._loader = loader
        self._chunk = chunk
        self._windows = windows  # how many callers hand ids in, one window each
        self.all_in = False  # every window of the batch is in (set by the batch)
        self._adds = 0
        self._asked: set[str] = set()
        self._waiting: list[str] = []
        self._lookups: list[asyncio.Task[None]] = []  # the loop holds tasks weakly

    def add(self, ids: Iterable[str]) -> None:
        """One window's children, handed in by its caller."""
        self._adds += 1
        for child in ids:
            if child not in self._asked:
                self._asked.add(child)
                self._waiting.append(child)
        while len(self._waiting) >= self._chunk:
            chunk, self._waiting = self._waiting[: self._chunk], self._waiting[self._chunk :]
            self._fetch(chunk)
        if self._waiting and self.all_in and self._adds >= self._windows:
            rest, self._waiting = self._waiting, []
            self._fetch(rest)

    def _fetch(self, ids: list[str]) -> None:
        """One batch lookup, started now rather than at the loader's next dispatch (two
        loop turns later, behind every caller already woken). The loader's cache holds
        each id's future, so the callers' own loads get them and nothing is asked twice."""
        loader = self._loader
        loop = asyncio.get_running_loop()
        wanted: list[str] = []
        futures: list[asyncio.Future[Record]] = []
        for child in ids:
            known = loader.cache_map.get(child)
            if known is not None and not known.cancelled():
                continue
            future: asyncio.Future[Record] = loop.create_future()
            loader.cache_map.set(child, future)
            wanted.append(child)
            futures.append(future)
        if wanted:
            self._lookups.append(loop.create_task(_answer(loader.load_fn(wanted), futures)))


async def _answer(
    lookup: Awaitable[Sequence[Record | BaseException]], futures: list[asyncio.Future[Record]]
) -> None:
    """A batch lookup's answers to their futures, as strawberry's DataLoader hands them."""
    try:
        values: Sequence[Record | BaseException] = list(await lookup)
        if len(values) != len(futures):
            raise WrongNumberOfResultsReturned(expected=len(futures), received=len(values))
    except Exception as error:  # every id of the lookup fails with it
        values = [error] * len(futures)
    for future, value in zip(futures, values, strict=True):
        if future.cancelled():
            continue
        if isinstance(value, BaseException):
            future.set_exception(value)
        else:
            future.set_result(value)


class _WindowBatch:
    """The windows asked for in one tick, and when the last of them is in."""

    __slots__ = (
        "all_in",
        "futures",
        "keys",
        "pending",
        "prefetches",
        "settled",
        "started",
        "tasks",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.keys: list[WindowKey] = []
        self.futures: list[asyncio.Future[Window]] = []
        self.tasks: list[asyncio.Task[Window]] = []
        self.pending = 0
        self.all_in = False  # every window answered; `settled` follows one loop turn later
        self.started = False  # its loads are out (`dispatch_now` may start it early)
        self.settled: asyncio.Future[None] = loop.create_future()
        self.prefetches: dict[DataLoader[str, Record], ChunkPrefetch] = {}  # by loader


class WindowLoader:
    """Windows by (query, slice): batched per tick like a DataLoader, resolved one by one.

    A DataLoader answers a batch when its whole batch function returns, so every member
    list's resolver would wait for the slowest of its 25 siblings before building its
    edges. Here each window's answer goes to its caller as soon as it is in, and the
    batch's `settled` tells when all are: callers that load children (the members'
    users) wait for it, so those still go upstream in one batch.
    """

    def __init__(self, exchange: Exchange) -> None:
        self._exchange = exchange
        self._cache: dict[WindowKey, asyncio.Future[Window]] = {}
        self._batch_of: dict[WindowKey, _WindowBatch] = {}
        self._open: _WindowBatch | None = None

    def load(self, key: WindowKey) -> asyncio.Future[Window]:
        future = self._cache.get(key)
        if future is not None and not future.cancelled():
            return future
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._cache[key] = future
        batch = self._open
        if batch is None:
            batch = self._open = _WindowBatch(loop)
            # Dispatched as strawberry's DataLoader does: the loads of this tick and
            # the next go together.
            loop.call_soon(self._schedule, batch)
        batch.keys.append(key)
        batch.futures.append(future)
        self._batch_of[key] = batch
        return future

    def loaded(self, key: WindowKey) -> bool:
        """Whether `key` is loading or in, for this request."""
        future = self._cache.get(key)
        return future is not None and not future.cancelled()

    def settled(self, key: WindowKey) -> Awaitable[None] | None:
        """When every window of `key`'s batch is in (None: already, or never loaded)."""
        batch = self._batch_of.get(key)
        if batch is None or batch.settled.done():
            return None
        return batch.settled

    def prefetch(
        self, key: WindowKey, loader: DataLoader[str, Record], chunk: int
    ) -> ChunkPrefetch | None:
        """Where `key`'s caller hands its children's ids while sibling windows are still
        out (None: the batch is already in, so the caller loads them itself)."""
        batch = self._batch_of.get(key)
        if batch is None or batch.settled.done():
            return None
        prefetch = batch.prefetches.get(loader)
        if prefetch is None:
            # No reference back to the batch: a cycle would keep the request's
            # objects until the collector's next pass.
            prefetch = ChunkPrefetch(loader, chunk, len(batch.keys))
            prefetch.all_in = batch.all_in
            batch.prefetches[loader] = prefetch
        return prefetch

    def clear_all(self) -> None:
        """Later loads fetch again (after a write); loads in flight still answer."""
        self._cache.clear()

    def dispatch_now(self) -> None:
        """Start the loads asked for so far in this turn, not the next: for a caller that
        has asked for all of them (`members.load_members_ahead`). Their tasks run before
        anything the caller does after its next `await`."""
        batch = self._open
        if batch is None:
            return
        self._open = None
        if self._begin(batch):
            self._start_tasks(batch)

    def _schedule(self, batch: _WindowBatch) -> None:
        if not batch.started:
            batch.tasks.append(asyncio.get_running_loop().create_task(self._dispatch(batch)))

    async def _dispatch(self, batch: _WindowBatch) -> None:
        if self._open is batch:  # closed: later loads go into a new batch
            self._open = None
        if not self._begin(batch):
            return
        if batch.pending == 1:
            # A lone window is loaded in this task: its upstream call goes out now,
            # not a loop iteration later from a task of its own.
            try:
                outcome: Window | BaseException = await self._load(batch.keys[0])
            except Exception as error:  # this caller's error, not the batch's
                outcome = error
            _resolve(batch, 0, outcome)
            return
        self._start_tasks(batch)

    def _begin(self, batch: _WindowBatch) -> bool:
        """Mark `batch` started; False when nobody waits for its windows any more."""
        if batch.started:
            return False
        batch.started = True
        if all(future.cancelled() for future in batch.futures):
            return False  # nobody waits for these any more
        for future in batch.futures:
            future.add_done_callback(partial(_cancel_when_unwanted, batch))
        batch.pending = len(batch.keys)
        return True

    def _start_tasks(self, batch: _WindowBatch) -> None:
        """A task per window, each answering its caller as soon as it is in."""
        loop = asyncio.get_running_loop()
        for index, key in enumerate(batch.keys):
            task = loop.create_task(self._load(key))
            task.add_done_callback(partial(_task_done, batch, index))
            batch.tasks.append(task)

    def _load(self, key: WindowKey) -> Coroutine[Any, Any, Window]:
        query, window = key
        return load_window(self._exchange, query, window)


def _task_done(batch: _WindowBatch, index: int, task: asyncio.Task[Window]) -> None:
    if task.cancelled():
        batch.futures[index].cancel()
        _resolve(batch, index, None)
    else:
        _resolve(batch, index, task.exception() or task.result())


def _resolve(batch: _WindowBatch, index: int, outcome: Window | BaseException | None) -> None:
    """One window's answer to its caller; the batch settled with its last one."""
    future = batch.futures[index]
    if not future.done():
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)  # type: ignore[arg-type]
    batch.pending -= 1
    if batch.pending == 0:
        batch.all_in = True
        for prefetch in batch.prefetches.values():
            prefetch.all_in = True
        # The last window's caller runs first: it starts the batch lookup of the children
        # still waiting (`ChunkPrefetch`) before the siblings waiting on `settled` resume.
        asyncio.get_running_loop().call_soon(_settle, batch)


def _settle(batch: _WindowBatch) -> None:
    if not batch.settled.done():
        batch.settled.set_result(None)


def _cancel_when_unwanted(batch: _WindowBatch, _future: asyncio.Future[Window]) -> None:
    """No caller waits for any window of the batch any more: stop loading them."""
    if all(future.cancelled() for future in batch.futures):
        for task in batch.tasks:
            task.cancel()
