"""Version tokens this instance could not write yet, and the scopes they leave "dirty".

An invalidation is a new version token written to the shared store. When the
store is down or stalled, the token does not get there, and every instance
(this one included) would go on serving the entries of the old generation for
their whole TTL. So the scope is marked dirty here *before* the write is tried:
while it is dirty, this instance reads that principal's or collection's data
through to the upstream and stores none of it; a background task retries the
write, and the mark is cleared once the newest token for the scope is written.

Other instances cannot know about a write that never reached the store: they
serve the old generation until the token lands (or their entries' TTL ends).
The marks live in this process only; a restart forgets them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping

from restloom.upstream.cache import CacheUnavailable

log = logging.getLogger("restloom.cache")

# Background retries: from the first pause, doubling up to the longest.
FIRST_RETRY = 0.25
LONGEST_RETRY = 5.0


class PendingTokens:
    """Scope -> the newest token not yet known to be in the store."""

    def __init__(
        self,
        write: Callable[[Mapping[str, str]], Awaitable[None]],
        first_retry: float = FIRST_RETRY,
        longest_retry: float = LONGEST_RETRY,
    ) -> None:
        self._write = write  # raises CacheUnavailable when the store does not take them
        self._tokens: dict[str, str] = {}
        self._first_retry = first_retry
        self._longest_retry = longest_retry
        self._task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._tokens)

    def dirty(self, scopes: Iterable[str]) -> bool:
        tokens = self._tokens
        return bool(tokens) and any(scope in tokens for scope in scopes)

    def scopes(self) -> list[str]:
        return sorted(self._tokens)

    async def publish(self, tokens: Mapping[str, str]) -> bool:
        """Write `tokens`, keeping their scopes dirty until they are written; True if now."""
        self._tokens.update(tokens)
        try:
            await self._write(tokens)
        except CacheUnavailable as exc:
            log.error(
                "could not write the new version of %s (%s): this instance reads them "
                "through to the upstream and retries the write in the background",
                ", ".join(sorted(tokens)),
                exc,
            )
            self._retry_later()
            return False
        self._written(tokens)
        return True

    async def flush(self) -> bool:
        """Try once to write every pending token; True when none is left."""
        if not self._tokens:
            return True
        tokens = dict(self._tokens)
        try:
            await self._write(tokens)
        except CacheUnavailable:
            return False
        self._written(tokens)
        if not self._tokens:
            log.warning("pending cache invalidations written; caching resumed for them")
        return not self._tokens

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def _written(self, tokens: Mapping[str, str]) -> None:
        for scope, token in tokens.items():
            # A newer token for the scope may have been issued meanwhile: it stays pending.
            if self._tokens.get(scope) == token:
                del self._tokens[scope]

    def _retry_later(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._retry())

    async def _retry(self) -> None:
        pause = self._first_retry
        while self._tokens:
            await asyncio.sleep(pause)
            if await self.flush():
                return
            pause = min(pause * 2, self._longest_retry)
