"""Which fields of a selection are plain reads, worked out once per selection set.

A *plain read* is a strawberry "basic" field (no resolver, no extension, no
arguments: the attribute of the object) whose type is a leaf (scalar or enum), an
object type, or a list of either, each level nullable or not. `__typename` is one too.
Such a field needs none of graphql-core's per-field machinery (resolve info,
resolver wrapper, awaitable checks on the way down): `execution.context` completes
it in a loop. Every other field (resolvers, arguments, interfaces and unions, lists
of lists, `@stream`, deferred fragments) is `OTHER` and runs through graphql-core.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from graphql.execution.collect_fields import FieldDetailsList
from graphql.type.scalars import serialize_id, serialize_string
from strawberry.types.field import StrawberryField

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    Undefined,
)


class Kind(Enum):
    OTHER = 0  # graphql-core's own execute_field
    TYPENAME = 1
    LEAF = 2
    OBJECT = 3
    LEAF_LIST = 4
    OBJECT_LIST = 5


@dataclass(frozen=True)
class Shape:
    """What a plain-read field of the schema is: how to read it, what it holds.

    Kept on the GraphQLField (it lives as long as the schema).
    """

    read: Callable[[Any, str], Any]  # strawberry's default resolver (getattr)
    attr: str
    non_null: bool
    is_list: bool
    item_non_null: bool
    leaf: GraphQLScalarType | GraphQLEnumType | None
    object_type: GraphQLObjectType | None


# Where a field's shape is kept, once worked out (None: not a plain read).
_SHAPE = "restloom-plain-read"


def shape_of(field: GraphQLField) -> Shape | None:
    found = field.extensions.get(_SHAPE, Undefined)
    if found is Undefined:
        found = _shape(field)
        field.extensions[_SHAPE] = found
    return found


def _shape(field: GraphQLField) -> Shape | None:
    definition = field.extensions.get("strawberry-definition")
    # strawberry resolves its basic fields with `_get_basic_result`: nothing but a read
    # (a field with exception handlers or extensions gets another resolver).
    basic = getattr(field.resolve, "__name__", "") == "_get_basic_result"
    if not isinstance(definition, StrawberryField) or not basic or field.args:
        return None
    if not definition.is_basic_field or definition.default_resolver is None:
        return None
    non_null, inner = _unwrap(field.type)
    is_list = isinstance(inner, GraphQLList)
    item_non_null = False
    if is_list:
        item_non_null, inner = _unwrap(inner.of_type)  # type: ignore[union-attr]
    leaf = inner if isinstance(inner, GraphQLScalarType | GraphQLEnumType) else None
    object_type = inner if isinstance(inner, GraphQLObjectType) else None
    if leaf is None and (object_type is None or not _checkable(object_type)):
        return None  # a list of lists, an interface or a union: graphql-core's path
    return Shape(
        definition.default_resolver,
        definition.python_name,
        non_null,
        is_list,
        item_non_null,
        leaf,
        object_type,
    )


def _unwrap(type_: GraphQLOutputType) -> tuple[bool, GraphQLOutputType]:
    if isinstance(type_, GraphQLNonNull):
        return True, type_.of_type
    return False, type_


def _checkable(object_type: GraphQLObjectType) -> bool:
    """Whether its `is_type_of` (if any) can run without a resolve info.

    strawberry's own (for types implementing an interface) never looks at the info.
    """
    check = object_type.is_type_of
    if check is None:
        return True
    return check.__module__ == "strawberry.schema.schema_converter" and (
        "_get_is_type_of" in check.__qualname__
    )


class FieldPlan:
    """One response field of a selection set, as this execution completes it."""

    __slots__ = (
        "attr",
        "coerce",
        "field_details",
        "is_type_of",
        "item_non_null",
        "item_type",
        "kind",
        "leaf",
        "non_null",
        "read",
        "response_name",
        "return_type",
        "selection",
        "str_as_is",
    )

    def __init__(
        self,
        kind: Kind,
        response_name: str,
        field_details: FieldDetailsList,
        field: GraphQLField | None = None,
        shape: Shape | None = None,
    ) -> None:
        self.kind = kind
        self.response_name = response_name
        self.field_details = field_details
        self.return_type = field.type if field is not None else None
        self.item_type = (
            _list_item_type(field.type) if field is not None and shape and shape.is_list else None
        )
        self.read = shape.read if shape else None
        self.attr = shape.attr if shape else ""
        self.non_null = shape.non_null if shape else False
        self.item_non_null = shape.item_non_null if shape else False
        self.leaf = shape.leaf if shape else None
        self.coerce = output_coercion(self.leaf) if self.leaf is not None else None
        # graphql-core's String and ID give a str back as it is.
        self.str_as_is = self.coerce is serialize_string or self.coerce is serialize_id
        self.is_type_of = shape.object_type.is_type_of if shape and shape.object_type else None
        # The sub-selection of an object field, set by the planner.
        self.selection: SelectionPlan | None = None


def output_coercion(leaf: GraphQLScalarType | GraphQLEnumType) -> Callable[[Any], Any]:
    """The leaf type's `coerce_output_value`; for a strawberry enum, a member's name by
    one dict lookup first.

    strawberry's enum type finds a member's name by comparing its value with each of
    the type's values (`.value` is a descriptor on Enum: ~1 µs a member). The names are
    found here once, by that same comparison; anything that is not a member goes to
    strawberry's own method, as before.
    """
    coerce = leaf.coerce_output_value
    enum_class = getattr(leaf, "wrapped_cls", None)
    if not isinstance(leaf, GraphQLEnumType) or not _is_enum_class(enum_class):
        return coerce
    names: dict[Enum, str] = {}
    for member in enum_class:
        for name, value in leaf.values.items():
            if member.value == value.value:
                names[member] = name
                break

    def by_member(value: Any) -> Any:
        if type(value) is enum_class:
            name = names.get(value)
            if name is not None:
                return name
        return coerce(value)

    return by_member


def _is_enum_class(cls: Any) -> bool:
    return isinstance(cls, type) and issubclass(cls, Enum)


def _list_item_type(type_: GraphQLOutputType) -> GraphQLOutputType:
    _, inner = _unwrap(type_)
    return inner.of_type  # type: ignore[union-attr]


class SelectionPlan:
    """The fields of one selection set on one object type, in response order."""

    __slots__ = ("compile_tried", "compiled", "fields", "parent_type", "type_name")

    def __init__(self, parent_type: GraphQLObjectType, fields: list[FieldPlan]) -> None:
        self.parent_type = parent_type
        self.type_name = parent_type.name
        self.fields = fields
        # The straight-line completer of the regular case (compiled.py), once the plan
        # is used again; None: not yet, or the fields need the loop.
        self.compiled: Callable[[Any], Any] | None = None
        self.compile_tried = False


def kind_of(shape: Shape | None, field_details: FieldDetailsList) -> Kind:
    if shape is None or any(_streamed(details) for details in field_details):
        return Kind.OTHER
    if shape.leaf is not None:
        return Kind.LEAF_LIST if shape.is_list else Kind.LEAF
    return Kind.OBJECT_LIST if shape.is_list else Kind.OBJECT


def _streamed(details: Any) -> bool:
    directives = details.node.directives or ()
    return any(directive.name.value == "stream" for directive in directives)
