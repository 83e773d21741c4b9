"""Generic list/get/create/patch/delete for contacts, resources, organizations, webhooks.

PATCH semantics are described in ``restloom.sim.validation``: only the fields sent
change; ``metadata`` keys merge (null removes a key); MOCO ``custom_properties`` are
replaced wholesale.
"""

from __future__ import annotations

from restloom.sim import errors
from restloom.sim.handlers import webhooks
from restloom.sim.handlers.common import find, touch
from restloom.sim.hookevents import emit
from restloom.sim.kinds import KINDS
from restloom.sim.pipeline import Ctx, Handler
from restloom.sim.query import select
from restloom.sim.records import Membership, Record, utcnow
from restloom.sim.results import Many, NoContent, One, Result
from restloom.sim.validation import FIELDS, Validated, validate_create, validate_patch


def list_records(kind_name: str) -> Handler:
    kind = KINDS[kind_name]

    def handler(ctx: Ctx) -> Result:
        style = ctx.state.style
        q = style.parse_list(ctx.query, kind)
        rows = ctx.state.data.collections[kind_name].values()
        page, total = select(rows, q, kind, style.tie_key(kind_name), ctx.state.config.past_end)
        return Many(kind_name, page, q, total)

    return handler


def get_record(kind_name: str) -> Handler:
    def handler(ctx: Ctx) -> Result:
        return One(kind_name, find(ctx, kind_name))

    return handler


def _check_unique_slug(ctx: Ctx, slug: str, own_id: str | None) -> None:
    for org in ctx.state.data.collections["organizations"].values():
        if org.fields.get("slug") == slug and org.id != own_id:
            raise errors.conflict(f"slug {slug!r} is already taken", "slug")


def create_record(kind_name: str) -> Handler:
    kind = KINDS[kind_name]

    def handler(ctx: Ctx) -> Result:
        v = validate_create(ctx, FIELDS[kind_name], ctx.body, custom=kind.custom_properties)
        if kind_name == "organizations":
            _check_unique_slug(ctx, v.fields["slug"], None)
            v.fields["member_count"] = 1
        made_secret = None
        if kind_name == "webhooks":
            made_secret = webhooks.prepare(ctx, v, creating=True)
        now = utcnow()
        record = ctx.state.data.insert(
            kind_name, v.fields, now, hidden=v.hidden, custom_properties=v.custom_properties
        )
        if kind_name == "organizations" and ctx.actor_id is not None:
            # Every organization has exactly one owner: its creator.
            ctx.state.data.members[record.id] = [Membership(ctx.actor_id, "owner", now)]
        emit(ctx, kind_name, "created", record)
        if kind_name == "webhooks":
            webhooks.mark_callable(ctx, record)
            return webhooks.created_answer(ctx, record, made_secret)
        return One(kind_name, record, status=201)

    return handler


def _apply(record: Record, v: Validated) -> None:
    record.fields = v.fields
    record.hidden.update(v.hidden)
    if v.custom_properties is not None:
        record.custom_properties = v.custom_properties
    touch(record)


def patch_record(kind_name: str) -> Handler:
    kind = KINDS[kind_name]

    def handler(ctx: Ctx) -> Result:
        record = find(ctx, kind_name)
        v = validate_patch(
            ctx, FIELDS[kind_name], ctx.body, record.fields, custom=kind.custom_properties
        )
        if kind_name == "organizations":
            _check_unique_slug(ctx, v.fields["slug"], record.id)
        if kind_name == "webhooks":
            webhooks.prepare(ctx, v, creating=False)
            webhooks.mark_callable(ctx, record)
        _apply(record, v)
        emit(ctx, kind_name, "updated", record)
        return One(kind_name, record)

    return handler


def delete_record(kind_name: str) -> Handler:
    def handler(ctx: Ctx) -> Result:
        record = find(ctx, kind_name)
        # Emitted first, while the style can still map the id (MOCO's integer ids);
        # deliveries start only after the handler returns.
        emit(ctx, kind_name, "deleted", record, deleted=True)
        ctx.state.data.delete(kind_name, record.id)
        return NoContent()

    return handler
