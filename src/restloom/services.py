"""What the gateway keeps for the whole process besides the HTTP session.

The read cache, the upstream rate budget and the circuit breaker, built from
settings, and the Redis they share when one is configured. Nothing here
connects eagerly: an unreachable Redis shows in /readyz and degrades the cache
and the budget to per-process, it does not stop the gateway from starting.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import redis.asyncio as redis

from restloom.config import Settings
from restloom.upstream.breaker import CircuitBreaker
from restloom.upstream.cache import OPERATION_TIMEOUT, memory_store, no_retries, redis_store
from restloom.upstream.client import upstream_id
from restloom.upstream.profile import Profile
from restloom.upstream.ratelimit import MemoryBudget, RateBudget, RedisBudget, interval_of
from restloom.upstream.readcache import CachePolicy, ReadCache


@dataclass
class Services:
    cache: ReadCache | None
    budget: RateBudget | None
    breaker: CircuitBreaker
    redis: redis.Redis | None

    async def close(self) -> None:
        if self.cache is not None:
            await self.cache.close()
        if self.budget is not None:
            await self.budget.close()
        if self.redis is not None:
            await self.redis.aclose()


def open_services(settings: Settings, profile: Profile) -> Services:
    redis_url = str(settings.redis_url) if settings.redis_url else None
    client = (
        redis.Redis.from_url(
            redis_url,
            socket_timeout=OPERATION_TIMEOUT,
            socket_connect_timeout=OPERATION_TIMEOUT,
            retry=no_retries(),
        )
        if redis_url
        else None
    )
    return Services(
        cache=_cache(settings, profile, redis_url),
        budget=_budget(settings, profile, client),
        breaker=CircuitBreaker(settings.breaker_failures, settings.breaker_cooldown),
        redis=client,
    )


def _cache(settings: Settings, profile: Profile, redis_url: str | None) -> ReadCache | None:
    policy = CachePolicy(settings.cache_ttl, dict(settings.cache_ttls))
    caching = settings.cache_ttl > 0 or any(ttl > 0 for ttl in settings.cache_ttls.values())
    if redis_url is None and not caching:
        return None
    # With Redis, an instance that caches nothing still has to invalidate: other
    # instances may be configured to cache.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # aiocache on redis-py >= 5
        store = redis_store(redis_url) if redis_url else memory_store(settings.cache_max_bytes)
    # Two upstreams behind one Redis must not share entries.
    namespace = f"{settings.redis_namespace}:{upstream_id(str(settings.upstream_url))}"
    return ReadCache(store, profile, policy, namespace)


def _budget(settings: Settings, profile: Profile, client: redis.Redis | None) -> RateBudget | None:
    spec = settings.upstream_rate_limit(profile)
    if spec is None:
        return None
    # A 429's hold-off on the shared budget is capped like the wait of the call itself.
    cap = settings.max_retry_after
    if client is None:
        return MemoryBudget(interval_of(spec), max_hold_off=cap)
    return RedisBudget(client, interval_of(spec), settings.redis_namespace, max_hold_off=cap)
