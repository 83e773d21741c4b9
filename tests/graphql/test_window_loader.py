"""The windows loader: batched per tick, each window answered as soon as it is in.

`load_window` is replaced by windows the test answers by hand, in any order, so the
order of answers is the test's, not the network's. Counts and order, no timings.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from strawberry.dataloader import DataLoader

from restloom.graphql import loaders as loaders_module
from restloom.graphql.loaders import WindowKey, WindowLoader
from restloom.upstream.api import ListQuery
from restloom.upstream.windows import Slice, Window


class Upstream:
    """Stands for `load_window`: each call waits until the test answers its key."""

    def __init__(self) -> None:
        self.calls: list[WindowKey] = []
        self.answers: dict[WindowKey, asyncio.Future[Window]] = {}

    async def load_window(self, _exchange: Any, query: ListQuery, want: Slice) -> Window:
        key = (query, want)
        self.calls.append(key)
        self.answers[key] = asyncio.get_running_loop().create_future()
        return await self.answers[key]

    def answer(self, key: WindowKey, outcome: Window | Exception) -> None:
        if isinstance(outcome, Exception):
            self.answers[key].set_exception(outcome)
        else:
            self.answers[key].set_result(outcome)


@pytest.fixture
def upstream(monkeypatch: pytest.MonkeyPatch) -> Upstream:
    fake = Upstream()
    monkeypatch.setattr(loaders_module, "load_window", fake.load_window)
    return fake


def key(parent: str) -> WindowKey:
    return ListQuery.build("members", parent_id=parent), Slice(first=10)


def window(n: int) -> Window:
    return Window(items=[{"id": str(n)}], offsets=[0], start=0, total=1)


async def ticks(n: int = 5) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def test_each_window_answers_as_soon_as_it_is_in(upstream: Upstream) -> None:
    loader = WindowLoader(exchange=None)  # type: ignore[arg-type]
    keys = [key(str(n)) for n in range(3)]
    futures = [asyncio.ensure_future(loader.load(k)) for k in keys]
    await ticks()
    assert upstream.calls == keys  # one batch, all in flight together
    settled = loader.settled(keys[0])
    assert settled is not None and settled is loader.settled(keys[2])

    upstream.answer(keys[1], window(1))
    await ticks()
    assert futures[1].done() and futures[1].result() == window(1)
    assert not futures[0].done() and not futures[2].done()
    assert not settled.done()  # type: ignore[attr-defined]

    upstream.answer(keys[0], LookupError("list 0 failed"))
    upstream.answer(keys[2], window(2))
    await ticks()
    assert isinstance(futures[0].exception(), LookupError)  # its own error only
    assert futures[2].result() == window(2)
    assert settled.done()  # type: ignore[attr-defined]
    assert loader.settled(keys[0]) is None


async def test_the_last_list_caller_runs_first_then_every_caller_at_once(
    upstream: Upstream,
) -> None:
    loader = WindowLoader(exchange=None)  # type: ignore[arg-type]
    keys = [key("a"), key("b")]
    order: list[str] = []

    async def member_list(k: WindowKey, name: str) -> None:
        await loader.load(k)
        order.append(f"{name} in")
        settled = loader.settled(k)
        if settled is not None:
            await settled
        order.append(f"{name} children")

    runs = [asyncio.ensure_future(member_list(k, n)) for k, n in zip(keys, "ab", strict=True)]
    await ticks()
    upstream.answer(keys[0], window(0))
    await ticks()
    assert order == ["a in"]  # built its edges, waits for its sibling before children
    upstream.answer(keys[1], window(1))
    seen = []
    for _ in range(10):  # one loop iteration at a time
        await asyncio.sleep(0)
        seen.append(set(order))
    first_with_b = next(i for i, snapshot in enumerate(seen) if "b in" in snapshot)
    # The last list's caller runs alone first (it hands in the last children's ids),
    assert seen[first_with_b] == {"a in", "b in"}
    # then every caller asks for its children in one iteration: one batch of loads.
    assert seen[first_with_b + 1] == {"a in", "b in", "a children", "b children"}
    await asyncio.gather(*runs)


class Users:
    """A batch lookup of users that records each call and what had happened by then."""

    def __init__(self, order: list[str], error: Exception | None = None) -> None:
        self.order = order
        self.error = error
        self.lookups: list[tuple[list[str], set[str]]] = []

    async def load_fn(self, ids: list[str]) -> list[dict[str, str]]:
        self.lookups.append((ids, set(self.order)))
        if self.error is not None:
            raise self.error
        return [{"id": i} for i in ids]


async def run_member_lists(
    upstream: Upstream, users: Users, children: dict[str, list[str]], chunk: int
) -> dict[str, list[object]]:
    """Three member lists answered one by one, each handing its users' ids to the prefetch."""
    loader = WindowLoader(exchange=None)  # type: ignore[arg-type]
    user_loader: DataLoader[str, dict[str, str]] = DataLoader(load_fn=users.load_fn)
    got: dict[str, list[object]] = {}

    async def member_list(name: str) -> None:
        k = key(name)
        await loader.load(k)
        users.order.append(f"{name} in")
        settled = loader.settled(k)
        if settled is not None:
            prefetch = loader.prefetch(k, user_loader, chunk)
            assert prefetch is not None
            prefetch.add(children[name])
            await settled
        users.order.append(f"{name} children")
        loads = [user_loader.load(child) for child in children[name]]
        got[name] = list(await asyncio.gather(*loads, return_exceptions=True))

    runs = [asyncio.ensure_future(member_list(name)) for name in children]
    await ticks()
    for n, name in enumerate(children):
        upstream.answer(key(name), window(n))
        await ticks()
    await asyncio.gather(*runs)
    return got


