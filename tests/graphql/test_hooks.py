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
    if isinstance(runner, CachedHooksRunner):  # (extension, factory, is_async) each
        return [(type(extension), is_async) for extension, _, is_async in manager.hooks]
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


class Inner(SchemaExtension):
    """Entered last, left first: raises or swallows on the way out when told to."""

    def __init__(self, seen: list[str], on_exit: str) -> None:
        self.seen = seen
        self.on_exit = on_exit

    async def on_execute(self) -> AsyncIterator[None]:
        self.seen.append("inner enter")
        try:
            yield
        except KeyError as error:
            self.seen.append(f"inner saw {error!r}")
            if self.on_exit == "swallow":
                return
            raise
        if self.on_exit == "raise":
            raise ValueError("inner failed")
        self.seen.append("inner exit")


class Outer(SchemaExtension):
    def __init__(self, seen: list[str]) -> None:
        self.seen = seen

    def on_execute(self) -> Iterator[None]:
        self.seen.append("outer enter")
        try:
            yield
        except Exception as error:
            self.seen.append(f"outer saw {error!r}")
            raise
        self.seen.append("outer exit")


async def run_stage(
    runner_type: type[SchemaExtensionsRunner], on_exit: str, body_raises: bool
) -> tuple[list[str], str]:
    seen: list[str] = []
    extensions = [Outer(seen), Inner(seen, on_exit)]
    runner = runner_type(execution_context=None, extensions=extensions)  # type: ignore[arg-type]
    try:
        async with runner.executing():
            seen.append("body")
            if body_raises:
                raise KeyError("body failed")
    except Exception as error:
        context = error.__context__
        return seen, f"{error!r} from {context!r}"
    return seen, "no error"


CASES = [
    (on_exit, body_raises)
    for on_exit in ("exit", "raise", "swallow")
    for body_raises in (False, True)
]


@pytest.mark.parametrize(("on_exit", "body_raises"), CASES)
async def test_hooks_leave_a_stage_as_strawberrys_exit_stack_does(
    on_exit: str, body_raises: bool
) -> None:
    """Order, what each hook sees on the way out, what the stage raises and its context."""
    ours = await run_stage(CachedHooksRunner, on_exit, body_raises)
    theirs = await run_stage(SchemaExtensionsRunner, on_exit, body_raises)
    assert ours == theirs


@pytest.mark.parametrize(
    ("on_exit", "body_raises", "expected_seen", "expected_outcome"),
    [
        # An exception raised leaving a hook reaches the outer hooks, and goes on.
        (
            "raise",
            False,
            ["outer enter", "inner enter", "body", "outer saw ValueError('inner failed')"],
            "ValueError('inner failed') from None",
        ),
        # A swallowed one is seen by no outer hook; strawberry's stage suppresses nothing
        # itself, so the body's error goes on.
        (
            "swallow",
            True,
            [
                "outer enter",
                "inner enter",
                "body",
                "inner saw KeyError('body failed')",
                "outer exit",
            ],
            "KeyError('body failed') from None",
        ),
    ],
)
async def test_what_the_outer_hooks_see_and_what_the_stage_raises(
    on_exit: str, body_raises: bool, expected_seen: list[str], expected_outcome: str
) -> None:
    assert await run_stage(CachedHooksRunner, on_exit, body_raises) == (
        expected_seen,
        expected_outcome,
    )


class Sync(SchemaExtension):
    def get_results(self) -> dict[str, object]:
        return {"sync": 1, "shared": "sync"}


class Async(SchemaExtension):
    async def get_results(self) -> dict[str, object]:
        return {"async": 2, "shared": "async"}


class Quiet(SchemaExtension):
    """No results of its own: the base class's {}."""


@pytest.mark.parametrize("order", [(Sync, Quiet, Async), (Async, Sync, Quiet), (Quiet, Quiet), ()])
async def test_extension_results_are_strawberrys(order: tuple[type[SchemaExtension], ...]) -> None:
    """The same dict, later extensions overriding earlier ones, the context's last."""

    class Context:
        extensions_results = {"from_context": 3, "shared": "context"}

    def results(runner_type: type[SchemaExtensionsRunner]) -> object:
        runner = runner_type(execution_context=None, extensions=[t() for t in order])  # type: ignore[arg-type]
        return runner.get_extensions_results(Context())  # type: ignore[arg-type]

    ours = await results(CachedHooksRunner)  # type: ignore[misc]
    assert ours == await results(SchemaExtensionsRunner)  # type: ignore[misc]
    assert list(ours) == list(await results(SchemaExtensionsRunner))  # type: ignore[misc, call-overload]
    assert ours["shared"] == "context"  # type: ignore[index]
