"""The plain-read fast path gives graphql-core's answers: the same data and the same errors.

Each query runs on one schema twice, with graphql-core's execution and with
`FastExecutionContext`, and the results must be equal; counters say the fast path ran.
"""

from __future__ import annotations

import enum
from typing import Any

import pytest
import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from restloom.graphql import executor
from restloom.graphql.executor import FastExecutionContext


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"


@strawberry.type
class Item:
    name: str
    nickname: str | None
    count: int
    ratio: float
    flag: bool
    colour: Colour
    tags: list[str]


def item(**changes: Any) -> Item:
    fields = {
        "name": "a",
        "nickname": None,
        "count": 1,
        "ratio": 0.5,
        "flag": True,
        "colour": Colour.RED,
        "tags": ["x"],
    }
    return Item(**{**fields, **changes})


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item | None]:
        return [
            item(),
            item(name=None),  # type: ignore[arg-type]  # a null in a non-null field
            item(count=2**40),  # beyond GraphQL's Int
            item(name=7, ratio=1),  # type: ignore[arg-type]  # coerced by the scalar
            item(nickname="n"),
        ]


class Shout(SchemaExtension):
    """A resolver middleware: it must see (and change) every field, plain ones included."""

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        value = _next(root, info, *args, **kwargs)
        return value.upper() if isinstance(value, str) else value


QUERIES = [
    "{ items { name nickname count ratio flag colour tags __typename } }",
    "{ items { n: name m: name nickname @include(if: false) count @skip(if: true) } }",
    "query($yes: Boolean!) { items { name @include(if: $yes) flag } }",
    "{ items { ...F } } fragment F on Item { name count }",
]


def run(query: str, fast: bool, extensions: list[Any]) -> dict[str, Any]:
    schema = strawberry.Schema(
        query=Query,
        extensions=extensions,
        execution_context_class=FastExecutionContext
        if fast
        else StrawberryGraphQLCoreExecutionContext,
    )
    result = schema.execute_sync(query, variable_values={"yes": True})
    return {
        "data": result.data,
        "errors": [(e.message, e.path, e.locations) for e in result.errors or []],
    }


@pytest.mark.parametrize("query", QUERIES)
def test_same_answers_as_graphql_core(query: str, monkeypatch: pytest.MonkeyPatch) -> None:
    served = []
    original = executor._read
    monkeypatch.setattr(
        executor, "_read", lambda plan, source: served.append(1) or original(plan, source)
    )
    assert run(query, True, []) == run(query, False, [])
    assert served, "the fast path read the plain fields"


def test_errors_keep_their_messages_and_paths() -> None:
    answer = run(QUERIES[0], True, [])
    assert answer["data"]["items"][1] is None and answer["data"]["items"][2] is None
    assert [e[1] for e in answer["errors"]] == [["items", 1, "name"], ["items", 2, "count"]]


def test_resolver_middleware_sees_every_field(monkeypatch: pytest.MonkeyPatch) -> None:
    served = []
    monkeypatch.setattr(executor, "_read", lambda plan, source: served.append(1))
    answer = run("{ items { name } }", True, [Shout])
    assert answer == run("{ items { name } }", False, [Shout])
    assert answer["data"]["items"][0]["name"] == "A"
    assert served == []
