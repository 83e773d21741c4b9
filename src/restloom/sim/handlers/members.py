"""Organization members: ``/organizations/{id}/members`` and ``.../members/{user_id}``.

Memberships have no id of their own; batch lookup and tie-breaks use the user id.
Each organization keeps exactly one owner: adding a second owner or removing the
owner is a 409 CONFLICT.
"""

from __future__ import annotations

from restloom.sim import errors
from restloom.sim.handlers.common import find, touch
from restloom.sim.hookevents import emit
from restloom.sim.kinds import MEMBERS
from restloom.sim.pipeline import Ctx
from restloom.sim.query import select
from restloom.sim.records import Membership, utcnow
from restloom.sim.results import Many, NoContent, One, Result
from restloom.sim.validation import MEMBER_FIELDS, validate_create


def list_members(ctx: Ctx) -> Result:
    org = find(ctx, "organizations")
    style = ctx.state.style
    q = style.parse_list(ctx.query, MEMBERS)
    rows = ctx.state.data.members[org.id]
    past_end = ctx.state.config.past_end
    page, total = select(rows, q, MEMBERS, style.tie_key("members"), past_end)
    return Many("members", page, q, total)


def add_member(ctx: Ctx) -> Result:
    org = find(ctx, "organizations")
    v = validate_create(ctx, MEMBER_FIELDS, ctx.body)
    user_id = ctx.state.style.ref_in("users", v.fields["user_id"], "user_id")
    if user_id is None:
        raise errors.not_found("User")
    members = ctx.state.data.members[org.id]
    if any(m.user_id == user_id for m in members):
        raise errors.conflict("User is already a member of this organization", "user_id")
    role = v.fields["role"]
    if role == "owner" and any(m.role == "owner" for m in members):
        raise errors.conflict("Organization already has an owner", "role")
    membership = Membership(user_id, role, utcnow())
    members.append(membership)
    org.fields["member_count"] = len(members)
    touch(org)
    emit(ctx, "members", "added", membership, organization_id=org.id)
    emit(ctx, "organizations", "updated", org)
    return One("members", membership, status=201)


def remove_member(ctx: Ctx) -> Result:
    org = find(ctx, "organizations")
    user_id = ctx.state.style.path_id("users", ctx.params["user_id"])
    members = ctx.state.data.members[org.id]
    found = next((m for m in members if m.user_id == user_id), None)
    if found is None:
        raise errors.not_found("Member")
    if found.role == "owner":
        raise errors.conflict("The owner cannot be removed from the organization")
    members.remove(found)
    org.fields["member_count"] = len(members)
    touch(org)
    emit(ctx, "members", "removed", found, deleted=True, organization_id=org.id)
    emit(ctx, "organizations", "updated", org)
    return NoContent()
