"""Who may call the upstream in which organizational unit, per credential: the state.

The upstream keeps one active OU per credential (seed 003), shared by every request
made with it. Calls that depend on it form *groups*: every call of the group wants
the same OU, any number of them run at once, and a call for another OU waits until
the group has drained. The first call of a group *leads*: it makes the upstream's
active OU the group's (a switch) unless it already is, and only then is the group
*ready* for the others. So a call never runs while the active OU is another's, and
calls of one OU share one switch.

Once a call waits for another OU, no new call joins the running group (it would
starve the waiter): the group drains, the waiter's group runs next.

The state is one small record per (upstream, credential): in process memory for a
single instance, in Redis (WATCH/MULTI on one key) when instances share one. Holders
hold a lease, so a crashed instance's calls stop blocking others when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Protocol, TypeVar

import orjson
import redis.asyncio as redis
from redis.exceptions import WatchError

# What a request without X-Org-Unit wants: the OU the credential had before restloom
# first switched it (its "home"); until then, whatever is active, with no switch.
HOME = ""
# How long a waiter's mark keeps new calls out of the running group; waiters renew it.
WAIT_MARK_SECONDS = 2.0
# A group that just became ready takes its OU's calls this long even when another OU
# waits: the calls queued behind a switch join it instead of each paying one.
GROUP_WINDOW_SECONDS = 0.1
# Redis keeps a credential's record this long after its last change.
RECORD_TTL_SECONDS = 24 * 3600
MAX_TRANSACTION_RETRIES = 50

T = TypeVar("T")


@dataclass
class SwitchState:
    group: str | None = None  # the OU the current holders want
    ready: bool = False  # the upstream's active OU is the group's
    holders: dict[str, float] = field(default_factory=dict)  # holder -> lease end (epoch s)
    active: str | None = None  # the upstream's active OU as restloom last set it; None: unknown
    touched: bool = False  # restloom has switched this credential (home is known)
    home: str | None = None  # the OU active before restloom's first switch
    waiting: str | None = None  # an OU a call waits for: the running group takes no one new
    waiting_until: float = 0.0
    ready_since: float = 0.0  # when the group became ready: it admits everyone for a moment


@dataclass(frozen=True)
class Turn:
    granted: bool
    # The holder leads a new group: make `switch_to` the upstream's active OU first.
    switch_to: str | None = None
    # ... and first read which OU is active (restloom's first switch: that is the home).
    discover_home: bool = False

    @property
    def leads(self) -> bool:
        return self.switch_to is not None or self.discover_home


def _target(state: SwitchState, want: str) -> str | None:
    """The OU to switch to before a group wanting `want` may run; None: no switch."""
    if want == HOME:
        if not state.touched or state.active == state.home:
            return None
        return state.home
    return None if state.touched and state.active == want else want


def admit(state: SwitchState, want: str, holder: str, now: float, lease: float) -> Turn:
    state.holders = {h: end for h, end in state.holders.items() if end > now}
    if state.waiting_until <= now:
        state.waiting = None
    if not state.holders:
        state.group, state.ready = want, False
        state.holders[holder] = now + lease
        if state.waiting == want:
            state.waiting = None
        target = _target(state, want)
        if target is None:
            state.ready, state.ready_since = True, now
            return Turn(True)
        discover = not state.touched
        return Turn(True, switch_to=None if discover else target, discover_home=discover)
    if state.group == want:
        fresh = now - state.ready_since < GROUP_WINDOW_SECONDS
        if state.ready and (fresh or state.waiting in (None, want)):
            state.holders[holder] = now + lease
            return Turn(True)
        return Turn(False)  # the leader is still switching, or another OU is next
    if state.waiting in (None, want):
        state.waiting, state.waiting_until = want, now + WAIT_MARK_SECONDS
    return Turn(False)


def switched(
    state: SwitchState, holder: str, active: str | None, home: str | None, now: float
) -> None:
    """The leader made `active` the upstream's active OU (None: left it as it found it)."""
    if home is not None and not state.touched:
        state.touched, state.home = True, home
    if active is not None:
        state.active = active
    if holder in state.holders:
        state.ready, state.ready_since = True, now


def abandoned(state: SwitchState, holder: str, home: str | None, active_known: bool) -> None:
    """The leader's switch failed; unless it surely changed nothing, the active OU is unknown."""
    if home is not None and not state.touched:
        state.touched, state.home, state.active = True, home, home
    if not active_known:
        state.active = None
    state.holders.pop(holder, None)
    state.ready = False


def released(state: SwitchState, holder: str) -> None:
    state.holders.pop(holder, None)


class SwitchStore(Protocol):
    async def update(self, key: str, change: Callable[[SwitchState], T]) -> T:
        """Apply `change` to the key's state atomically; its result."""
        ...

    async def changed(self, key: str, within: float) -> None:
        """Return when the key's state may have changed, or after `within` seconds."""
        ...


class MemorySwitchStore:
    """One instance: the state in a dict, waiters woken when it changes."""

    def __init__(self) -> None:
        self._states: dict[str, SwitchState] = {}
        self._conditions: dict[str, asyncio.Condition] = {}

    def _condition(self, key: str) -> asyncio.Condition:
        return self._conditions.setdefault(key, asyncio.Condition())

    async def update(self, key: str, change: Callable[[SwitchState], T]) -> T:
        state = self._states.setdefault(key, SwitchState())
        result = change(state)
        condition = self._condition(key)
        async with condition:
            condition.notify_all()
        return result

    async def changed(self, key: str, within: float) -> None:
        condition = self._condition(key)
        async with condition:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(condition.wait(), within)


class RedisSwitchStore:
    """Instances sharing a Redis: the state as one JSON value, changed under WATCH/MULTI."""

    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self._redis = client
        self._namespace = namespace
        # One transaction per key at a time from this instance: only instances contend.
        self._locks: dict[str, asyncio.Lock] = {}

    def _key(self, key: str) -> str:
        return f"{self._namespace}:ou:{key}"

    async def update(self, key: str, change: Callable[[SwitchState], T]) -> T:
        name = self._key(key)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock, self._redis.pipeline(transaction=True) as pipe:
            for attempt in range(MAX_TRANSACTION_RETRIES):
                try:
                    await pipe.watch(name)
                    state = _decode(await pipe.get(name))
                    result = change(state)
                    pipe.multi()
                    pipe.set(name, orjson.dumps(asdict(state)), ex=RECORD_TTL_SECONDS)
                    await pipe.execute()
                    return result
                except WatchError:
                    await pipe.reset()
                    await asyncio.sleep(random.uniform(0, 0.001 * (attempt + 1)))
        raise TimeoutError("the org unit record kept changing under this instance")

    async def changed(self, key: str, within: float) -> None:
        # Polled: a holder on another instance says nothing when it leaves.
        await asyncio.sleep(within)


def _decode(raw: bytes | None) -> SwitchState:
    if not raw:
        return SwitchState()
    try:
        data = orjson.loads(raw)
        return SwitchState(**data) if isinstance(data, dict) else SwitchState()
    except (orjson.JSONDecodeError, TypeError):
        return SwitchState()  # a record this version cannot read: start afresh


def now() -> float:
    # Wall time: leases are compared across instances (on one host, or with NTP).
    return time.time()
