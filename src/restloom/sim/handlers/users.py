"""Users: list, get, ``/users/me`` (the acting user, impersonation included), PATCH me."""

from __future__ import annotations

from restloom.sim import errors
from restloom.sim.handlers.common import acting_user, touch
from restloom.sim.hookevents import emit
from restloom.sim.pipeline import Ctx
from restloom.sim.results import One, Result
from restloom.sim.validation import ME_FIELDS, validate_patch


def get_me(ctx: Ctx) -> Result:
    return One("users", acting_user(ctx))


def patch_me(ctx: Ctx) -> Result:
    user = acting_user(ctx)
    v = validate_patch(ctx, ME_FIELDS, ctx.body, user.fields)
    data = ctx.state.data
    for field_name in ("email", "username"):
        value = v.fields[field_name]
        if value == user.fields[field_name]:
            continue
        other = data.find_user(**{field_name: value})
        if other is not None and other.id != user.id:
            raise errors.conflict(f"{field_name} is already taken", field_name)
    user.fields = v.fields
    touch(user)
    emit(ctx, "users", "updated", user)
    return One("users", user)
