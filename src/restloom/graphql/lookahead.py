"""Reading ahead in a field's selection: which child field a resolver's results will meet.

A list resolver that knows each of its items will ask for a child list (every
organization for its members) can start those loads as soon as its own page is in,
before the items are completed. That only pays when the child field is certain to run
with arguments known now: `lone_field` finds it only when it is the one field reached
(no alias beside it) and no directive (`@skip`, `@include`, `@defer`) stands on the way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql.execution.values import VariableValues, get_argument_values

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    InlineFragmentNode,
    SelectionSetNode,
)


class _Conditional(Exception):
    """A directive on the way: whether the field runs is not known ahead."""


def lone_field(info: Any, *paths: tuple[str, ...]) -> FieldNode | None:
    """The one field node the current field's selection reaches by any of `paths` (field
    names, through fragments); None when there is none, more than one, or a directive
    on the way to it."""
    raw = info._raw_info
    found: list[FieldNode] = []
    try:
        for path in paths:
            nodes: list[FieldNode] = list(raw.field_nodes)
            for name in path:
                nodes = [
                    field
                    for parent in nodes
                    for field in _fields(parent.selection_set, raw.fragments)
                    if field.name.value == name
                ]
                if any(field.directives for field in nodes):
                    raise _Conditional
            found.extend(nodes)
    except _Conditional:
        return None
    return found[0] if len(found) == 1 else None


def field_arguments(info: Any, parent_type: str, field_node: FieldNode) -> dict[str, Any]:
    """`field_node`'s arguments as graphql-core coerces them (variables and defaults
    applied), by their GraphQL names."""
    raw = info._raw_info
    owner = raw.schema.get_type(parent_type)
    assert isinstance(owner, GraphQLObjectType)
    definition = owner.fields[field_node.name.value]
    variables = raw.variable_values
    if not isinstance(variables, VariableValues):  # strawberry hands resolvers the dict
        variables = VariableValues(sources={}, coerced=variables)
    return get_argument_values(definition, field_node, variables)


def _fields(
    selection_set: SelectionSetNode | None, fragments: dict[str, FragmentDefinitionNode]
) -> Iterator[FieldNode]:
    """A selection set's fields, through fragments; `_Conditional` at a fragment with
    a directive (its fields may not run)."""
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
            continue
        if selection.directives:
            raise _Conditional
        if isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments[selection.name.value]
            if fragment.directives:
                raise _Conditional
            yield from _fields(fragment.selection_set, fragments)
