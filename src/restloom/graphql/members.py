"""An organization's members: their edges (the role, when they joined) and their users.

`Organization.members` lists them through `member_connection`: one window of the
upstream's member list, and the members' users loaded up front, in batches shared with
the sibling organizations' lists.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Generator
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from restloom.graphql import records
from restloom.graphql.connections import (
    ConnectionArgs,
    CursorFromWindow,
    WindowCursors,
    iso,
    load_window_at,
    selects,
    window_key,
)
from restloom.graphql.context import Context
from restloom.graphql.loaders import WindowKey
from restloom.graphql.lookahead import field_arguments, lone_field
from restloom.graphql.relay import PageInfo, page_info
from restloom.graphql.users import User
from restloom.upstream import api
from restloom.upstream.api import ListQuery
from restloom.upstream.pages import Record


@strawberry.enum(description="A member's role in an organization.")
class MemberRole(Enum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


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


_member_role = records.EnumByValue(MemberRole)


class _WindowMemberEdge(CursorFromWindow, OrganizationMemberEdge):
    """A member's edge, its cursor read from its window's cursors when asked.

    As a record view (`records.py`): what can fail (the role, the user id) is read
    here, `joined_at` (which cannot) when asked.
    """

    joined_at = records.timestamp("joined_at")  # type: ignore[assignment]

    def __init__(self, cursors: WindowCursors, index: int, item: Record, context: Context) -> None:
        self._cursors = cursors
        self._index = index
        self._record = item
        self.role = _member_role(item["role"]) if item.get("role") else None
        self.user_id = str(item["user_id"])
        self.node = _Load(context, self.user_id)


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

    Asked for once every member list of the batch is in (the caller waits for that).
    By then `ChunkPrefetch` has asked for every user of the lists whose callers handed
    it their ids (each full batch lookup as soon as the lists in filled one, the rest
    when the last list came in), so these loads mostly find their futures waiting.
    Edges then resolve without an awaitable each, which is most of the cost of a big
    list.
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


def member_window_key(
    context: Context, organization_id: str, args: ConnectionArgs, updated_after: datetime | None
) -> WindowKey:
    query = ListQuery.build("members", parent_id=organization_id, updated_after=iso(updated_after))
    return window_key(context, query, args)


# Where a page of organizations meets its `members` field.
MEMBERS_PATHS = (("edges", "node", "members"), ("nodes", "members"))


async def load_members_ahead(info: Info[Context, None], organization_ids: list[str]) -> None:
    """Start every organization's member list now that their page is in, and let the
    calls leave before the organizations are completed.

    Otherwise each list waits for every organization before it to be completed and
    its `members` resolver to run: 4-5 ms for 25 of them (marks in the server),
    all on the request's critical path. Only when `members` is certain to run with
    arguments known now (`lookahead.lone_field`), and they make a valid window: the
    resolvers then find their windows loading, and anything else is theirs to do (and
    to report) as before.
    """
    field = lone_field(info, *MEMBERS_PATHS) if len(organization_ids) > 1 else None
    if field is None:
        return
    try:
        values = field_arguments(info, "Organization", field)
        args = ConnectionArgs(
            values.get("first"), values.get("after"), values.get("last"), values.get("before")
        )
        keys = [
            member_window_key(info.context, org, args, values.get("updatedAfter"))
            for org in organization_ids
        ]
    except Exception:  # each resolver raises it again, for its own field
        return
    windows = info.context.loaders.windows
    if any(windows.loaded(key) for key in keys):
        return  # some already loading (another field): the resolvers share them as they are
    futures = [windows.load(key) for key in keys]
    for future in futures:
        # A list no resolver will ask for (its organization failed first) fails quietly.
        future.add_done_callback(_seen)
    windows.dispatch_now()
    try:
        await asyncio.sleep(0)  # their tasks send before this resolver's caller goes on
    except asyncio.CancelledError:
        for future in futures:  # nobody will ask for them now: stop loading them
            future.cancel()
        raise


def _seen(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()  # retrieved: asyncio does not log it as never retrieved


async def member_connection(
    info: Info[Context, None],
    organization_id: str,
    args: ConnectionArgs,
    updated_after: datetime | None,
) -> OrganizationMemberConnection:
    """One window of an organization's members, their users loaded when selected."""
    key = member_window_key(info.context, organization_id, args, updated_after)
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
