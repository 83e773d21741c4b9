"""Selection plans kept across requests, beside the operation they were made for.

A plan (`plans.py`) is a function of: the schema's object type, the field nodes of the
selection set (and, below them, the fragments of their document), and the variable
values that `@skip`/`@include`/`@defer` read while collecting sub-fields. The document
cache (`graphql.limits`) hands out the same `DocumentNode` for the same query, so the
same nodes come back request after request and their plans can be reused:

- Plans are kept per *operation node*, weakly: a store goes when its operation is
  collected, so nothing here outlives the document cache's entry, and a node id in a
  key cannot be reused by another node while the store lives (the operation's document
  holds every node of it alive; the plans hold no reference back to the operation).
- Within a store, a key is the object type (held by the key, so its identity cannot be
  reused either: another schema's type is another key), the ids of the field nodes
  of every response field, and the values of the variables that directives read,
  each with its type (`True == 1` must not share a key).
- Not shared: selections with deferral or fragment variables (their collection depends
  on more than the nodes), and operations whose directive variables hold values that
  are not plain scalars. Those are planned per execution, as before.
- Bounded: at most `PER_OPERATION` plans per operation (variable values multiply them);
  when full, the oldest goes.
"""

from __future__ import annotations

import weakref
from collections.abc import Hashable, Mapping
from typing import Any

from graphql.execution.collect_fields import FragmentDetails, GroupedFieldSet

from graphql import (
    DirectiveNode,
    GraphQLObjectType,
    Node,
    OperationDefinitionNode,
    VariableNode,
)
from restloom.graphql.execution.plans import SelectionPlan

PER_OPERATION = 64
_SCALARS = frozenset({str, int, float, bool, type(None)})
_MISSING: Any = object()


class _Store:
    __slots__ = ("directive_variables", "plans")

    def __init__(self, directive_variables: frozenset[str] | None) -> None:
        # None: the operation uses fragment variables; nothing of it is shared.
        self.directive_variables = directive_variables
        self.plans: dict[Hashable, SelectionPlan] = {}


class PlanCache:
    def __init__(self) -> None:
        self._stores: dict[int, tuple[weakref.ref[OperationDefinitionNode], _Store]] = {}

    def key(
        self,
        operation: OperationDefinitionNode,
        fragments: Mapping[str, FragmentDetails],
        variable_values: Any,
        parent_type: GraphQLObjectType,
        grouped: GroupedFieldSet,
    ) -> tuple[_Store, Hashable] | None:
        """Where the plan of `grouped` on `parent_type` is kept, or None: not shared."""
        store = self._store(operation, fragments)
        names = store.directive_variables
        if names is None:
            return None
        fields = []
        for response_name, details_list in grouped.items():
            ids = []
            for details in details_list:
                if details.defer_usage is not None or details.fragment_variable_values:
                    return None
                ids.append(id(details.node))
            fields.append((response_name, tuple(ids)))
        values: tuple[Any, ...] = ()
        if names:
            coerced = getattr(variable_values, "coerced", variable_values)
            found = []
            for name in sorted(names):
                if not isinstance(coerced, Mapping):
                    return None
                value = coerced.get(name, _MISSING)  # absent is not null
                if value is not _MISSING and type(value) not in _SCALARS:
                    return None
                found.append((name, type(value), value))
            values = tuple(found)
        return store, (parent_type, values, tuple(fields))

    def get(self, where: tuple[_Store, Hashable]) -> SelectionPlan | None:
        return where[0].plans.get(where[1])

    def put(self, where: tuple[_Store, Hashable], plan: SelectionPlan) -> None:
        plans = where[0].plans
        if len(plans) >= PER_OPERATION:
            del plans[next(iter(plans))]
        plans[where[1]] = plan

    def _store(
        self, operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDetails]
    ) -> _Store:
        number = id(operation)
        entry = self._stores.get(number)
        if entry is not None and entry[0]() is operation:
            return entry[1]
        store = _Store(_directive_variables(operation, fragments))
        ref = weakref.ref(operation, lambda dead: self._forget(number, dead))
        self._stores[number] = (ref, store)
        return store

    def _forget(self, number: int, dead: weakref.ref[OperationDefinitionNode]) -> None:
        entry = self._stores.get(number)
        if entry is not None and entry[0] is dead:
            del self._stores[number]

    def __len__(self) -> int:
        return len(self._stores)


def _directive_variables(
    operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDetails]
) -> frozenset[str] | None:
    """The variables read by directives of the operation or its document's fragments.

    None when a fragment declares variables of its own (then collecting a selection
    depends on its spreads' arguments too).
    """
    names: set[str] = set()
    for details in fragments.values():
        if details.variable_signatures or details.definition.variable_definitions:
            return None
        _walk(details.definition, names, in_directive=False)
    _walk(operation, names, in_directive=False)
    return frozenset(names)


def _walk(node: Any, names: set[str], in_directive: bool) -> None:
    if isinstance(node, VariableNode):
        if in_directive:
            names.add(node.name.value)
        return
    inside = in_directive or isinstance(node, DirectiveNode)
    for key in node.keys:
        if key == "loc":
            continue
        value = getattr(node, key, None)
        if isinstance(value, Node):
            _walk(value, names, inside)
        elif isinstance(value, tuple | list):
            for item in value:
                if isinstance(item, Node):
                    _walk(item, names, inside)
