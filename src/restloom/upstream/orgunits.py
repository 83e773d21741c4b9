"""Organizational units (seed 003): each call in the OU it needs, with as few switches as possible.

A request picks its OU with the `X-Org-Unit` header (`Caller.org_unit`); without
one it works in the credential's *home* OU, the one restloom found active before
it first switched that credential (so a gateway whose callers never pick an OU
never switches anything). Every call to a scoped collection (the profile's
`org_units.scoped`, and reading the active OU) passes through `OrgUnitGate.hold`,
which waits for its OU's group (see `ouswitch`) and, leading one, switches the
upstream's active OU first: `POST {active_path} {"id"}`, within the rate budget.

The switch is not counted against a GraphQL request's upstream request cap: how many
a request needs depends on what other requests on the same credential do.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import redis.asyncio as redis
from redis.exceptions import RedisError

from restloom.upstream.errors import FailureKind, Unsupported, UpstreamError, dig
from restloom.upstream.ouswitch import (
    HOME,
    MemorySwitchStore,
    RedisSwitchStore,
    SwitchState,
    SwitchStore,
    Turn,
    abandoned,
    admit,
    now,
    released,
    switched,
)
from restloom.upstream.pages import Record
from restloom.upstream.profile import Profile
from restloom.upstream.ratelimit import wait_turn
from restloom.upstream.urls import fixed_path

T = TypeVar("T")
log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from restloom.upstream.client import Caller, Exchange, UpstreamClient

ORG_UNIT_HEADER = "X-Org-Unit"
# An OU id as a caller may send it: bounded, and nothing that could reshape a body or log.
OU_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")
# A holder's lease outlives its call by this much (a crashed instance frees it after).
LEASE_MARGIN_SECONDS = 5.0
# Polling for a turn: first wait, and the most between two looks.
FIRST_POLL_SECONDS = 0.005
MAX_POLL_SECONDS = 0.05
MAX_LISTED_UNITS = 1000
# Less than this left after waiting for the OU: the call is not worth sending.
MIN_CALL_SECONDS = 0.05


@dataclass
class GateStats:
    switches: int = 0  # POSTs to the active OU path this instance sent
    discoveries: int = 0  # reads of the active OU before a credential's first switch
    waits: int = 0  # calls that waited for another OU's group to drain


class OrgUnitGate:
    def __init__(self, profile: Profile, store: SwitchStore) -> None:
        self.profile = profile
        self.store = store
        self.stats = GateStats()
        spec = profile.org_units
        self._scoped: tuple[str, ...] = ()
        self._active_path = ""
        if spec is not None:
            self._active_path = _path(profile, spec.active_path)
            self._scoped = tuple(
                profile.prefix + profile.template(c).path.rstrip("/")
                for c in spec.scoped
                if c in profile.paths
            )

    @classmethod
    def build(cls, profile: Profile, client: redis.Redis | None, namespace: str) -> OrgUnitGate:
        store: SwitchStore = (
            RedisSwitchStore(client, namespace) if client is not None else MemorySwitchStore()
        )
        return cls(profile, store)

    def governs(self, caller: Caller, method: str, path: str) -> bool:
        """Whether this call depends on the active OU; refuses a bad or pointless X-Org-Unit."""
        if caller.org_unit is not None:
            check_org_unit(self.profile, caller.org_unit)
        if self.profile.org_units is None:
            return False
        if path.rstrip("/") == self._active_path:
            return method == "GET"
        return any(path == p or path.startswith(p + "/") for p in self._scoped)

    @asynccontextmanager
    async def hold(
        self, client: UpstreamClient, caller: Caller, limit: float
    ) -> AsyncIterator[float]:
        """Run the body while the upstream's active OU is the caller's; it gets the time
        left of `limit` (seconds) after waiting for the OU and switching to it."""
        loop = asyncio.get_running_loop()
        ends = loop.time() + limit
        credential = client.credential_for(caller)
        key = f"{client.upstream_id}:{credential.principal if credential else 'anonymous'}"
        want = caller.org_unit or HOME
        holder = uuid.uuid4().hex
        turn = await self._enter(key, want, holder, limit + LEASE_MARGIN_SECONDS, limit, caller)
        try:
            if turn.leads:
                await self._switch(client, caller, key, holder, want, turn, ends - loop.time())
            left = ends - loop.time()
            if left <= MIN_CALL_SECONDS:
                raise UpstreamError(
                    kind=FailureKind.TIMEOUT,
                    message=f"Waiting for the upstream's org unit took the call's {limit:g}s",
                    request_id=caller.request_id,
                )
            yield left
        finally:
            await self._leave(key, holder)

    async def _update(self, key: str, change: Callable[[SwitchState], T], request_id: str) -> T:
        """A change to the shared state; without it no call may go (it could leak an OU)."""
        try:
            return await self.store.update(key, change)
        except (RedisError, TimeoutError) as exc:
            raise UpstreamError(
                kind=FailureKind.UNAVAILABLE,
                message="The org unit coordination store (Redis) did not answer; "
                "OU-scoped calls wait for it",
                request_id=request_id,
            ) from exc

    async def _leave(self, key: str, holder: str) -> None:
        # Shielded: a cancelled request must still leave the group, or it blocks others.
        try:
            await asyncio.shield(self.store.update(key, lambda s: released(s, holder)))
        except (RedisError, TimeoutError):
            # The lease ends it instead, LEASE_MARGIN_SECONDS after the call's time limit.
            log.warning("could not leave an org unit group; its lease will end it")

    async def _enter(
        self, key: str, want: str, holder: str, lease: float, limit: float, caller: Caller
    ) -> Turn:
        loop = asyncio.get_running_loop()
        give_up = loop.time() + limit
        pause = FIRST_POLL_SECONDS
        waited = False
        while True:
            turn = await self._update(
                key, lambda s: admit(s, want, holder, now(), lease), caller.request_id
            )
            if turn.granted:
                self.stats.waits += waited
                return turn
            waited = True
            left = give_up - loop.time()
            if left <= 0:
                raise UpstreamError(
                    kind=FailureKind.TIMEOUT,
                    message=f"Waited {limit:g}s for the upstream's organizational unit to be free",
                    request_id=caller.request_id,
                )
            await self.store.changed(key, min(pause, left))
            pause = min(pause * 2, MAX_POLL_SECONDS)

    async def _switch(
        self,
        client: UpstreamClient,
        caller: Caller,
        key: str,
        holder: str,
        want: str,
        turn: Turn,
        limit: float,
    ) -> None:
        home: str | None = None
        current: str | None = None
        loop = asyncio.get_running_loop()
        ends = loop.time() + limit
        try:
            if turn.discover_home:
                self.stats.discoveries += 1
                body = await self._call(client, caller, "GET", None, ends - loop.time())
                home = current = _unit_id(self.profile, body, caller.request_id)
            target = (want or home) if turn.discover_home else turn.switch_to
            if target is not None and target != current:
                self.stats.switches += 1
                await self._call(client, caller, "POST", {"id": target}, ends - loop.time())
                current = target
        except BaseException as exc:
            # A 4xx answer (403: no role in that OU) changed nothing upstream.
            known = isinstance(exc, UpstreamError) and exc.status is not None and exc.status < 500
            await asyncio.shield(
                self._update(key, lambda s: abandoned(s, holder, home, known), caller.request_id)
            )
            raise
        await self._update(
            key, lambda s: switched(s, holder, current, home, now()), caller.request_id
        )

    async def _call(
        self, client: UpstreamClient, caller: Caller, method: str, body: Any, limit: float
    ) -> Any:
        """One call to the active OU path, within the rate budget, as the caller's credential."""
        credential = client.credential_for(caller)
        if client.budget is not None:
            budget_key = (
                f"{client.upstream_id}:{credential.principal if credential else 'anonymous'}"
            )
            turn = await wait_turn(client.budget, budget_key, limit)
            if not turn.granted:
                raise UpstreamError(
                    kind=FailureKind.RATE_LIMITED,
                    message="The upstream's rate budget has no room to switch the org unit",
                    request_id=caller.request_id,
                    retry_after=turn.wait,
                )
        if limit <= MIN_CALL_SECONDS:
            raise UpstreamError(
                kind=FailureKind.TIMEOUT,
                message="No time was left to switch the upstream's org unit",
                request_id=caller.request_id,
            )
        response = await client.send(caller, method, self._active_path, (), body, time_limit=limit)
        return response.body