async def test_full_chunks_go_at_once_and_the_rest_before_the_siblings_resume(
    upstream: Upstream,
) -> None:
    users = Users([])
    children = {"a": ["1", "2"], "b": ["2", "3", "4"], "c": ["4", "5"]}
    got = await run_member_lists(upstream, users, children, chunk=3)
    assert [ids for ids, _ in users.lookups] == [["1", "2", "3"], ["4", "5"]]
    # A full chunk as soon as b's list filled it, while c's list was still out;
    assert users.lookups[0][1] == {"a in", "b in"}
    # the rest with c's ids, before any caller resumed to load its children.
    assert users.lookups[1][1] == {"a in", "b in", "c in"}
    assert got == {name: [{"id": i} for i in ids] for name, ids in children.items()}


async def test_a_failed_lookup_fails_each_of_its_users(upstream: Upstream) -> None:
    users = Users([], error=RuntimeError("upstream down"))
    got = await run_member_lists(upstream, users, {"a": ["1"], "b": ["2"], "c": ["3"]}, chunk=2)
    assert [ids for ids, _ in users.lookups] == [["1", "2"], ["3"]]
    for results in got.values():
        assert [str(error) for error in results] == ["upstream down"]


async def test_a_lone_window_and_repeats(upstream: Upstream) -> None:
    loader = WindowLoader(exchange=None)  # type: ignore[arg-type]
    first = asyncio.ensure_future(loader.load(key("x")))
    again = loader.load(key("x"))
    await ticks()
    assert len(upstream.calls) == 1
    upstream.answer(key("x"), window(7))
    assert await first == window(7) and await again == window(7)
    assert loader.load(key("x")) is again  # cached for the request
    loader.clear_all()
    later = asyncio.ensure_future(loader.load(key("x")))
    await ticks()
    assert len(upstream.calls) == 2  # after a write: fetched again
    upstream.answer(key("x"), window(8))
    assert await later == window(8)


async def test_windows_nobody_waits_for_are_cancelled(upstream: Upstream) -> None:
    loader = WindowLoader(exchange=None)  # type: ignore[arg-type]
    keys = [key("p"), key("q")]
    futures = [asyncio.ensure_future(loader.load(k)) for k in keys]
    await ticks()
    for future in futures:
        future.cancel()
    await ticks()
    assert all(answer.cancelled() for answer in upstream.answers.values())


async def test_dispatch_now_starts_the_loads_before_the_callers_next_turn(
    upstream: Upstream,
) -> None:
    loader = WindowLoader(exchange=None)  # type: ignore[arg-type]
    later = WindowLoader(exchange=None)  # type: ignore[arg-type]
    keys = [key("r"), key("s"), key("t")]
    assert not any(loader.loaded(k) for k in keys)
    futures = [loader.load(k) for k in keys]
    for k in keys:
        later.load(key("later-" + k[0].parent_id))  # type: ignore[operator]
    assert all(loader.loaded(k) for k in keys)
    loader.dispatch_now()
    await asyncio.sleep(0)  # one turn: the started loads have run, the scheduled not yet
    assert upstream.calls == keys
    await ticks()
    assert len(upstream.calls) == 6  # the other loader's batch, at its own dispatch
    for n, k in enumerate(keys):
        upstream.answer(k, window(n))
    assert [await future for future in futures] == [window(0), window(1), window(2)]
    loader.clear_all()
    assert not loader.loaded(keys[0])


async def test_cancelling_what_dispatch_now_started_cancels_the_loads(
    upstream: Upstream,
) -> None:
    loader = WindowLoader(exchange=None)  # type: ignore[arg-type]
    keys = [key("u"), key("v")]
    futures = [loader.load(k) for k in keys]
    loader.dispatch_now()
    await asyncio.sleep(0)
    assert upstream.calls == keys
    for future in futures:  # as `load_members_ahead` does when its request is cancelled
        future.cancel()
    await ticks()
    assert all(answer.cancelled() for answer in upstream.answers.values())
