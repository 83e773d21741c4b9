"""Where instances sharing a Redis agree on who polls a job, and read how it ended.

One instance at a time holds a job's *poll lease* and polls the upstream; the others
read the job's outcome from Redis once the holder has published it. A holder that
stops renewing (crashed, its subscribers left) loses the lease and another instance
takes over. Without Redis every instance polls for itself (`LocalBoard`).

A Redis that does not answer costs polls, never answers: the instance polls the
upstream itself.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, Protocol

import orjson
import redis.asyncio as redis
from redis.exceptions import RedisError

from restloom.upstream.jobstate import JobError, JobState, JobStatus

log = logging.getLogger(__name__)

# How long a published outcome stays readable.
OUTCOME_TTL_SECONDS = 600


class JobBoard(Protocol):
    async def claim(self, key: str, holder: str, lease: float) -> bool:
        """Whether `holder` may poll now (taking or renewing the lease)."""
        ...

    async def outcome(self, key: str) -> JobState | None: ...

    async def publish(self, key: str, state: JobState) -> None: ...

    async def release(self, key: str, holder: str) -> None:
        """`holder` stops polling (its subscribers left): another instance may take over."""
        ...


class LocalBoard:
    """One instance: it always polls, and nobody else needs the outcome."""

    async def claim(self, key: str, holder: str, lease: float) -> bool:
        return True

    async def outcome(self, key: str) -> JobState | None:
        return None

    async def publish(self, key: str, state: JobState) -> None:
        return None

    async def release(self, key: str, holder: str) -> None:
        return None


class RedisBoard:
    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self._redis = client
        self._namespace = namespace

    def _lease_key(self, key: str) -> str:
        return f"{self._namespace}:jobpoll:{key}"

    def _outcome_key(self, key: str) -> str:
        return f"{self._namespace}:jobdone:{key}"

    async def claim(self, key: str, holder: str, lease: float) -> bool:
        name, ttl = self._lease_key(key), max(1, int(lease))
        try:
            if await self._redis.set(name, holder, nx=True, ex=ttl):
                return True
            current = await self._redis.get(name)
            if current is not None and current.decode() == holder:
                await self._redis.expire(name, ttl)
                return True
            return current is None  # expired between the two calls: poll, SET NX next time
        except RedisError as exc:
            log.warning("job board unavailable (%s): polling the upstream here", type(exc).__name__)
            return True

    async def outcome(self, key: str) -> JobState | None:
        try:
            raw = await self._redis.get(self._outcome_key(key))
        except RedisError:
            return None
        return _decode(raw) if raw else None

    async def publish(self, key: str, state: JobState) -> None:
        try:
            body = orjson.dumps(dataclasses.asdict(state))
            await self._redis.set(self._outcome_key(key), body, ex=OUTCOME_TTL_SECONDS)
            await self._redis.delete(self._lease_key(key))
        except RedisError:
            return  # the others poll the upstream after the lease ends

    async def release(self, key: str, holder: str) -> None:
        try:
            await self._redis.eval(_RELEASE, 1, self._lease_key(key), holder)
        except RedisError:
            return  # the lease ends on its own


# Delete the lease only while it is still this holder's.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _decode(raw: bytes) -> JobState | None:
    try:
        data: Any = orjson.loads(raw)
        error = data.get("error")
        return JobState(
            id=str(data["id"]),
            status=JobStatus(data["status"]),
            result=data.get("result") if isinstance(data.get("result"), dict) else None,
            error=JobError(**error) if isinstance(error, dict) else None,
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
        return None  # unreadable: poll the upstream instead
