"""What every mutation shares: request bodies from inputs, idempotency keys, fresh loaders."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from enum import Enum
from typing import TYPE_CHECKING, Any, Self

import strawberry
from strawberry import UNSET
from strawberry.types import Info

from restloom.graphql.errors import bad_user_input
from restloom.graphql.relay import database_id_for, to_global_id
from restloom.upstream import api
from restloom.upstream.pages import Record

if TYPE_CHECKING:
    from restloom.graphql.context import Context


UPDATE_DESCRIPTION = (
    "Fields left out are unchanged; fields set to null are cleared. JSON maps (`metadata`, "
    "`customProperties`) are merged: keys given are set, keys set to null are removed, and "
    "keys not mentioned are kept."
)


def body_of(value: Any, *, skip: tuple[str, ...] = ("id",)) -> Record:
    """An input object as the upstream's JSON body: fields left out stay out, null stays null.

    Input attribute names are the upstream's snake_case names by design.
    """
    body: Record = {}
    for field in dataclasses.fields(value):
        item = getattr(value, field.name)
        if field.name in skip or item is UNSET:
            continue
        body[field.name] = _plain(item)
    return body


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return body_of(value, skip=())
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e][\x20-\x7e]{0,254}")


def idempotency_key(info: Info[Context, None]) -> str | None:
    """This mutation field's key: the caller's key and the field's alias, same on every retry.

    One request may carry several mutations; each needs its own upstream key,
    or the second would replay the first's response.
    """
    caller_key = info.context.idempotency_key
    if caller_key is None:
        return None
    if not _IDEMPOTENCY_KEY.fullmatch(caller_key):
        # It goes upstream as a header: printable ASCII only, and bounded.
        raise bad_user_input(
            "`Idempotency-Key` must be 1-255 printable ASCII characters", "Idempotency-Key"
        )
    digest = hashlib.sha256(f"{caller_key}\x00{info.path.key}".encode()).hexdigest()[:32]
    return f"{caller_key[:64]}:{digest}"


def forget(
    info: Info[Context, None], collection: str, object_id: str, record: Record | None
) -> None:
    """After a write, later fields of this request must read the new state."""
    loaders = info.context.loaders
    loader = loaders.objects(collection)
    if record is not None:
        loader.prime(object_id, record, force=True)
    elif loader.cache_map.get(object_id) is not None:
        loader.clear(object_id)
    loaders.windows.clear_all()


async def create_record(info: Info[Context, None], collection: str, input: Any) -> Record:
    record = await api.create(
        info.context.exchange, collection, body_of(input), idempotency_key(info)
    )
    forget(info, collection, str(record["id"]), record)
    return record


async def update_record(
    info: Info[Context, None], type_name: str, collection: str, input: Any
) -> Record:
    object_id = database_id_for(type_name, input.id, info.context.profile)
    record = await api.update(
        info.context.exchange, collection, object_id, body_of(input), idempotency_key(info)
    )
    forget(info, collection, object_id, record)
    return record


async def delete_record(
    info: Info[Context, None], type_name: str, collection: str, input: Any
) -> str:
    """Delete, and return the deleted object's database id."""
    object_id = database_id_for(type_name, input.id, info.context.profile)
    await api.delete(info.context.exchange, collection, object_id, idempotency_key(info))
    forget(info, collection, object_id, None)
    return object_id


@strawberry.type(description="What a delete mutation removed, so client caches can evict it.")
class DeletePayload:
    """Each delete mutation has its own subclass, so each can grow on its own."""

    deleted_id: strawberry.ID
    deleted_database_id: str

    @classmethod
    def of(cls, type_name: str, database_id: str) -> Self:
        return cls(deleted_id=to_global_id(type_name, database_id), deleted_database_id=database_id)
