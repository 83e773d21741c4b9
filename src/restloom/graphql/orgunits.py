"""Organizational units on the viewer: `orgUnits` and `activeOrgUnit` (seed 003).

A request picks its OU with the `X-Org-Unit` header (an id from `orgUnits`); every
OU-scoped read and write of that request then happens in it (`upstream.orgunits`).
Without the header the request works in the credential's home OU. An upstream
without OUs answers these fields with BAD_USER_INPUT ("not supported by this
upstream"), never with an empty list.
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from restloom.graphql.context import Context
from restloom.graphql.errors import bad_user_input
from restloom.upstream.orgunits import active_org_unit, list_org_units
from restloom.upstream.pages import Record


@strawberry.type(
    description="An organizational unit the credential may work in; send its `id` as the "
    "`X-Org-Unit` header to work in it."
)
class OrgUnit:
    id: strawberry.ID
    name: str | None
    role: str | None = strawberry.field(description="The credential's role in this unit.")

    @classmethod
    def from_record(cls, record: Record) -> OrgUnit:
        name, role = record.get("name"), record.get("role")
        return cls(
            id=strawberry.ID(str(record.get("id"))),
            name=str(name)[:200] if name is not None else None,
            role=str(role)[:64] if role is not None else None,
        )


def _viewer_only(is_viewer: bool, field: str) -> None:
    if not is_viewer:
        raise bad_user_input(f"`{field}` is only available on `viewer`", field)


async def viewer_org_units(info: Info[Context, None], is_viewer: bool) -> list[OrgUnit]:
    _viewer_only(is_viewer, "orgUnits")
    return [OrgUnit.from_record(r) for r in await list_org_units(info.context.exchange)]


async def viewer_active_org_unit(info: Info[Context, None], is_viewer: bool) -> OrgUnit:
    _viewer_only(is_viewer, "activeOrgUnit")
    return OrgUnit.from_record(await active_org_unit(info.context.exchange))
