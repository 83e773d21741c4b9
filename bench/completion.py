"""The executor alone: completing a page of objects, three ways, interleaved in one process.

Builds one strawberry schema per way over the same prebuilt page (records read through
restloom's own `Contact` record view, wrapped in edges like a connection's), and runs
the same query through each in turn, one execution at a time, so that a drifting VM
slows all three alike:

- graphql-core: strawberry's own execution context (graphql-core's per-field machinery);
- loop: restloom's `FastExecutionContext` with the compiled completers turned off (the
  plan loop of `execution/context.py` only);
- compiled: `FastExecutionContext` as the gateway runs it (`execution/compiled.py`).

Printed: the median µs per execution of each, and the ratios.

    .venv/bin/python bench/completion.py [--items 100] [--runs 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

import strawberry
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from restloom.graphql.contacts import Contact
from restloom.graphql.execution import FastExecutionContext

QUERY = "{ page { edges { node { id firstName lastName email } } } }"


class LoopOnly(FastExecutionContext):
    """The plan loop without compiled completers."""

    def _plan(self, parent_type: Any, grouped: Any) -> Any:
        plan = super()._plan(parent_type, grouped)
        _uncompile(plan)
        return plan


def _uncompile(selection: Any) -> None:
    """The selection and those below it completed by the loop, now and on later runs."""
    selection.compiled = None
    selection.compile_tried = True
    for field in selection.fields:
        if field.selection is not None:
            _uncompile(field.selection)


@strawberry.type
class ContactEdge:
    node: Contact


@strawberry.type
class Page:
    edges: list[ContactEdge]


def record(index: int) -> dict[str, Any]:
    return {
        "id": f"cnt_{index:05d}",
        "first_name": f"First{index}",
        "last_name": f"Last{index}",
        "email": f"person{index}@example.com",
        "created_at": "2025-01-02T03:04:05Z",
    }


def schemas(items: int) -> dict[str, strawberry.Schema]:
    page = Page(edges=[ContactEdge(node=Contact.from_record(record(i))) for i in range(items)])

    @strawberry.type
    class Query:
        @strawberry.field
        def page(self) -> Page:
            return page

    ways = {
        "graphql-core": StrawberryGraphQLCoreExecutionContext,
        "loop": LoopOnly,
        "compiled": FastExecutionContext,
    }
    return {
        # Parsed and validated once: what is left is execution.
        name: strawberry.Schema(
            query=Query,
            execution_context_class=context,
            extensions=[ParserCache, ValidationCache],
        )
        for name, context in ways.items()
    }


async def measure(ways: dict[str, strawberry.Schema], runs: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in ways}
    answers = set()
    for schema in ways.values():  # warm: plans, document caches
        result = await schema.execute(QUERY)
        assert result.errors is None, result.errors
        answers.add(repr(result.data))
    assert len(answers) == 1, "the three ways must give the same answer"
    for _ in range(runs):
        for name, schema in ways.items():
            started = time.perf_counter()
            await schema.execute(QUERY)
            times[name].append(time.perf_counter() - started)
    return times


def main(args: argparse.Namespace) -> None:
    times = asyncio.run(measure(schemas(args.items), args.runs))
    medians = {name: statistics.median(values) * 1e6 for name, values in times.items()}
    print(f"{QUERY}, {args.items} items, median of {args.runs} interleaved executions")
    for name, us in medians.items():
        ratio = us / medians["graphql-core"]
        print(f"  {name:<13} {us:8.1f} µs  ({ratio:.2f} of graphql-core's)")
    print(f"  compiled / loop: {medians['compiled'] / medians['loop']:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3000)
    main(parser.parse_args())
