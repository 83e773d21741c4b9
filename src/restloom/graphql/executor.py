"""A faster path through graphql-core for the commonest field: a plain attribute read of a scalar.

Most fields of a large response (`firstName`, `email`... of a hundred records) are
strawberry "basic" fields: no resolver, no extension, no arguments, just the attribute
of the object, serialized as a scalar. graphql-core still builds a resolve info,
resolves through strawberry's wrapper, checks for an awaitable and completes through
`complete_value` for each. Here such a field is read and serialized directly.

Semantics are graphql-core's: anything outside the plain case (a null for a non-null
type, a value that is not a str/int/float/bool, a serializer that refuses it, any
resolver middleware) goes through graphql-core's own `execute_field`, which produces
the same value or the same error it always did. Aliases and `@skip`/`@include` are
decided before fields execute, and `__typename` is never a schema field, so neither
reaches this path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

from graphql import (
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    Undefined,
)

# Where a field's plan is kept, once worked out (the field lives as long as the schema).
_PLAN = "restloom-plain-read"
_PLAIN_VALUES = frozenset({str, int, float, bool})


@dataclass(frozen=True)
class PlainRead:
    read: Callable[[Any, str], Any]  # strawberry's default resolver (getattr)
    name: str  # the attribute
    scalar: GraphQLScalarType
    non_null: bool


def plan_for(field: GraphQLField) -> PlainRead | None:
    found = field.extensions.get(_PLAN, Undefined)
    if found is Undefined:
        found = _plan(field)
        field.extensions[_PLAN] = found
    return found


def _plan(field: GraphQLField) -> PlainRead | None:
    definition = field.extensions.get("strawberry-definition")
    # strawberry resolves its basic fields with `_get_basic_result`: nothing but a read.
    basic = getattr(field.resolve, "__name__", "") == "_get_basic_result"
    if not isinstance(definition, StrawberryField) or not basic or field.args:
        return None
    if not definition.is_basic_field or definition.default_resolver is None:
        return None
    non_null = isinstance(field.type, GraphQLNonNull)
    scalar = field.type.of_type if non_null else field.type  # type: ignore[union-attr]
    if not isinstance(scalar, GraphQLScalarType):
        return None
    return PlainRead(definition.default_resolver, definition.python_name, scalar, non_null)


class FastExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Resolver middleware (a schema extension's `resolve`) must see every field.
        self._plain_reads = not getattr(self.middleware_manager, "middlewares", None)

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any,
    ) -> Any:
        if self._plain_reads:
            field = self.schema.get_field(parent_type, field_details_list[0].node.name.value)
            plan = plan_for(field) if field is not None else None
            if plan is not None:
                value = _read(plan, source)
                if value is None and not plan.non_null:
                    return None
                if type(value) in _PLAIN_VALUES:
                    try:
                        serialized = plan.scalar.serialize(value)
                    except Exception:  # graphql-core's path reports it as it always has
                        serialized = None
                    if serialized is not None and serialized is not Undefined:
                        return serialized
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )


def _read(plan: PlainRead, source: Any) -> Any:
    try:
        return plan.read(source, plan.name)
    except Exception:  # graphql-core's path raises it again, as a located field error
        return Undefined
