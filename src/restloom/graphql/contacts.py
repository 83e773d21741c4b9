"""Contacts."""

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
    sort_of,
)
from restloom.graphql.context import Context
from restloom.graphql.relay import NODE_TYPE_NAMES, Connection, Node, database_id_for
from restloom.graphql.writes import (
    UPDATE_DESCRIPTION,
    DeletePayload,
    create_record,
    delete_record,
    update_record,
)
from restloom.upstream.api import ListQuery
from restloom.upstream.pages import Record

NODE_TYPE_NAMES.add("Contact")


@strawberry.enum
class ContactOrderField(Enum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    FIRST_NAME = "first_name"
    LAST_NAME = "last_name"
    EMAIL = "email"


@strawberry.input
class ContactOrder:
    field: ContactOrderField = ContactOrderField.CREATED_AT
    direction: OrderDirection = OrderDirection.DESC


@strawberry.type
class Contact(Node):
    database_id: str
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    company: str | None
    job_title: str | None
    custom_properties: JSON | None = strawberry.field(
        description="The upstream's custom properties (null where it has none)."
    )
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def from_record(cls, record: Record) -> Contact:
        return _ContactOfRecord(record)


class _ContactOfRecord(Contact):
    """A Contact reading its fields from the record when asked (`records.py`)."""

    __slots__ = ("_record", "database_id")

    id = records.global_id("Contact")  # type: ignore[assignment]
    first_name = records.value("first_name")  # type: ignore[assignment]
    last_name = records.value("last_name")  # type: ignore[assignment]
    email = records.value("email")  # type: ignore[assignment]
    phone = records.value("phone")  # type: ignore[assignment]
    company = records.value("company")  # type: ignore[assignment]
    job_title = records.value("job_title")  # type: ignore[assignment]
    custom_properties = records.value("custom_properties")  # type: ignore[assignment]
    created_at = records.timestamp("created_at")  # type: ignore[assignment]
    updated_at = records.timestamp("updated_at")  # type: ignore[assignment]

    def __init__(self, record: Record) -> None:
        self._record = record
        self.database_id = str(record["id"])  # a record without an id fails here, as ever


async def resolve_contact(
    info: Info[Context, None],
    id: Annotated[strawberry.ID, strawberry.argument(description="Global id or databaseId.")],
) -> Contact | None:
    loader = info.context.loaders.objects("contacts")
    return Contact.from_record(
        await loader.load(database_id_for("Contact", id, info.context.profile))
    )


async def resolve_contacts(
    info: Info[Context, None],
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    search: str | None = None,
    updated_after: datetime | None = None,
    order_by: ContactOrder | None = None,
) -> Connection[Contact]:
    query = ListQuery.build(
        "contacts",
        sort=sort_of(order_by or ContactOrder()),
        sort_requested=order_by is not None,
        search=search,
        updated_after=iso(updated_after),
    )
    args = ConnectionArgs(first, after, last, before)
    return await list_connection(info.context, query, args, Contact.from_record)


# --- mutations ----------------------------------------------------------------


@strawberry.input
class CreateContactInput:
    first_name: str
    email: str
    last_name: str | None = UNSET
    phone: str | None = UNSET
    company: str | None = UNSET
    job_title: str | None = UNSET
    custom_properties: JSON | None = UNSET


@strawberry.input(description=UPDATE_DESCRIPTION)
class UpdateContactInput:
    id: strawberry.ID
    first_name: str | None = UNSET
    last_name: str | None = UNSET
    email: str | None = UNSET
    phone: str | None = UNSET
    company: str | None = UNSET
    job_title: str | None = UNSET
    custom_properties: JSON | None = UNSET


@strawberry.input
class DeleteContactInput:
    id: strawberry.ID


@strawberry.type
class DeleteContactPayload(DeletePayload):
    pass


@strawberry.type
class CreateContactPayload:
    contact: Contact


@strawberry.type
class UpdateContactPayload:
    contact: Contact


async def create_contact(
    info: Info[Context, None], input: CreateContactInput
) -> CreateContactPayload | None:
    record = await create_record(info, "contacts", input)
    return CreateContactPayload(contact=Contact.from_record(record))


async def update_contact(
    info: Info[Context, None], input: UpdateContactInput
) -> UpdateContactPayload | None:
    record = await update_record(info, "Contact", "contacts", input)
    return UpdateContactPayload(contact=Contact.from_record(record))


async def delete_contact(
    info: Info[Context, None], input: DeleteContactInput
) -> DeleteContactPayload | None:
    return DeleteContactPayload.of(
        "Contact", await delete_record(info, "Contact", "contacts", input)
    )
