"""Organizational units (seed 003, template style, with ``org_units > 0``).

Seed 003 calls its endpoints "OU-scoped": results are filtered by the caller's
*active* OU, set with ``/org-units/active`` before calling; multi-OU access needs
role assignments. Here:

- OUs ``ou_1`` .. ``ou_N``; seeded contacts and resources belong to them in turn
  (by creation number), created ones to the creator's active OU.
- Roles: the full key's user has one in every OU but the last, every other user only
  in ``ou_1`` (so switching to an OU without a role is a 403 to test).
- The active OU is session state per *credential*: every request made with one
  credential shares it, as the seed describes. It starts at the first OU with a role.
- ``GET /org-units`` lists the credential's OUs, ``GET /org-units/active`` names the
  active one, ``POST /org-units/active`` ``{"id"}`` switches (404 unknown, 403 no role).
- Contacts and resources outside the active OU do not exist for the request: lists
  leave them out, single reads, updates and deletes answer 404.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from restloom.sim import errors
from restloom.sim.dataset import Dataset
from restloom.sim.handlers import records
from restloom.sim.handlers.common import find
from restloom.sim.kinds import KINDS
from restloom.sim.pipeline import Ctx, Handler
from restloom.sim.query import select
from restloom.sim.records import Record
from restloom.sim.results import Many, One, Payload, Result
from restloom.sim.validation import body_object

# The collections whose data is filtered by the active OU.
SCOPED_KINDS: tuple[str, ...] = ("contacts", "resources")
# Where a record's OU is kept (never rendered).
OU_FIELD = "org_unit"
UNIT_NAMES = ("Headquarters", "Sales", "Support", "Engineering", "Finance", "Legal")


@dataclass(frozen=True)
class OrgUnit:
    id: str
    name: str


@dataclass
class OrgUnits:
    units: list[OrgUnit]
    # User id -> {OU id -> role}.
    roles: dict[str, dict[str, str]]
    # Credential -> active OU id (the seed's per-session state).
    active: dict[str, str] = field(default_factory=dict)
    # Successful switches that changed the active OU, per OU switched to.
    switches: Counter[str] = field(default_factory=Counter)

    def by_id(self, ou_id: str) -> OrgUnit | None:
        return next((u for u in self.units if u.id == ou_id), None)

    def roles_of(self, user_id: str) -> dict[str, str]:
        return self.roles.get(user_id) or {self.units[0].id: "member"}

    def active_of(self, credential: str, user_id: str) -> str:
        current = self.active.get(credential)
        if current is None:
            current = next(iter(self.roles_of(user_id)))
        return current


def build(data: Dataset, count: int, full_user_id: str) -> OrgUnits:
    """``count`` OUs; seeded scoped records spread over them by creation number."""
    units = [
        OrgUnit(f"ou_{i}", UNIT_NAMES[(i - 1) % len(UNIT_NAMES)] + ("" if i <= 6 else f" {i}"))
        for i in range(1, count + 1)
    ]
    for kind in SCOPED_KINDS:
        for record in data.collections[kind].values():
            record.hidden[OU_FIELD] = units[(record.num - 1) % count].id
    admin_units = units[:-1] if count > 1 else units
    roles = {full_user_id: {u.id: "admin" for u in admin_units}}
    return OrgUnits(units=units, roles=roles)


def _units(ctx: Ctx) -> OrgUnits:
    units = ctx.state.data.org_units
    assert units is not None, "OU routes exist only when the sim has OUs"
    return units


def _credential(ctx: Ctx) -> tuple[str, str]:
    assert ctx.principal is not None, "OU routes are authenticated"
    return ctx.principal.credential, ctx.principal.user_id


def _render(unit: OrgUnit, role: str | None) -> dict[str, Any]:
    return {"id": unit.id, "name": unit.name, "role": role}


def active_unit(ctx: Ctx) -> str:
    credential, user_id = _credential(ctx)
    return _units(ctx).active_of(credential, user_id)


# --------------------------------------------------------------------- /org-units


def list_units(ctx: Ctx) -> Result:
    units = _units(ctx)
    _, user_id = _credential(ctx)
    roles = units.roles_of(user_id)
    items = [_render(u, roles[u.id]) for u in units.units if u.id in roles]
    return Payload({"data": items, "total": len(items), "page": 1, "limit": 100}, envelope=False)


def get_active(ctx: Ctx) -> Result:
    units = _units(ctx)
    credential, user_id = _credential(ctx)
    current = units.active_of(credential, user_id)
    unit = units.by_id(current)
    assert unit is not None
    return Payload(_render(unit, units.roles_of(user_id).get(current)), envelope=False)


def set_active(ctx: Ctx) -> Result:
    units = _units(ctx)
    credential, user_id = _credential(ctx)
    body = body_object(ctx.body)
    wanted = body.get("id")
    if wanted is None or wanted == "":
        raise errors.required("id")
    if not isinstance(wanted, str):
        raise errors.validation("id", "id must be a string")
    unit = units.by_id(wanted)
    if unit is None:
        raise errors.not_found("Organizational unit")
    role = units.roles_of(user_id).get(unit.id)
    if role is None:
        raise errors.forbidden(f"No role in organizational unit {unit.id}")
    if units.active_of(credential, user_id) != unit.id:
        units.switches[unit.id] += 1
    units.active[credential] = unit.id
    return Payload(_render(unit, role), envelope=False)


# --------------------------------------------------------------- scoped handlers


def _in_active(ctx: Ctx, record: Record) -> bool:
    return record.hidden.get(OU_FIELD) == active_unit(ctx)


def _find_scoped(ctx: Ctx, kind_name: str) -> Record:
    record = find(ctx, kind_name)
    if not _in_active(ctx, record):
        raise errors.not_found(KINDS[kind_name].label)
    return record


def list_scoped(kind_name: str) -> Handler:
    kind = KINDS[kind_name]

    def handler(ctx: Ctx) -> Result:
        style = ctx.state.style
        q = style.parse_list(ctx.query, kind)
        current = active_unit(ctx)
        every = ctx.state.data.collections[kind_name].values()
        rows = [r for r in every if r.hidden.get(OU_FIELD) == current]
        page, total = select(rows, q, kind, style.tie_key(kind_name), ctx.state.config.past_end)
        return Many(kind_name, page, q, total)

    return handler


def get_scoped(kind_name: str) -> Handler:
    def handler(ctx: Ctx) -> Result:
        return One(kind_name, _find_scoped(ctx, kind_name))

    return handler


def change_scoped(kind_name: str, inner: Handler) -> Handler:
    """PATCH or DELETE: only a record of the active OU can be found."""

    def handler(ctx: Ctx) -> Result:
        _find_scoped(ctx, kind_name)
        return inner(ctx)

    return handler


def create_scoped(kind_name: str) -> Handler:
    inner = records.create_record(kind_name)

    def handler(ctx: Ctx) -> Result:
        current = active_unit(ctx)
        result = inner(ctx)
        assert isinstance(result, One) and isinstance(result.row, Record)
        result.row.hidden[OU_FIELD] = current
        return result

    return handler
