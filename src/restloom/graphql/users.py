"""Users and the viewer."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry import UNSET
from strawberry.types import Info

from restloom.graphql import records
from restloom.graphql.connections import (
    ConnectionArgs,
    OrderDirection,
    iso,
    list_connection,
    sort_of,
)
from restloom.graphql.context import Context
from restloom.graphql.orgunits import OrgUnit, viewer_active_org_unit, viewer_org_units
from restloom.graphql.relay import NODE_TYPE_NAMES, Connection, Node, database_id_for
from restloom.graphql.writes import body_of, forget, idempotency_key
from restloom.upstream.api import ListQuery, fetch_me, update_me
from restloom.upstream.pages import Record

NODE_TYPE_NAMES.add("User")


@strawberry.enum(description="A user's role in the account.")
class UserRole(Enum):
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"


@strawberry.enum
class UserOrderField(Enum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    EMAIL = "email"
    USERNAME = "username"


@strawberry.input
class UserOrder:
    field: UserOrderField = UserOrderField.CREATED_AT
    direction: OrderDirection = OrderDirection.DESC


@strawberry.type
class UserProfile:
    first_name: str | None
    last_name: str | None
    avatar_url: str | None


@strawberry.type
class User(Node):
    database_id: str
    email: str
    username: str | None
    role: UserRole | None
    profile: UserProfile
    created_at: datetime | None
    updated_at: datetime | None
    # Set on `viewer` only: the credential's own org units are the viewer's.
    is_viewer: strawberry.Private[bool] = False

    @strawberry.field(
        description="The organizational units the caller's credential may use (viewer only)."
    )
    async def org_units(self, info: Info[Context, None]) -> list[OrgUnit] | None:
        return await viewer_org_units(info, self.is_viewer)

    @strawberry.field(
        description="The organizational unit this request works in: the `X-Org-Unit` "
        "header's, else the credential's home unit (viewer only)."
    )
    async def active_org_unit(self, info: Info[Context, None]) -> OrgUnit | None:
        return await viewer_active_org_unit(info, self.is_viewer)

    @classmethod
    def from_record(cls, record: Record) -> User:
        return _UserOfRecord(record)


_user_role = records.EnumByValue(UserRole)


class _UserOfRecord(User):
    """A User reading its fields from the record when asked (`records.py`)."""

    __slots__ = ("_profile", "_record", "database_id", "role")

    id = records.global_id("User")  # type: ignore[assignment]
    email = records.text_or_empty("email")  # type: ignore[assignment]
    username = records.value("username")  # type: ignore[assignment]
    created_at = records.timestamp("created_at")  # type: ignore[assignment]
    updated_at = records.timestamp("updated_at")  # type: ignore[assignment]

    def __init__(self, record: Record) -> None:
        self._record = record
        # What can fail stays here, where it always failed: no id, an unknown role,
        # a profile that is no object (its `.get` raises as it did).
        self.database_id = str(record["id"])
        role = record.get("role")
        self.role = _user_role(role) if role else None
        profile = record.get("profile") or {}
        if type(profile) is not dict:
            _profile_of(profile)
        self._profile = profile

    @property  # type: ignore[override]
    def profile(self) -> UserProfile:
        return _profile_of(self._profile)


def _profile_of(profile: Any) -> UserProfile:
    return UserProfile(
        first_name=profile.get("first_name"),
        last_name=profile.get("last_name"),
        avatar_url=profile.get("avatar_url"),
    )


async def load_user(info: Info[Context, None], database_id: str) -> User:
    return User.from_record(await info.context.loaders.objects("users").load(database_id))


async def resolve_user(
    info: Info[Context, None],
    id: Annotated[strawberry.ID, strawberry.argument(description="Global id or databaseId.")],
) -> User | None:
    return await load_user(info, database_id_for("User", id, info.context.profile))


async def resolve_viewer(info: Info[Context, None]) -> User | None:
    record = await fetch_me(info.context.exchange)
    # Prime the loader so `user(id:)` on the viewer in the same request costs nothing.
    info.context.loaders.objects("users").prime(str(record["id"]), record)
    viewer = User.from_record(record)
    viewer.is_viewer = True
    return viewer


async def resolve_users(
    info: Info[Context, None],
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    search: str | None = None,
    role: UserRole | None = None,
    updated_after: datetime | None = None,
    order_by: UserOrder | None = None,
) -> Connection[User]:
    query = ListQuery.build(
        "users",
        sort=sort_of(order_by or UserOrder()),
        sort_requested=order_by is not None,
        search=search,
        role=role.value if role else None,
        updated_after=iso(updated_after),
    )
    args = ConnectionArgs(first, after, last, before)
    return await list_connection(info.context, query, args, User.from_record)


# --- mutations ----------------------------------------------------------------


@strawberry.input(description="Fields left out are unchanged; fields set to null are cleared.")
class UserProfileInput:
    first_name: str | None = UNSET
    last_name: str | None = UNSET
    avatar_url: str | None = UNSET


@strawberry.input(description="Fields left out are unchanged; fields set to null are cleared.")
class UpdateViewerInput:
    email: str | None = UNSET
    username: str | None = UNSET
    profile: UserProfileInput | None = UNSET


@strawberry.type
class UpdateViewerPayload:
    user: User


async def update_viewer(
    info: Info[Context, None], input: UpdateViewerInput
) -> UpdateViewerPayload | None:
    record = await update_me(info.context.exchange, body_of(input), idempotency_key(info))
    forget(info, "users", str(record["id"]), record)
    return UpdateViewerPayload(user=User.from_record(record))
