"""The OU group state on its own and in a real Redis shared by two stores (two instances)."""

from __future__ import annotations

import redis.asyncio as redis

from restloom.upstream.ouswitch import (
    HOME,
    RedisSwitchStore,
    SwitchState,
    abandoned,
    admit,
    released,
    switched,
)

LEASE = 10.0


def test_calls_of_one_unit_share_a_group_and_another_unit_waits():
    state = SwitchState()
    first = admit(state, "ou_2", "a", 0.0, LEASE)
    assert first.granted and first.discover_home  # restloom's first switch: learn home
    assert not admit(state, "ou_2", "b", 0.01, LEASE).granted  # not ready yet
    switched(state, "a", "ou_2", "ou_1", 0.02)
    assert admit(state, "ou_2", "b", 0.03, LEASE) == first.__class__(True)  # joins, no switch
    assert not admit(state, "ou_1", "c", 0.04, LEASE).granted  # waits for the group to drain
    released(state, "a")
    released(state, "b")
    back = admit(state, HOME, "c", 0.05, LEASE)
    assert back.granted and back.switch_to == "ou_1"  # home again: one switch back


def test_a_waiter_stops_the_group_growing_after_its_window():
    state = SwitchState()
    admit(state, "ou_1", "a", 0.0, LEASE)
    switched(state, "a", "ou_1", "ou_1", 0.0)
    assert not admit(state, "ou_2", "w", 0.01, LEASE).granted
    assert admit(state, "ou_1", "b", 0.05, LEASE).granted  # inside the group's window
    assert not admit(state, "ou_1", "c", 0.5, LEASE).granted  # after it: ou_2 goes next


def test_an_expired_lease_frees_the_group():
    state = SwitchState()
    admit(state, "ou_1", "crashed", 0.0, 1.0)
    switched(state, "crashed", "ou_1", "ou_1", 0.0)
    assert not admit(state, "ou_2", "b", 0.5, 1.0).granted
    assert admit(state, "ou_2", "b", 1.5, 1.0).granted


def test_a_refused_switch_leaves_the_known_unit():
    state = SwitchState(touched=True, home="ou_1", active="ou_1")
    turn = admit(state, "ou_3", "a", 0.0, LEASE)
    assert turn.switch_to == "ou_3"
    abandoned(state, "a", None, active_known=True)  # 403: nothing changed upstream
    assert state.active == "ou_1" and not state.holders
    assert admit(state, HOME, "b", 0.1, LEASE).switch_to is None  # home is still active


async def test_two_redis_stores_see_one_state(redis_url, redis_namespace):
    client = redis.Redis.from_url(redis_url)
    try:
        a = RedisSwitchStore(client, redis_namespace)
        b = RedisSwitchStore(client, redis_namespace)
        turn = await a.update("k", lambda s: admit(s, "ou_2", "x", 0.0, LEASE))
        assert turn.granted and turn.leads
        await a.update("k", lambda s: switched(s, "x", "ou_2", "ou_1", 0.0))
        assert not (await b.update("k", lambda s: admit(s, "ou_1", "y", 1.0, LEASE))).granted
        await a.update("k", lambda s: released(s, "x"))
        again = await b.update("k", lambda s: admit(s, "ou_1", "y", 1.1, LEASE))
        assert again.granted and again.switch_to == "ou_1"
    finally:
        await client.aclose()
