"""The walk behind the cost prediction: a validated document, field by field, as
graphql-core will execute it (fields merged by response key, each fragment once per
selection set, `@skip`/`@include` ignored so that every field "may run"), with how
many objects each field is resolved for. What a field itself costs is a `Rule`
(`graphql.cost_rules`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql.execution.values import get_argument_values

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    NamedTypeNode,
    SelectionSetNode,
    get_named_type,
)
from restloom.upstream.client import WRITE_ATTEMPTS
from restloom.upstream.profile import Profile

# Merged fields the walk may visit: far above any document within the front door's
# limits; a document past it is refused rather than walked for long.
MAX_VISITS = 20_000


@dataclass(frozen=True)
class Cost:
    """Upstream requests, reads and writes apart: each is repeated on its own terms."""

    reads: int = 0
    writes: int = 0

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.reads + other.reads, self.writes + other.writes)

    @property
    def requests(self) -> int:
        return self.reads + self.writes

    def cap(self, read_retries: int) -> int:
        """The most calls this cost may really send: every read repeated `read_retries`
        times after failures and once more after a 429 (`retry.ReadRetries`), every
        write tried `WRITE_ATTEMPTS` times (only with an idempotency key)."""
        return max(1, self.reads * (2 + read_retries) + self.writes * WRITE_ATTEMPTS)


@dataclass(frozen=True)
class Step:
    """What one field costs itself, and how its sub-selection multiplies."""

    cost: Cost
    instances: int  # objects the field yields across all its parents
    items: int = 1  # for a connection: items per connection (edges / nodes)


class TooComplex(Exception):
    """The document would take too long to walk (see MAX_VISITS)."""


# --- the walk ---------------------------------------------------------------------


@dataclass
class Walk:
    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    variables: Any  # graphql-core's VariableValues
    profile: Profile
    rules: Rules
    visits: int = 0
    _memo: dict[tuple[str, tuple[int, ...], int, int], Cost] = field(default_factory=dict)

    def selection(
        self, type_: GraphQLNamedType, sets: Sequence[SelectionSetNode], instances: int, items: int
    ) -> Cost:
        """The cost of `sets` on `instances` objects of `type_` (any of its possible types)."""
        if instances <= 0:
            return Cost()
        key = (type_.name, tuple(id(s) for s in sets), instances, items)
        if key in self._memo:
            return self._memo[key]
        if isinstance(type_, GraphQLInterfaceType | GraphQLUnionType):
            runtime_types: Sequence[GraphQLObjectType] = self.schema.get_possible_types(type_)
        elif isinstance(type_, GraphQLObjectType):
            runtime_types = (type_,)
        else:
            runtime_types = ()
        total = Cost()
        # Each possible type with every instance: an upper bound however they mix.
        for runtime in runtime_types:
            for nodes in self.collect(runtime, sets).values():
                total += self.field(runtime, nodes, instances, items)
        self._memo[key] = total
        return total

    def field(
        self, parent: GraphQLObjectType, nodes: list[FieldNode], instances: int, items: int
    ) -> Cost:
        self.visits += 1
        if self.visits > MAX_VISITS:
            raise TooComplex
        definition = parent.fields.get(nodes[0].name.value)
        if definition is None:  # __typename, __schema, __type: answered by restloom itself
            return Cost()
        try:
            args = get_argument_values(definition, nodes[0], self.variables)
        except GraphQLError:
            return Cost()  # the field fails before its resolver runs
        rule = self.rules.rule_for(parent.name, nodes[0].name.value)
        step = rule(self, Call(definition, args, nodes, instances, items))
        sets = [n.selection_set for n in nodes if n.selection_set is not None]
        if not sets:
            return step.cost
        return step.cost + self.selection(
            get_named_type(definition.type), sets, step.instances, step.items
        )

    def collect(
        self, runtime: GraphQLObjectType, sets: Sequence[SelectionSetNode]
    ) -> dict[str, list[FieldNode]]:
        """Fields by response key, as graphql-core collects them, directives ignored."""
        fields: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()
        pending = list(reversed(sets))
        while pending:
            for selection in pending.pop().selections:
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    fields.setdefault(key, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    if self._applies(selection.type_condition, runtime):
                        pending.append(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self.fragments.get(name)
                    if name in visited or fragment is None:
                        continue
                    visited.add(name)
                    if self._applies(fragment.type_condition, runtime):
                        pending.append(fragment.selection_set)
        return fields

    def _applies(self, condition: NamedTypeNode | None, runtime: GraphQLObjectType) -> bool:
        if condition is None:
            return True
        wanted = self.schema.get_type(condition.name.value)
        if wanted is runtime:
            return True
        if isinstance(wanted, GraphQLInterfaceType | GraphQLUnionType):
            return self.schema.is_sub_type(wanted, runtime)
        return False


@dataclass(frozen=True)
class Call:
    """One field as the walk meets it: its definition, arguments and multiplicity."""

    definition: GraphQLField
    args: dict[str, Any]
    nodes: list[FieldNode]
    instances: int  # parent objects
    items: int  # the parent connection's items per connection


Rule = Callable[[Walk, Call], Step]


@dataclass(frozen=True)
class Rules:
    """What each field's resolver sends upstream, by (type name, field name)."""

    by_field: dict[tuple[str, str], Rule]
    by_type: dict[str, Rule]  # for every other field of a type (the mutations)
    default: Rule  # for every other field

    def rule_for(self, type_name: str, field_name: str) -> Rule:
        return (
            self.by_field.get((type_name, field_name))
            or self.by_type.get(type_name)
            or self.default
        )
