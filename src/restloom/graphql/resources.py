"""Resources, with their owner loaded through the users DataLoader."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry import UNSET
from strawberry.scalars import JSON
from strawberry.types import Info

from restloom.graphql.connections import (
    ConnectionArgs,
    OrderDirection,
    iso,
    list_connection,
    parse_time,
    sort_of,
)
from restloom.graphql.context import Context
from restloom.graphql.relay import NODE_TYPE_NAMES, Connection, Node, database_id_for, to_global_id
from restloom.graphql.users import User, load_user
from restloom.graphql.writes import (
    UPDATE_DESCRIPTION,
    DeletePayload,
    create_record,
    delete_record,
    update_record,
)
from restloom.upstream.api import ListQuery
from restloom.upstream.pages import Record

NODE_TYPE_NAMES.add("Resource")


@strawberry.enum
class ResourceStatus(Enum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    ARCHIVED = "archived"


@strawberry.enum
class ResourceType(Enum):
    STANDARD = "standard"
    PREMIUM = "premium"
    ENTERPRISE = "enterprise"


@strawberry.enum
class ResourceOrderField(Enum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    NAME = "name"


@strawberry.input
class ResourceOrder:
    field: ResourceOrderField = ResourceOrderField.CREATED_AT
    direction: OrderDirection = OrderDirection.DESC


@strawberry.input
class ResourceFilter:
    status: ResourceStatus | None = None
    type: ResourceType | None = None


@strawberry.type
class Resource(Node):
    database_id: str
    name: str
    description: str | None
    type: ResourceType | None
    status: ResourceStatus | None
    metadata: JSON | None
    owner_id: strawberry.Private[str | None]
    custom_properties: JSON | None = strawberry.field(
        description="The upstream's custom properties (null where it has none)."
    )
    created_at: datetime | None
    updated_at: datetime | None

    @strawberry.field(description="The user who owns this resource.")
    async def owner(self, info: Info[Context, None]) -> User | None:
        return await load_user(info, self.owner_id) if self.owner_id else None

    @classmethod
    def from_record(cls, record: Record) -> Resource:
        kind, status, owner = record.get("type"), record.get("status"), record.get("owner_id")
        return cls(
            id=to_global_id("Resource", str(record["id"])),
            database_id=str(record["id"]),
            name=record.get("name") or "",
            description=record.get("description"),
            type=ResourceType(kind) if kind else None,
            status=ResourceStatus(status) if status else None,
            metadata=record.get("metadata"),
            owner_id=str(owner) if owner is not None else None,
            custom_properties=record.get("custom_properties"),
            created_at=parse_time(record.get("created_at")),
            updated_at=parse_time(record.get("updated_at")),
        )


async def resolve_resource(
    info: Info[Context, None],
    id: Annotated[strawberry.ID, strawberry.argument(description="Global id or databaseId.")],
) -> Resource | None:
    loader = info.context.loaders.objects("resources")
    return Resource.from_record(
        await loader.load(database_id_for("Resource", id, info.context.profile))
    )


async def resolve_resources(
    info: Info[Context, None],
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    filter: ResourceFilter | None = None,
    updated_after: datetime | None = None,
    order_by: ResourceOrder | None = None,
) -> Connection[Resource]:
    query = ListQuery.build(
        "resources",
        sort=sort_of(order_by or ResourceOrder()),
        sort_requested=order_by is not None,
        status=filter.status.value if filter and filter.status else None,
        type=filter.type.value if filter and filter.type else None,
        updated_after=iso(updated_after),
    )
    args = ConnectionArgs(first, after, last, before)
    return await list_connection(info.context, query, args, Resource.from_record)


# --- mutations ----------------------------------------------------------------


@strawberry.input
class CreateResourceInput:
    name: str
    type: ResourceType
    description: str | None = UNSET
    status: ResourceStatus | None = UNSET
    metadata: JSON | None = UNSET
    custom_properties: JSON | None = UNSET


@strawberry.input(description=UPDATE_DESCRIPTION)
class UpdateResourceInput:
    id: strawberry.ID
    name: str | None = UNSET
    description: str | None = UNSET
    type: ResourceType | None = UNSET
    status: ResourceStatus | None = UNSET
    metadata: JSON | None = UNSET
    custom_properties: JSON | None = UNSET


@strawberry.input
class DeleteResourceInput:
    id: strawberry.ID


@strawberry.type
class CreateResourcePayload:
    resource: Resource


@strawberry.type
class UpdateResourcePayload:
    resource: Resource


@strawberry.type
class DeleteResourcePayload(DeletePayload):
    pass


async def create_resource(
    info: Info[Context, None], input: CreateResourceInput
) -> CreateResourcePayload | None:
    record = await create_record(info, "resources", input)
    return CreateResourcePayload(resource=Resource.from_record(record))


async def update_resource(
    info: Info[Context, None], input: UpdateResourceInput
) -> UpdateResourcePayload | None:
    record = await update_record(info, "Resource", "resources", input)
    return UpdateResourcePayload(resource=Resource.from_record(record))


async def delete_resource(
    info: Info[Context, None], input: DeleteResourceInput
) -> DeleteResourcePayload | None:
    return DeleteResourcePayload.of(
        "Resource", await delete_record(info, "Resource", "resources", input)
    )
