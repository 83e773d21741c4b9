"""Record views (`graphql/records.py`) answer exactly as the eagerly built objects did.

Each record below is served as a lazily read `Contact` and as one built field by field
(the old `from_record`), through planned execution and graphql-core's: the four
answers (data, and each error's message, path and locations) must be equal.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
import strawberry
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from restloom.graphql.connections import parse_time
from restloom.graphql.contacts import Contact
from restloom.graphql.execution import FastExecutionContext
from restloom.graphql.organizations import Organization
from restloom.graphql.records import EnumByValue
from restloom.graphql.relay import to_global_id
from restloom.graphql.users import User, UserProfile, UserRole
from restloom.upstream.pages import Record

RECORDS: list[Record] = [
    {
        "id": "cnt_1",
        "first_name": "Ada",
        "last_name": "L",
        "email": "a@x",
        "phone": "1",
        "company": "C",
        "job_title": "J",
        "custom_properties": {"k": [1]},
        "created_at": "2025-01-02T03:04:05Z",
        "updated_at": "2025-01-02T03:04:05+02:00",
    },
    {"id": 7},  # every other field missing; a numeric id
    {"id": "cnt_3", "first_name": None, "created_at": None, "custom_properties": None},
    {"id": "cnt_4", "first_name": 5, "last_name": True, "email": 1.5, "phone": ["x"]},
    {"id": "cnt_5", "company": {"a": 1}, "created_at": "not a time", "updated_at": 12},
    {"id": "cnt_6", "custom_properties": "text", "job_title": 2**40},
]


def eager(record: Record) -> Contact:
    """The Contact `from_record` built before record views."""
    return Contact(
        id=to_global_id("Contact", str(record["id"])),
        database_id=str(record["id"]),
        first_name=record.get("first_name"),
        last_name=record.get("last_name"),
        email=record.get("email"),
        phone=record.get("phone"),
        company=record.get("company"),
        job_title=record.get("job_title"),
        custom_properties=record.get("custom_properties"),
        created_at=parse_time(record.get("created_at")),
        updated_at=parse_time(record.get("updated_at")),
    )


@pytest.mark.parametrize("record", RECORDS)
def test_every_field_reads_as_before(record: Record) -> None:
    lazy, built = Contact.from_record(record), eager(record)
    assert isinstance(lazy, Contact)
    for field in dataclasses.fields(Contact):
        assert getattr(lazy, field.name) == getattr(built, field.name), field.name


def test_a_record_without_id_fails_when_converted_as_before() -> None:
    with pytest.raises(KeyError) as lazy_error:
        Contact.from_record({"first_name": "x"})
    with pytest.raises(KeyError) as eager_error:
        eager({"first_name": "x"})
    assert lazy_error.value.args == eager_error.value.args


CONVERT = {"lazy": Contact.from_record, "eager": eager}


@strawberry.type
class Query:
    @strawberry.field
    def contacts(self, info: strawberry.Info) -> list[Contact | None]:
        return [info.context["convert"](record) for record in RECORDS]

    @strawberry.field
    def sure(self, info: strawberry.Info) -> list[Contact]:
        return [info.context["convert"](record) for record in RECORDS[:2]]


QUERIES = [
    "{ contacts { id databaseId firstName lastName email phone company jobTitle"
    " customProperties createdAt updatedAt __typename } }",
    "{ contacts { ... on Node { id } ... on Contact { email createdAt } } }",
    "{ sure { id firstName } }",
]


def run(query: str, convert: str, context_class: type) -> dict[str, Any]:
    schema = strawberry.Schema(query=Query, execution_context_class=context_class)
    result = asyncio.run(schema.execute(query, context_value={"convert": CONVERT[convert]}))
    return {
        "data": result.data,
        "errors": [(e.message, e.path, e.locations) for e in result.errors or []],
    }


@pytest.mark.parametrize("query", QUERIES)
def test_same_answers_lazy_or_eager_planned_or_not(query: str) -> None:
    reference = run(query, "eager", StrawberryGraphQLCoreExecutionContext)
    if "phone" in query:  # ["x"] is no String
        assert reference["errors"], "the records include values a field refuses"
    for convert in CONVERT:
        for context_class in (FastExecutionContext, StrawberryGraphQLCoreExecutionContext):
            assert run(query, convert, context_class) == reference, (convert, context_class)


def eager_user(record: Record) -> User:
    """The User `from_record` built before record views."""
    profile = record.get("profile") or {}
    role = record.get("role")
    return User(
        id=to_global_id("User", str(record["id"])),
        database_id=str(record["id"]),
        email=record.get("email") or "",
        username=record.get("username"),
        role=UserRole(role) if role else None,
        profile=UserProfile(
            first_name=profile.get("first_name"),
            last_name=profile.get("last_name"),
            avatar_url=profile.get("avatar_url"),
        ),
        created_at=parse_time(record.get("created_at")),
        updated_at=parse_time(record.get("updated_at")),
    )


def eager_organization(record: Record) -> Organization:
    """The Organization `from_record` built before record views."""
    return Organization(
        id=to_global_id("Organization", str(record["id"])),
        database_id=str(record["id"]),
        name=record.get("name") or "",
        slug=record.get("slug"),
        description=record.get("description"),
        member_count=record.get("member_count"),
        custom_properties=record.get("custom_properties"),
        created_at=parse_time(record.get("created_at")),
        updated_at=parse_time(record.get("updated_at")),
    )


OTHER_RECORDS: list[Record] = [
    {"id": "u1", "email": "a@x", "role": "admin", "profile": {"first_name": "A"}},
    {"id": 2, "email": None, "name": None, "role": "", "profile": None, "created_at": "x"},
    {"id": "u3", "email": 5, "username": ["u"], "name": 0, "slug": 1, "member_count": "7"},
    {"id": "u4", "role": "emperor"},  # an unknown role: the user fails when converted
    {"id": "u5", "profile": "text"},  # a profile that is no object: likewise
    {"id": "u6", "profile": [1], "updated_at": "2025-01-02T03:04:05Z"},
    {"email": "no id"},
]


def outcome(convert: Any, record: Record, fields: list[str]) -> Any:
    try:
        converted = convert(record)
    except Exception as error:
        return (type(error), error.args)
    values = (getattr(converted, name) for name in fields)
    return [value for value in values if not callable(value)]  # resolvers: not data


@pytest.mark.parametrize("record", OTHER_RECORDS)
def test_users_and_organizations_read_as_before(record: Record) -> None:
    user_fields = [f.name for f in dataclasses.fields(User)]
    assert outcome(User.from_record, record, user_fields) == outcome(
        eager_user, record, user_fields
    )
    organization_fields = [f.name for f in dataclasses.fields(Organization)]
    assert outcome(Organization.from_record, record, organization_fields) == outcome(
        eager_organization, record, organization_fields
    )


@pytest.mark.parametrize("value", ["admin", "viewer", "emperor", "ADMIN", 1, None, ["admin"], {}])
def test_roles_convert_or_fail_as_the_enum_does(value: Any) -> None:
    def outcome(convert: Any) -> Any:
        try:
            return convert(value)
        except Exception as error:
            return (type(error), error.args)

    assert outcome(EnumByValue(UserRole)) == outcome(UserRole)
