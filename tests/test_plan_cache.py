"""Plans shared between executions: reused only where the answer cannot differ.

The same parsed document is executed again and again (as the document cache hands
it out), with other variable values and on other schemas; every answer must be
graphql-core's, and the shared plans must go with their document.
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import strawberry
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from graphql import DocumentNode, execute, parse
from restloom.graphql.execution import FastExecutionContext
from restloom.graphql.execution import context as fast


@strawberry.type
class Leaf:
    label: str | None


@strawberry.type
class Item:
    name: str
    leaf: Leaf | None


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return [Item(name="a", leaf=Leaf(label="x")), Item(name="b", leaf=None)]


@strawberry.type
class OtherItem:  # the same field names, other types: a plan of Query's must not serve
    name: int
    leaf: list[int] | None


@strawberry.type
class OtherQuery:
    @strawberry.field
    def items(self) -> list[OtherItem]:
        return [OtherItem(name=1, leaf=[1, 2])]


SCHEMA = strawberry.Schema(query=Query)
OTHER = strawberry.Schema(query=OtherQuery)
QUERY = """query($a: Boolean!, $b: Boolean = true) {
  items { name @include(if: $a) leaf @skip(if: $b) { label } ...F }
  again: items { leaf { label @include(if: $a) ...L } }
}
fragment F on Item { n: name @skip(if: $a) }
fragment L on Leaf { l: label @skip(if: $a) }"""


def answer(
    schema: strawberry.Schema, document: DocumentNode, variables: dict[str, Any], context: type
) -> Any:
    async def run() -> Any:
        result = execute(
            schema._schema,
            document,
            variable_values=variables,
            executor_class=context,
        )
        if asyncio.iscoroutine(result) or hasattr(result, "__await__"):
            result = await result
        return result.data, [(e.message, e.path) for e in result.errors or []]

    return asyncio.run(run())


def same(schema: strawberry.Schema, document: DocumentNode, variables: dict[str, Any]) -> Any:
    planned = answer(schema, document, variables, FastExecutionContext)
    assert planned == answer(schema, document, variables, StrawberryGraphQLCoreExecutionContext)
    return planned


def test_other_variable_values_get_their_own_plans() -> None:
    document = parse(QUERY)
    seen = []
    for variables in (
        {"a": True},
        {"a": False},
        {"a": True, "b": False},
        {"a": 1 == 1},
        {"a": False, "b": None},
    ):
        seen.append(same(SCHEMA, document, variables))
    assert seen[0] == seen[3] != seen[1]
    assert seen[2][0]["items"][0] == {"name": "a", "leaf": {"label": "x"}}
    assert seen[1][0]["items"][0] == {"n": "a"}


def test_same_document_on_another_schema() -> None:
    document = parse("{ items { name } }")
    assert same(SCHEMA, document, {})[0] == {"items": [{"name": "a"}, {"name": "b"}]}
    assert same(OTHER, document, {})[0] == {"items": [{"name": 1}]}
    assert same(SCHEMA, document, {})[0] == {"items": [{"name": "a"}, {"name": "b"}]}


def test_a_repeated_document_reuses_its_plans() -> None:
    document = parse("{ items { name leaf { label } } }")
    same(SCHEMA, document, {})
    (store,) = [s for ref, s in fast.PLANS._stores.values() if ref() is document.definitions[0]]
    kept = dict(store.plans)
    assert kept
    same(SCHEMA, document, {})
    assert store.plans == kept  # nothing planned anew


def test_plans_go_with_their_document() -> None:
    gc.collect()
    before = len(fast.PLANS)
    document = parse("{ items { name } }")
    same(SCHEMA, document, {})
    assert len(fast.PLANS) == before + 1
    del document
    gc.collect()
    assert len(fast.PLANS) == before
