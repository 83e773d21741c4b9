"""The planned execution gives graphql-core's answers: the same data and the same errors.

Each query runs on one schema twice, with graphql-core's execution and with
`FastExecutionContext`, and the results must be equal (data, and each error's message,
path and locations, in order); a counter says the plans completed objects.
"""

from __future__ import annotations

import asyncio
import enum
from datetime import UTC, datetime
from typing import Annotated, Any, NewType

import pytest
import strawberry
from strawberry.extensions import ParserCache, SchemaExtension
from strawberry.scalars import JSON
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from restloom.graphql.execution import FastExecutionContext
from restloom.graphql.execution.plans import output_coercion


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


def _short(value: str) -> str:
    if len(value) > 3:
        raise ValueError(f"too long: {value}")
    return value


Short = NewType("Short", str)
CONFIG = StrawberryConfig(
    scalar_map={Short: strawberry.scalar(name="Short", serialize=_short, parse_value=str)}
)


@strawberry.interface
class Named:
    id: strawberry.ID


@strawberry.type
class Thing(Named):
    label: str
    size: int | None = None


@strawberry.type
class Other(Named):
    other: str


@strawberry.type
class Child:
    label: str
    n: int | None = None
    thing: Thing | None = None

    @strawberry.field
    async def later(self) -> str:
        await asyncio.sleep(0)
        return self.label.upper()

    @strawberry.field
    def boom(self) -> str | None:
        raise RuntimeError(f"boom in {self.label}")

    @strawberry.field
    async def must(self) -> str:
        await asyncio.sleep(0)
        raise RuntimeError("async non-null failure")


@strawberry.type
class Item:
    name: str
    nickname: str | None = None
    count: int = 1
    ratio: float = 0.5
    flag: bool = True
    colour: Colour = Colour.RED
    colours: list[Colour] = strawberry.field(default_factory=lambda: [Colour.BLUE])
    tags: list[str] = strawberry.field(default_factory=lambda: ["x"])
    maybe_tags: list[str | None] | None = None
    grid: list[list[int]] = strawberry.field(default_factory=lambda: [[1, 2], [3]])
    when: datetime | None = None
    meta: JSON | None = None
    short: Short | None = None
    child: Child | None = None
    sure_child: Child = strawberry.field(default_factory=lambda: Child(label="s"))
    children: list[Child] = strawberry.field(default_factory=list)
    loose_children: list[Child | None] | None = None
    things: list[Thing] = strawberry.field(default_factory=list)
    named: Named | None = None
    either: Annotated[Thing | Other, strawberry.union("ThingOrOther")] | None = None


