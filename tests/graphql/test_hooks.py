"""The cached hooks runner enters the same hooks as strawberry's own, in the same order."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner

from restloom.graphql.hooks import CachedHooksRunner
from restloom.graphql.schema import build_schema

STAGES = ("operation", "parsing", "validation", "executing")


class Recording(SchemaExtension):
    """Each kind of hook strawberry accepts: generator, async generator, callable."""

    def __init__(self, seen: list[str]) -> None:
        self.seen = seen

    def on_operation(self) -> Iterator[None]:
        self.seen.append("operation enter")
        yield
        self.seen.append("operation exit")

    async def on_execute(self) -> AsyncIterator[None]:
        self.seen.append("execute enter")
        yield
        self.seen.append("execute exit")

    def on_parse(self) -> None:  # a plain callable: run on entry
        self.seen.append("parse")


def hooks(runner: SchemaExtensionsRunner, stage: str) -> list[tuple[type, bool]]:
    manager = getattr(runner, stage)()
    return [(type(hook.extension), hook.is_async) for hook in manager.hooks]


def test_the_schemas_extensions_get_the_same_hooks() -> None:
    extensions = build_schema().get_extensions()
    ours = CachedHooksRunner(execution_context=None, extensions=extensions)  # type: ignore[arg-type]
    theirs = SchemaExtensionsRunner(execution_context=None, extensions=extensions)  # type: ignore[arg-type]
    for stage in STAGES:
        assert hooks(ours, stage) == hooks(theirs, stage), stage
    assert any(hooks(ours, stage) for stage in STAGES)


@pytest.mark.parametrize("runner_type", [CachedHooksRunner, SchemaExtensionsRunner])
async def test_every_kind_of_hook_runs_as_strawberrys_runner_runs_it(
    runner_type: type[SchemaExtensionsRunner],
) -> None:
    seen: list[str] = []
    runner = runner_type(execution_context=None, extensions=[Recording(seen)])  # type: ignore[arg-type]
    async with runner.operation():
        async with runner.parsing():
            pass
        async with runner.executing():
            seen.append("resolvers")
    assert seen == [
        "operation enter",
        "parse",
        "execute enter",
        "resolvers",
        "execute exit",
        "operation exit",
    ]
