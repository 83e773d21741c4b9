"""Organizations and their members (edges carry the role; nodes are Users)."""

from __future__ import annotations

from collections.abc import Awaitable, Generator
from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry import UNSET
from strawberry.scalars import JSON
from strawberry.types import Info

from restloom.graphql import records
from restloom.graphql.connections import (
    ConnectionArgs,
    OrderDirection,
    WindowCursors,
    iso,
    list_connection,
    load_window_at,
    parse_time,
    selects,
    sort_of,
    window_key,
)
from restloom.graphql.context import Context
from restloom.graphql.relay import (
    NODE_TYPE_NAMES,
    Connection,
    Node,
    PageInfo,
    database_id_for,
    page_info,
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


@strawberry.enum(description="A member's role in an organization.")
class MemberRole(Enum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


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
class OrganizationMemberEdge:
    cursor: str
    role: MemberRole | None
    joined_at: datetime | None
    # The member's user, an attribute (so that executing it is a plain read, see
    # graphql/execution): the User when loaded up front, else an awaitable of it (or of
    # why it could not be loaded) that graphql-core awaits when the field is asked for.
    # An error must stay an awaitable in a list, so that it nulls its own item only.
    node: User | Awaitable[User] | None = strawberry.field(
        description="The member, loaded in one batch with the other members.",
        graphql_type=User | None,
    )
    user_id: strawberry.Private[str]


class _WindowMemberEdge(OrganizationMemberEdge):
    """A member's edge, its cursor read from its window's cursors when asked."""

    __slots__ = ("_cursors", "_index")

    def __init__(self, cursors: WindowCursors, index: int, item: Record, context: Context) -> None:
        self._cursors = cursors
        self._index = index
        self.role = MemberRole(item["role"]) if item.get("role") else None
        self.joined_at = parse_time(item.get("joined_at"))
        self.user_id = str(item["user_id"])
        self.node = _Load(context, self.user_id)

    @property  # type: ignore[override]
    def cursor(self) -> str:
        return self._cursors[self._index]


class _Load:
    """The user of a member list whose users were not fetched up front, when awaited."""

    __slots__ = ("context", "user_id")

    def __init__(self, context: Context, user_id: str) -> None:
        self.context = context
        self.user_id = user_id

    def __await__(self) -> Generator[Any, None, User]:
        return _load(self.context, self.user_id).__await__()


async def _load(context: Context, user_id: str) -> User:
    return User.from_record(await context.loaders.objects("users").load(user_id))


class _Failed:
    """A user that could not be loaded: awaiting it raises why."""

    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __await__(self) -> Generator[Any, None, User]:
        return _raise(self.error).__await__()


async def _raise(error: Exception) -> User:
    raise error


@strawberry.type
class OrganizationMemberConnection:
    edges: list[OrganizationMemberEdge]
    page_info: PageInfo
    total_count: int

    @strawberry.field
    def nodes(self) -> list[User | None]:
        return [edge.node for edge in self.edges]  # type: ignore[misc]


async def _fetch_users(info: Info[Context, None], edges: list[OrganizationMemberEdge]) -> None:
    """Load every member's user up front, in batches shared with the sibling lists'.

    Asked for once every member list of the batch is in (the caller waits for that),
    so every organization asks in the same tick and the users not already asked for
    (`ChunkPrefetch` sends each full batch lookup as soon as the lists in fill one) go
    in the last batch lookup. Edges then resolve without an awaitable each, which is
    most of the cost of a big list.
    """
    loader = info.context.loaders.objects("users")
    # The loads' futures, awaited one by one: a few batches answer them all (most are
    # in by the time they are awaited), without a gather's bookkeeping per user.
    futures = [loader.load(edge.user_id) for edge in edges]
    for edge, future in zip(edges, futures, strict=True):
        try:
            record = await future
        except Exception as error:  # this user only: null in its own edge
            edge.node = _Failed(error)
        else:
            if isinstance(record, dict):
                edge.node = User.from_record(record)


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
        query = ListQuery.build(
            "members", parent_id=self.database_id, updated_after=iso(updated_after)
        )
        key = window_key(info.context, query, ConnectionArgs(first, after, last, before))
        window, cursors = await load_window_at(info.context, key)
        # Built as soon as this list is in, while the slower sibling lists still travel.
        edges = [
            _WindowMemberEdge(cursors, index, item, info.context)
            for index, item in enumerate(window.items)
        ]
        if selects(info, "edges", "node") or selects(info, "nodes"):
            windows = info.context.loaders.windows
            settled = windows.settled(key)
            if settled is not None:  # the users of all sibling lists go in few batches
                chunk = api.batch_chunk(info.context.profile)
                users = info.context.loaders.objects("users")
                prefetch = windows.prefetch(key, users, chunk) if chunk else None
                if prefetch is not None:
                    prefetch.add(edge.user_id for edge in edges)
                await settled
            await _fetch_users(info, edges)
        return OrganizationMemberConnection(
            edges=edges,
            page_info=page_info(cursors, window),
            total_count=window.total,
        )

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
    return await list_connection(info.context, query, args, Organization.from_record)


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