def _path(profile: Profile, path: str) -> str:
    return fixed_path(profile, path)


def check_org_unit(profile: Profile, org_unit: str) -> str:
    """`org_unit` if the upstream has OUs and it looks like an OU id; else `Unsupported`."""
    if profile.org_units is None:
        raise Unsupported(
            "organizational units are not supported by this upstream "
            f"(do not send {ORG_UNIT_HEADER})",
            ORG_UNIT_HEADER,
        )
    if not OU_ID.fullmatch(org_unit):
        shown = org_unit[:80]
        raise Unsupported(f"{ORG_UNIT_HEADER}: {shown!r} is not an org unit id", ORG_UNIT_HEADER)
    return org_unit


def _unit_id(profile: Profile, body: Any, request_id: str) -> str:
    value = body.get("id") if isinstance(body, dict) else None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not OU_ID.fullmatch(value):
        raise UpstreamError(
            kind=FailureKind.INVALID_RESPONSE,
            message="The upstream's active org unit has no readable id",
            request_id=request_id,
        )
    return value


# --- what the GraphQL layer reads ------------------------------------------------


def _spec_or_refuse(profile: Profile, what: str) -> None:
    if profile.org_units is None:
        raise Unsupported(f"{what} is not supported by this upstream (it has no org units)")


async def list_org_units(ex: Exchange) -> list[Record]:
    """The OUs the caller's credential may use, as the upstream lists them."""
    profile = ex.profile
    _spec_or_refuse(profile, "orgUnits")
    assert profile.org_units is not None
    response = await ex.get(_path(profile, profile.org_units.list_path), cached=True)
    items = (
        dig(response.body, profile.org_units.items_key)
        if profile.org_units.items_key
        else (response.body)
    )
    if not isinstance(items, list):
        raise UpstreamError(
            kind=FailureKind.INVALID_RESPONSE,
            message="The upstream's org unit list is not a list",
            request_id=ex.caller.request_id,
        )
    units = [i for i in items[:MAX_LISTED_UNITS] if isinstance(i, dict)]
    return [u for u in units if isinstance(u.get("id"), str | int)]


async def active_org_unit(ex: Exchange) -> Record:
    """The OU this request works in: X-Org-Unit's, else the credential's home OU."""
    profile = ex.profile
    _spec_or_refuse(profile, "activeOrgUnit")
    assert profile.org_units is not None
    wanted = ex.caller.org_unit
    if wanted is not None:
        for unit in await list_org_units(ex):
            if str(unit.get("id")) == wanted:
                return unit
        raise UpstreamError(
            kind=FailureKind.HTTP,
            status=403,
            code="FORBIDDEN",
            message=f"The credential has no role in org unit {wanted}",
            request_id=ex.caller.request_id,
        )
    # Read through the gate (the home group): the upstream then has the home OU active.
    response = await ex.get(_path(profile, profile.org_units.active_path), cached=False)
    if not isinstance(response.body, dict):
        _unit_id(profile, None, ex.caller.request_id)
    return response.body
