"""A real Redis for the tests that need one: at REDIS_URL, or skipped (failed under CI=true)."""

from __future__ import annotations

import os

import pytest
import redis.asyncio as redis

from restloom.config import Settings

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


async def require_redis() -> str:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        await client.ping()
    except (redis.RedisError, OSError) as exc:
        reason = f"Redis not reachable at {REDIS_URL}: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    finally:
        await client.aclose()
    return REDIS_URL


async def drop_namespace(url: str, namespace: str) -> None:
    """Delete one test's keys: SCAN, never KEYS or FLUSHDB, on a Redis others may use."""
    client = redis.Redis.from_url(url)
    try:
        batch = [key async for key in client.scan_iter(match=f"{namespace}:*", count=500)]
        if batch:
            await client.unlink(*batch)
    finally:
        await client.aclose()


def redis_cache_settings(upstream_url: str, redis_url: str, namespace: str) -> Settings:
    """A gateway caching reads in Redis for 60 s, with the cursor key its peers share."""
    return Settings(
        upstream_url=upstream_url,
        redis_url=redis_url,
        redis_namespace=namespace,
        cache_ttl=60,
        cursor_secret="test-cursor-secret",
    )
