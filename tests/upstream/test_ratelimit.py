"""The rate budget: even slots per credential, shared through Redis, pushed back by a 429."""

import uuid

import pytest
import redis.asyncio as redis

from restloom.upstream.cache import no_retries
from restloom.upstream.profile import RateLimitSpec
from restloom.upstream.ratelimit import (
    ARRIVAL_JITTER,
    SAFETY,
    MemoryBudget,
    RedisBudget,
    interval_of,
)

INTERVAL = interval_of(RateLimitSpec(requests=15, per_seconds=15))


def test_slots_are_evenly_spaced_with_a_margin():
    # 15 per 15 s: 5% of the window (0.75 s) spread over the 15 slots.
    assert pytest.approx(1.0 * (1 + SAFETY)) == INTERVAL
    # 15 per 2 s: 5% would be 0.1 s of slack; at least ARRIVAL_JITTER is kept.
    fast = interval_of(RateLimitSpec(requests=15, per_seconds=2))
    assert pytest.approx((2 + ARRIVAL_JITTER) / 15) == fast


async def test_memory_budget_hands_out_one_slot_per_interval():
    budget = MemoryBudget(INTERVAL)
    first = await budget.reserve("key", max_wait=60)
    second = await budget.reserve("key", max_wait=60)
    assert first.granted and first.wait == 0
    assert second.granted and 0 < second.wait <= INTERVAL
    # Another credential has a budget of its own.
    assert (await budget.reserve("other", max_wait=60)).wait == 0


async def test_a_slot_past_the_deadline_is_not_taken():
    budget = MemoryBudget(INTERVAL)
    await budget.reserve("key", max_wait=60)
    refused = await budget.reserve("key", max_wait=0.1)
    assert not refused.granted and refused.wait > 0.1
    # Nothing was reserved: the next caller gets the same slot, not one after it.
    assert (await budget.reserve("key", max_wait=60)).wait <= INTERVAL


async def test_hold_off_pushes_every_caller_back():
    budget = MemoryBudget(INTERVAL)
    await budget.hold_off("key", 30)
    assert (await budget.reserve("key", max_wait=60)).wait > 29


@pytest.fixture
async def redis_client(redis_url, redis_namespace):
    client = redis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_redis_budget_is_shared_between_instances(redis_client, redis_namespace):
    instance_a = RedisBudget(redis_client, INTERVAL, redis_namespace)
    instance_b = RedisBudget(redis_client, INTERVAL, redis_namespace)
    key = f"upstream:{uuid.uuid4().hex}"
    assert (await instance_a.reserve(key, max_wait=60)).wait == 0
    second = await instance_b.reserve(key, max_wait=60)
    assert second.granted and 0 < second.wait <= INTERVAL
    third = await instance_a.reserve(key, max_wait=60)
    assert INTERVAL < third.wait <= 2 * INTERVAL
    await instance_b.hold_off(key, 30)
    assert not (await instance_a.reserve(key, max_wait=5)).granted


async def test_redis_budget_falls_back_per_process_when_redis_is_down():
    # Nothing listens on port 1: every Redis call fails at once.
    client = redis.Redis(host="127.0.0.1", port=1, retry=no_retries())
    try:
        budget = RedisBudget(client, INTERVAL, "restloom-test-down")
        assert (await budget.reserve("key", max_wait=60)).wait == 0
        assert (await budget.reserve("key", max_wait=60)).wait > 0
    finally:
        await client.aclose()
