"""Helpers shared by the handlers."""

from __future__ import annotations

from datetime import datetime

from restloom.sim import errors
from restloom.sim.kinds import KINDS
from restloom.sim.pipeline import Ctx
from restloom.sim.records import Record, utcnow


def find(ctx: Ctx, kind: str, param: str = "id") -> Record:
    """The record named by path parameter ``param``, or 404."""
    record_id = ctx.state.style.path_id(kind, ctx.params[param])
    record = ctx.state.data.get(kind, record_id) if record_id is not None else None
    if record is None:
        raise errors.not_found(KINDS[kind].label)
    return record


def touch(record: Record) -> datetime:
    """Bump ``updated_at`` to now; never backwards, never before ``created_at``."""
    record.updated_at = max(utcnow(), record.updated_at, record.created_at)
    return record.updated_at


def acting_user(ctx: Ctx) -> Record:
    assert ctx.actor_id is not None, "authenticated operations always have an actor"
    user = ctx.state.data.get("users", ctx.actor_id)
    assert user is not None
    return user
