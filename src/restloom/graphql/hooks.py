"""strawberry's extension hooks, looked up once per extension class, not per request.

For each request strawberry asks every extension, in each of four stages (operation,
parsing, validation, execution), whether it has that stage's hook, and wraps the hook
it finds in a new context manager: 28 lookups with `inspect` checks and 9 decorations
(`functools.update_wrapper` each) per request, ~15% of the CPU of a small executed
query (README, "Performance"). Which hooks a class has never changes, so the runner
here keeps, per stage and list of extension classes, which extensions have the hook
and the context-manager factory strawberry would build for it, and hands strawberry's
own stage context managers the same hooks, in the same order. Those stages then enter
and leave the hooks without an exit stack of their own.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
from collections.abc import Callable
from types import TracebackType
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
)
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext
from strawberry.utils.await_maybe import await_maybe

# A stage's hook of an extension class: a factory of its context manager (called with
# the extension) and whether it is async; None: the class has no such hook.
_Factory = tuple[Callable[[SchemaExtension], Any], bool] | None
# Hooks that are plain callables: strawberry wraps them per extension (rare; not ours).
_NOT_CACHED: Any = object()


@functools.cache
def _factory(extension_type: type[SchemaExtension], hook_name: str) -> _Factory:
    hook = getattr(extension_type, hook_name)
    if hook is getattr(SchemaExtension, hook_name):
        return None
    if inspect.isgeneratorfunction(hook):
        return contextlib.contextmanager(hook), False
    if inspect.isasyncgenfunction(hook):
        return contextlib.asynccontextmanager(hook), True
    return _NOT_CACHED


# One hook of a stage, as entered: its extension, the factory of its context manager
# (called with the extension) and whether that manager is async.
_Hook = tuple[SchemaExtension, Callable[[SchemaExtension], Any], bool]


@functools.cache
def _stage_plan(
    hook_name: str, types: tuple[type[SchemaExtension], ...]
) -> tuple[tuple[int, Callable[[SchemaExtension], Any], bool], ...] | None:
    """Which of a schema's extensions (by position) have a stage's hook, with its
    factory; None when one of them has a plain callable, which strawberry wraps itself."""
    plan = []
    for index, extension_type in enumerate(types):
        found = _factory(extension_type, hook_name)
        if found is _NOT_CACHED:
            return None
        if found is not None:
            plan.append((index, *found))
    return tuple(plan)


@functools.cache
def _with_results(types: tuple[type[SchemaExtension], ...]) -> tuple[int, ...]:
    """The positions of the extensions whose `get_results` is their own (the base's is {})."""
    base = SchemaExtension.get_results
    return tuple(index for index, type_ in enumerate(types) if type_.get_results is not base)


def _call_wrapped(hook: Callable[[], Any]) -> Callable[[SchemaExtension], Any]:
    return lambda _extension: hook()


class _CachedHooks:
    """strawberry's stage context managers, with their hooks from a plan per stage and
    extension classes, and their `async with` without an `AsyncExitStack` per stage
    and request.

    strawberry builds each stage's hooks per request (a lookup per extension, a wrapper
    and a partial per hook): 18.7 µs for the four stages of this schema, against 3.8 µs
    from the plan. It enters them through a new `AsyncExitStack` (a callback object per
    hook): ~24 µs of the ~137 µs that `{ __typename }` cost. The hooks here are entered
    and left in the same order and with the exit stack's rules for exceptions
    (tests/graphql/test_hooks.py runs both side by side).
    """

    HOOK_NAME: str
    hooks: list[_Hook]  # type: ignore[assignment]

    def __init__(
        self,
        extensions: list[SchemaExtension],
        types: tuple[type[SchemaExtension], ...] | None = None,
    ) -> None:
        plan = _stage_plan(self.HOOK_NAME, types or tuple(map(type, extensions)))
        if plan is not None:
            self.hooks = [(extensions[index], make, is_async) for index, make, is_async in plan]
            return
        super().__init__(extensions)  # type: ignore[call-arg]
        self.hooks = [
            (wrapped.extension, _call_wrapped(wrapped.hook), wrapped.is_async)
            for wrapped in self.hooks  # type: ignore[attr-defined]
        ]

    async def __aenter__(self) -> None:
        # As strawberry's: a hook that fails to enter leaves the ones before it entered
        # (they are closed when collected), and the stage's body does not run.
        self._entered: list[tuple[bool, Any]] = []
        for extension, make, is_async in self.hooks:
            manager = make(extension)
            if is_async:
                await manager.__aenter__()
            else:
                manager.__enter__()
            self._entered.append((is_async, manager))

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """`AsyncExitStack.__aexit__` over the entered hooks: last entered exits first,
        each seeing what the ones after it left (nothing once one suppressed it); an
        exception a hook raises replaces the one before, and the last one goes on.
        Like strawberry's, the stage itself suppresses nothing."""
        frame = sys.exc_info()[1]
        raised: BaseException | None = None
        details: tuple[Any, Any, Any] = (exc_type, exc, traceback)
        for is_async, manager in reversed(self._entered):
            try:
                if is_async:
                    suppress = await manager.__aexit__(*details)
                else:
                    suppress = manager.__exit__(*details)
            except BaseException as error:
                _keep_context(error, details[1], frame)
                raised = error
                details = (type(error), error, error.__traceback__)
                continue
            if suppress:
                raised = None
                details = (None, None, None)
        if raised is not None:
            context = raised.__context__
            try:
                raise raised
            except BaseException:
                raised.__context__ = context  # as the exit stack: not this frame's
                raise


def _keep_context(
    new: BaseException, old: BaseException | None, frame: BaseException | None
) -> None:
    """The exit stack's `_fix_exception_context`: the end of `new`'s chain of contexts
    (up to the exception being handled where the stage was left) points at `old`."""
    while True:
        context = new.__context__
        if context is None or context is old:
            return
        if context is frame:
            break
        new = context
    new.__context__ = old


class _Operation(_CachedHooks, OperationContextManager):
    __slots__ = ()


class _Parsing(_CachedHooks, ParsingContextManager):
    __slots__ = ()


class _Validation(_CachedHooks, ValidationContextManager):
    __slots__ = ()


class _Executing(_CachedHooks, ExecutingContextManager):
    __slots__ = ()


class CachedHooksRunner(SchemaExtensionsRunner):
    """strawberry's runner, with the stages' hooks from `_stage_plan`."""

    def __init__(self, execution_context: Any, extensions: list[SchemaExtension]) -> None:
        super().__init__(execution_context=execution_context, extensions=extensions)
        self._types = tuple(map(type, self.extensions))

    def operation(self) -> OperationContextManager:
        return _Operation(self.extensions, self._types)  # type: ignore[call-arg]

    def parsing(self) -> ParsingContextManager:
        return _Parsing(self.extensions, self._types)  # type: ignore[call-arg]

    def validation(self) -> ValidationContextManager:
        return _Validation(self.extensions, self._types)  # type: ignore[call-arg]

    def executing(self) -> ExecutingContextManager:
        return _Executing(self.extensions, self._types)  # type: ignore[call-arg]

    async def get_extensions_results(self, ctx: ExecutionContext) -> dict[str, Any]:
        """strawberry's, asking only the extensions that have results of their own."""
        data: dict[str, Any] = {}
        for index in _with_results(self._types):
            data.update(await await_maybe(self.extensions[index].get_results()))
        data.update(ctx.extensions_results)
        return data
