"""`together`: several awaitables at once, without a task for a lone one."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def together(awaitables: list[Awaitable[T]]) -> list[T]:
    """Every awaitable, concurrently; a lone one (the usual case) awaited in place.

    `gather` wraps each in a task that first runs on a later loop iteration: for the one
    read most lists need, or the one batch lookup most id batches need, that only delays
    its upstream call (behind every sibling list's own setting-up, when 25 lists are
    loaded together).
    """
    if len(awaitables) == 1:
        return [await awaitables[0]]
    return list(await asyncio.gather(*awaitables))
