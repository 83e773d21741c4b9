"""Objects whose fields read their upstream record when asked, not when built.

A page of 100 contacts used to build every field of every contact (eleven values, two
timestamps parsed) when a query asks for four. A *record view* is a subclass of the
strawberry type (so `is_type_of`, interfaces and the executor's plans see the type
itself) that keeps the record and reads each field through a property, on access.

Faithful to eager building because: records are never changed once parsed (the
upstream layer hands out fresh or shared read-only dicts), and every read that could
*fail* (`record["id"]`, enum conversions, anything not a `.get`) stays in `__init__`,
so a bad record fails where and how it always did. Properties only hold reads that
cannot raise on a dict: `.get`, `or ""`, `parse_time` (None for what does not parse),
`to_global_id` of the database id.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Generic, TypeVar

from restloom.graphql.connections import parse_time
from restloom.graphql.relay import to_global_id

E = TypeVar("E", bound=Enum)


class EnumByValue(Generic[E]):
    """`cls(value)` for a record's value, by one dict lookup when it is a member's.

    An enum's own call costs about a microsecond, and a page of 250 members makes 500
    of them. Anything else goes to `cls(value)`, so it converts or fails as it always did.
    """

    __slots__ = ("_cls", "_members")

    def __init__(self, cls: type[E]) -> None:
        self._cls = cls
        self._members: dict[Any, E] = {member.value: member for member in cls}

    def __call__(self, value: Any) -> E:
        if type(value) is str:
            found = self._members.get(value)
            if found is not None:
                return found
        return self._cls(value)


def value(key: str) -> property:
    def read(self: Any) -> Any:
        return self._record.get(key)

    return property(read)


def text_or_empty(key: str) -> property:
    def read(self: Any) -> Any:
        return self._record.get(key) or ""

    return property(read)


def timestamp(key: str) -> property:
    def read(self: Any) -> Any:
        return parse_time(self._record.get(key))

    return property(read)


def global_id(type_name: str) -> property:
    def read(self: Any) -> Any:
        return to_global_id(type_name, self.database_id)

    return property(read)