class Later:
    """An awaitable that is not a coroutine (so it can be awaited again, by each run)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Any:
        yield from asyncio.sleep(0).__await__()
        return self.value


def item(**changes: Any) -> Item:
    return Item(**{"name": "a", **changes})


ITEMS = [
    item(
        nickname="n",
        when=datetime(2025, 1, 2, tzinfo=UTC),
        meta={"k": [1, 2]},
        short="abc",
        maybe_tags=["a", None],
        child=Child(label="c", n=2, thing=Thing(id="t1", label="T")),
        children=[Child(label="x"), Child(label="y", n=3)],
        loose_children=[None, Child(label="z")],
        things=[Thing(id="t2", label="U", size=3)],
        named=Thing(id="t3", label="V"),
        either=Other(id="o1", other="O"),
    ),
    item(name=None),  # a null in a non-null field
    item(count=2**40),  # beyond GraphQL's Int
    item(name=7, ratio=1),  # coerced by the scalar
    item(short="toolong"),  # a custom scalar refusing its value
    item(colour="not a colour"),  # an enum refusing its value
    item(children=[Child(label="ok"), Child(label=None)]),  # null inside a non-null list item
    item(loose_children=[Child(label=None), Child(label="fine")]),  # nullable items
    item(things=[Child(label="not a thing")]),  # is_type_of refuses it
    item(child=Child(label="c", thing=Other(id="o", other="x"))),  # wrong object type
    item(tags=None),  # null list in a non-null field
    item(tags=["ok", None]),  # null item in [String!]!
    item(maybe_tags="abc"),  # a str is iterable: graphql-core's call
    item(sure_child=None),  # null object in a non-null field
    item(when="not a datetime"),
    item(grid=[[1], None]),
    item(children=(Child(label="t"),)),  # a tuple
    # After plain objects and datetimes of the same fields were completed (their class
    # remembered as settled), an awaitable and an exception still go graphql-core's way.
    item(child=Later(Child(label="awaited", thing=Thing(id="t4", label="W")))),
    item(child=RuntimeError("an exception as the value")),
    item(when=Later(datetime(2025, 1, 3, tzinfo=UTC))),
    item(children=[Child(label="p"), Later(Child(label="q"))]),
    item(meta=Later({"late": True})),  # JSON takes anything: only the class says awaitable
]


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item | None]:
        return ITEMS

    @strawberry.field
    def sure_items(self) -> list[Item]:
        return ITEMS[:2]

    @strawberry.field
    def first(self) -> Item:
        return ITEMS[0]


class Shout(SchemaExtension):
    """A resolver middleware: it must see (and change) every field, plain ones included."""

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        value = _next(root, info, *args, **kwargs)
        return value.upper() if isinstance(value, str) else value


ALL_PLAIN = """name nickname count ratio flag colour colours tags maybeTags grid when meta
  short __typename"""
COMPILED = """{ items { name nickname count ratio flag colour when meta short __typename
  child { label n thing { id label __typename } } sureChild { label n } } }"""
QUERIES = [
    f"{{ items {{ {ALL_PLAIN} }} }}",
    "{ items { n: name m: name nickname @include(if: false) count @skip(if: true) } }",
    "query($yes: Boolean!) { items { name @include(if: $yes) flag } }",
    "{ items { ...F } } fragment F on Item { name count }",
    "{ items { child { label n thing { id label size __typename } } sureChild { label } } }",
    "{ items { children { label n } looseChildren { label } } }",
    "{ items { things { id label } } }",
    "{ items { named { id __typename ... on Thing { label } ... on Other { other } } } }",
    "{ items { either { __typename ... on Thing { label } ... on Other { other } } } }",
    "{ items { children { label later boom } } }",
    "{ items { children { label must } } }",
    "{ sureItems { children { label must } } }",
    "{ sureItems { name children { label } } }",
    "{ first { a: children { label } b: children { n } children { later } } }",
    "{ items { child { ... on Child { label } thing { ... on Named { id } } } } }",
    "{ items { ... on Item { sureChild { ...C } } } } fragment C on Child { label later }",
    # Selections of leaves and objects only: completed by compiled functions
    # (execution/compiled.py), every irregular item above sending one back to the loop.
    COMPILED,
    "{ sureItems { name sureChild { label n } child { thing { id } } } }",
]


def run(query: str, context: type, extensions: list[Any]) -> dict[str, Any]:
    """The query's answer, run twice: the same document (ParserCache, as the gateway's
    document cache gives it) reuses its plans, compiled where they can be."""
    schema = strawberry.Schema(
        query=Query,
        extensions=[*extensions, ParserCache],
        execution_context_class=context,
        config=CONFIG,
    )

    def answer() -> dict[str, Any]:
        result = asyncio.run(schema.execute(query, variable_values={"yes": True}))
        return {
            "data": result.data,
            "errors": [(e.message, e.path, e.locations) for e in result.errors or []],
        }

    first = answer()
    second = answer()
    assert first == second, "the plan loop and the compiled completers answer alike"
    return second


class Counting(FastExecutionContext):
    planned = 0

    def _complete(self, *args: Any) -> Any:
        Counting.planned += 1
        return super()._complete(*args)


@pytest.mark.parametrize("query", QUERIES)
def test_same_answers_as_graphql_core(query: str) -> None:
    Counting.planned = 0
    assert run(query, Counting, []) == run(query, StrawberryGraphQLCoreExecutionContext, [])
    assert Counting.planned > 2, "the plans completed the objects"


def test_errors_keep_their_messages_and_paths() -> None:
    answer = run(QUERIES[0], FastExecutionContext, [])
    assert answer["data"]["items"][0]["short"] == "abc"
    assert answer["data"]["items"][1] is None and answer["data"]["items"][2] is None
    paths = [e[1] for e in answer["errors"]]
    assert ["items", 1, "name"] in paths and ["items", 2, "count"] in paths
    assert ["items", 4, "short"] in paths


def test_null_in_a_non_null_list_item_nulls_the_parent() -> None:
    answer = run("{ items { children { label } } }", FastExecutionContext, [])
    assert answer["data"]["items"][6] is None
    assert (
        "Cannot return null for non-nullable field Child.label.",
        ["items", 6, "children", 1, "label"],
    ) in [e[:2] for e in answer["errors"]]


def test_resolver_middleware_sees_every_field() -> None:
    Counting.planned = 0
    answer = run("{ items { name child { label } } }", Counting, [Shout])
    assert answer == run(
        "{ items { name child { label } } }", StrawberryGraphQLCoreExecutionContext, [Shout]
    )
    assert answer["data"]["items"][0]["name"] == "A"
    assert Counting.planned == 0


@strawberry.enum
class Level(enum.Enum):
    LOW = 1
    HIGH = 2
    TOP = 2  # an alias: the same member as HIGH


@pytest.mark.parametrize("enum_type", ["Colour", "Level"])
def test_enum_names_as_strawberry_gives_them(enum_type: str) -> None:
    @strawberry.type
    class Levels:
        level: Level = Level.LOW

    schema = strawberry.Schema(query=Query, types=[Levels], config=CONFIG)
    leaf = schema._schema.type_map[enum_type]
    fast = output_coercion(leaf)  # type: ignore[arg-type]
    assert fast is not leaf.coerce_output_value  # the dict in front is in use

    def outcome(coerce: Any, value: Any) -> Any:
        try:
            return coerce(value)
        except Exception as error:
            return (type(error), str(error))

    values = [*Colour, *Level, Level.TOP, "red", "RED", "HIGH", 2, "not a colour", None, [1]]
    for value in values:
        assert outcome(fast, value) == outcome(leaf.coerce_output_value, value), value


def test_compiled_selections_answer_and_fall_back() -> None:
    compiled: list[str] = []

    def walk(plan: Any) -> None:
        if plan.compiled is not None:
            compiled.append(plan.type_name)
        for field in plan.fields:
            if field.selection is not None:
                walk(field.selection)

    class Recording(FastExecutionContext):
        def _plan(self, parent_type: Any, grouped: Any) -> Any:
            plan = super()._plan(parent_type, grouped)
            walk(plan)
            return plan

    answer = run(COMPILED, Recording, [])
    assert {"Item", "Child", "Thing"} <= set(compiled)
    assert answer == run(COMPILED, StrawberryGraphQLCoreExecutionContext, [])
    assert answer["data"]["items"][0]["child"]["thing"] == {
        "id": "t1",
        "label": "T",
        "__typename": "Thing",
    }
    assert answer["errors"], "the irregular items were completed the generic way"
