"""`selects` walks the document's nodes: the same answers as strawberry's selected_fields.

Differential: a resolver asks both for several paths, over queries with fragments,
inline fragments, aliases, @skip/@include (written, so selected, either way) and
merged fields.
"""

from __future__ import annotations

from typing import Any

import pytest
import strawberry
from strawberry.types import Info
from strawberry.types.nodes import SelectedField

from restloom.graphql.connections import selects

PATHS = [("edges", "node"), ("nodes",), ("edges",), ("edges", "role"), ("node",), ("id",)]


def by_selected_fields(info: Any, *path: str) -> bool:
    """The previous implementation, over strawberry's converted selection tree."""

    def fields(selections: list[Any]) -> list[SelectedField]:
        found: list[SelectedField] = []
        for selection in selections:
            if isinstance(selection, SelectedField):
                found.append(selection)
            else:
                found += fields(selection.selections)
        return found

    current = list(info.selected_fields)
    for name in path:
        current = [f for parent in current for f in fields(parent.selections) if f.name == name]
        if not current:
            return False
    return True


answers: list[tuple[bool, bool]] = []


@strawberry.type
class Node:
    id: str = "n"


@strawberry.type
class Edge:
    role: str = "r"
    node: Node = strawberry.field(default_factory=Node)


@strawberry.type
class Members:
    edges: list[Edge] = strawberry.field(default_factory=lambda: [Edge()])
    nodes: list[Node] = strawberry.field(default_factory=lambda: [Node()])


@strawberry.type
class Query:
    @strawberry.field
    def members(self, info: Info, first: int | None = None) -> Members:
        answers.extend((selects(info, *p), by_selected_fields(info, *p)) for p in PATHS)
        return Members()


SCHEMA = strawberry.Schema(Query)

QUERIES = [
    "{ members { edges { node { id } } } }",
    "{ members { nodes { id } } }",
    "{ members { edges { role } } }",
    "{ members { e: edges { n: node { id } } } }",
    "{ members { ...M } } fragment M on Members { edges { ...E } } fragment E on Edge { node { id } }",
    "{ members { ... on Members { edges { ... { node { id } } } } } }",
    "{ members { edges @skip(if: true) { node { id } } nodes { id } } }",
    "query($x: Boolean!) { members { edges @include(if: $x) { role } } }",
    "{ a: members(first: 1) { edges { role } } members { edges { node { id } } } }",
    "{ members { edges { role } } members { edges { node { id } } } }",
    "{ members { __typename } }",
]


@pytest.mark.parametrize("query", QUERIES)
def test_same_answers_as_selected_fields(query: str) -> None:
    answers.clear()
    result = SCHEMA.execute_sync(query, variable_values={"x": False})
    assert result.errors is None
    assert answers
    assert all(mine == theirs for mine, theirs in answers), answers
