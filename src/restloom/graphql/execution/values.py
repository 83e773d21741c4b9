"""What a plain read gave: a value to complete as it is, or one graphql-core must see."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from graphql import Undefined

# Returned by a plain read that graphql-core must redo.
IRREGULAR: Any = object()
# Values whose class says all there is to know: not awaitable, not an exception.
SIMPLE = frozenset({str, int, float, bool})

# Classes whose instances are never awaitable nor exceptions, so the class alone says
# a value is settled (graphql-core's checks look for `__await__` on each instance, which
# for a strawberry object walks its classes and fails: 6% of an executed query). Only
# the schema's object types, enums and the usual scalar values join: few, bounded.
PLAIN_CLASSES: set[type] = {datetime, date, time, Decimal, UUID}
_MAX_PLAIN_CLASSES = 1024


def remember_if_plain(cls: type) -> None:
    if (
        (hasattr(cls, "__strawberry_definition__") or issubclass(cls, Enum))
        and not issubclass(cls, BaseException)
        and not hasattr(cls, "__await__")
        and len(PLAIN_CLASSES) < _MAX_PLAIN_CLASSES
    ):
        PLAIN_CLASSES.add(cls)


def scalar_output(coerce: Callable[[Any], Any], value: Any) -> Any:
    """A settled leaf value through its scalar's `coerce`, or IRREGULAR when the scalar
    refuses it (raises, or gives null): graphql-core's path then reports it as it always
    has."""
    try:
        coerced = coerce(value)
    except Exception:
        return IRREGULAR
    if coerced is None or coerced is Undefined:
        return IRREGULAR
    return coerced
