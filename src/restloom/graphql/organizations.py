"""Organizations, their queries and mutations (their members: `members.py`)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry import UNSET
from strawberry.scalars import JSON
from strawberry.types import Info

from restloom.graphql import records
from restloom.graphql.connections import (
    ConnectionArgs,
    OrderDirection,
    iso,
    list_connection,
    parse_time,
    sort_of,
)
from restloom.graphql.context import Context
from restloom.graphql.members import (
    MemberRole,
    OrganizationMemberConnection,
    load_members_ahead,
    member_connection,
)
from restloom.graphql.relay import (
    NODE_TYPE_NAMES,
    Connection,
    Node,
    database_id_for,
    to_global_id,
)
from restloom.graphql.users import User, load_user
from restloom.graphql.writes import (
    UPDATE_DESCRIPTION,
    DeletePayload,
    create_record,
    delete_record,
    forget,
    idempotency_key,
    update_record,
)
from restloom.upstream import api
from restloom.upstream.api import ListQuery
from restloom.upstream.pages import Record

NODE_TYPE_NAMES.add("Organization")


@strawberry.enum
class OrganizationOrderField(Enum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    NAME = "name"


@strawberry.input
class OrganizationOrder:
    field: OrganizationOrderField = OrganizationOrderField.CREATED_AT
    direction: OrderDirection = OrderDirection.DESC


@strawberry.type
class Organization(Node):
    database_id: str
    name: str
    slug: str | None
    description: str | None
    member_count: int | None
    custom_properties: JSON | None = strawberry.field(
        description="The upstream's custom properties (null where it has none)."
    )
    created_at: datetime | None
    updated_at: datetime | None

    @strawberry.field
    async def members(
        self,
        info: Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        updated_after: Annotated[
            datetime | None, strawberry.argument(description="Members who joined after this.")
        ] = None,
    ) -> OrganizationMemberConnection | None:
        # Nullable: a member list that fails is null with its error, and the
        # organizations around it survive.
        args = ConnectionArgs(first, after, last, before)
        return await member_connection(info, self.database_id, args, updated_after)

    @classmethod
    def from_record(cls, record: Record) -> Organization:
        return _OrganizationOfRecord(record)


class _OrganizationOfRecord(Organization):
    """An Organization reading its fields from the record when asked (`records.py`)."""

    __slots__ = ("_record", "database_id")

    id = records.global_id("Organization")  # type: ignore[assignment]
    name = records.text_or_empty("name")  # type: ignore[assignment]
    slug = records.value("slug")  # type: ignore[assignment]
    description = records.value("description")  # type: ignore[assignment]
    member_count = records.value("member_count")  # type: ignore[assignment]
    custom_properties = records.value("custom_properties")  # type: ignore[assignment]
    created_at = records.timestamp("created_at")  # type: ignore[assignment]
    updated_at = records.timestamp("updated_at")  # type: ignore[assignment]

    def __init__(self, record: Record) -> None:
        self._record = record
        self.database_id = str(record["id"])  # a record without an id fails here, as ever


async def resolve_organization(
    info: Info[Context, None],
    id: Annotated[strawberry.ID, strawberry.argument(description="Global id or databaseId.")],
) -> Organization | None:
    return await load_organization(info, database_id_for("Organization", id, info.context.profile))


async def resolve_organizations(
    info: Info[Context, None],
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    updated_after: datetime | None = None,
    order_by: OrganizationOrder | None = None,
) -> Connection[Organization]:
    query = ListQuery.build(
        "organizations",
        sort=sort_of(order_by or OrganizationOrder()),
        sort_requested=order_by is not None,
        updated_after=iso(updated_after),
    )
    args = ConnectionArgs(first, after, last, before)
    connection = await list_connection(info.context, query, args, Organization.from_record)
    await load_members_ahead(info, [edge.node.database_id for edge in connection.edges])
    return connection


# --- mutations ----------------------------------------------------------------


@strawberry.input
class CreateOrganizationInput:
    name: str
    slug: str
    description: str | None = UNSET
    custom_properties: JSON | None = UNSET


@strawberry.input(description=UPDATE_DESCRIPTION)
class UpdateOrganizationInput:
    id: strawberry.ID
    name: str | None = UNSET
    slug: str | None = UNSET
    description: str | None = UNSET
    custom_properties: JSON | None = UNSET


@strawberry.input
class DeleteOrganizationInput:
    id: strawberry.ID


@strawberry.input
class AddOrganizationMemberInput:
    organization_id: strawberry.ID
    user_id: strawberry.ID
    role: MemberRole = MemberRole.MEMBER


@strawberry.input
class RemoveOrganizationMemberInput:
    organization_id: strawberry.ID
    user_id: strawberry.ID


@strawberry.type
class CreateOrganizationPayload:
    organization: Organization


@strawberry.type
class UpdateOrganizationPayload:
    organization: Organization


@strawberry.type
class DeleteOrganizationPayload(DeletePayload):
    pass


@strawberry.type
class AddOrganizationMemberPayload:
    role: MemberRole | None
    joined_at: datetime | None
    organization_id: strawberry.Private[str]
    user_id: strawberry.Private[str]

    @strawberry.field
    async def organization(self, info: Info[Context, None]) -> Organization | None:
        return await load_organization(info, self.organization_id)

    @strawberry.field
    async def user(self, info: Info[Context, None]) -> User | None:
        return await load_user(info, self.user_id)


@strawberry.type
class RemoveOrganizationMemberPayload:
    removed_user_id: strawberry.ID
    organization_id: strawberry.Private[str]

    @strawberry.field
    async def organization(self, info: Info[Context, None]) -> Organization | None:
        return await load_organization(info, self.organization_id)


async def load_organization(info: Info[Context, None], database_id: str) -> Organization:
    return Organization.from_record(
        await info.context.loaders.objects("organizations").load(database_id)
    )


async def create_organization(
    info: Info[Context, None], input: CreateOrganizationInput
) -> CreateOrganizationPayload | None:
    record = await create_record(info, "organizations", input)
    return CreateOrganizationPayload(organization=Organization.from_record(record))


async def update_organization(
    info: Info[Context, None], input: UpdateOrganizationInput
) -> UpdateOrganizationPayload | None:
    record = await update_record(info, "Organization", "organizations", input)
    return UpdateOrganizationPayload(organization=Organization.from_record(record))


async def delete_organization(
    info: Info[Context, None], input: DeleteOrganizationInput
) -> DeleteOrganizationPayload | None:
    return DeleteOrganizationPayload.of(
        "Organization", await delete_record(info, "Organization", "organizations", input)
    )


async def add_organization_member(
    info: Info[Context, None], input: AddOrganizationMemberInput
) -> AddOrganizationMemberPayload | None:
    organization_id = database_id_for(
        "Organization", input.organization_id, info.context.profile, "organizationId"
    )
    user_id = database_id_for("User", input.user_id, info.context.profile, "userId")
    record = await api.add_member(
        info.context.exchange, organization_id, user_id, input.role.value, idempotency_key(info)
    )
    # The organization's member count changed too.
    forget(info, "organizations", organization_id, None)
    return AddOrganizationMemberPayload(
        role=MemberRole(record["role"]) if record.get("role") else input.role,
        joined_at=parse_time(record.get("joined_at")),
        organization_id=organization_id,
        user_id=user_id,
    )


async def remove_organization_member(
    info: Info[Context, None], input: RemoveOrganizationMemberInput
) -> RemoveOrganizationMemberPayload | None:
    organization_id = database_id_for(
        "Organization", input.organization_id, info.context.profile, "organizationId"
    )
    user_id = database_id_for("User", input.user_id, info.context.profile, "userId")
    await api.remove_member(info.context.exchange, organization_id, user_id, idempotency_key(info))
    forget(info, "organizations", organization_id, None)
    return RemoveOrganizationMemberPayload(
        removed_user_id=to_global_id("User", user_id), organization_id=organization_id
    )
