"""One call for identical concurrent reads in a process: the first caller fetches, others wait.

The leader runs the fetch in its own task, with its own deadline and credential;
followers (other GraphQL requests asking for the same cache key meanwhile) take
its result, or its exception. A leader that is cancelled (its client went away)
does not fail its followers: they wake, one of them becomes the new leader and
fetches, and the others follow that one. So do they when the leader fails for a
reason of its own request rather than of the upstream (see `run`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


class _LeaderGone(Exception):
    """The leader was cancelled before it had a result; a follower takes over."""


@dataclass(frozen=True)
class Flown(Generic[T]):
    value: T
    shared: bool  # True: another request's call answered this one


class SingleFlight(Generic[T]):
    def __init__(self) -> None:
        self._flights: dict[str, asyncio.Future[T]] = {}

    def __len__(self) -> int:
        return len(self._flights)

    async def run(
        self,
        key: str,
        fetch: Callable[[], Awaitable[T]],
        shareable: Callable[[Exception], bool] = lambda error: True,
    ) -> Flown[T]:
        """`fetch()`'s value, or that of the call in flight for `key`.

        An error for which `shareable` is False belongs to the leader's own request (its
        deadline, its request cap): followers are not failed with it, one takes over.
        """
        while (pending := self._flights.get(key)) is not None:
            try:
                # shield: a follower that is cancelled must not cancel the leader's future.
                return Flown(await asyncio.shield(pending), shared=True)
            except _LeaderGone:
                continue  # lead now, or follow whoever woke first and did
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._flights[key] = future
        try:
            value = await fetch()
        except BaseException as exc:
            # Cancellation (or KeyboardInterrupt) is the leader's own business: the
            # followers are told to take over instead of being cancelled with it.
            shared = exc if isinstance(exc, Exception) and shareable(exc) else _LeaderGone()
            future.set_exception(shared)
            future.exception()  # retrieved, even when nobody followed
            raise
        else:
            future.set_result(value)
            return Flown(value, shared=False)
        finally:
            if self._flights.get(key) is future:
                del self._flights[key]
