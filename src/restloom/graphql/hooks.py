"""strawberry's extension hooks, looked up once per extension class, not per request.

For each request strawberry asks every extension, in each of four stages (operation,
parsing, validation, execution), whether it has that stage's hook, and wraps the hook
it finds in a new context manager: 28 lookups with `inspect` checks and 9 decorations
(`functools.update_wrapper` each) per request, ~15% of the CPU of a small executed
query (README, "Performance"). Which hooks a class has never changes, so the runner
here keeps, per class and stage, the context-manager factory strawberry would build,
and hands strawberry's own stage context managers the same hooks, in the same order.
Those stages then enter and leave the hooks without an exit stack of their own.
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
    WrappedHook,
)
from strawberry.extensions.runner import SchemaExtensionsRunner

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


class _CachedHooks:
    """strawberry's stage context managers, with `get_hook` from the per-class factories
    and their `async with` without an `AsyncExitStack` per stage and request.

    strawberry enters a stage's hooks through a new `AsyncExitStack` (a callback object
    per hook): ~24 µs of the ~137 µs that `{ __typename }` costs. The hooks here are
    entered and left in the same order and with the exit stack's rules for exceptions
    (tests/graphql/test_hooks.py runs both side by side).
    """

    HOOK_NAME: str
    hooks: list[WrappedHook]

    def get_hook(self, extension: SchemaExtension) -> WrappedHook | None:
        found = _factory(type(extension), self.HOOK_NAME)
        if found is None:
            return None
        if found is _NOT_CACHED:
            return super().get_hook(extension)  # type: ignore[misc, no-any-return]
        make, is_async = found
        return WrappedHook(
            extension=extension, hook=functools.partial(make, extension), is_async=is_async
        )

    async def __aenter__(self) -> None:
        # As strawberry's: a hook that fails to enter leaves the ones before it entered
        # (they are closed when collected), and the stage's body does not run.
        self._entered: list[tuple[bool, Any]] = []
        for hook in self.hooks:
            manager = hook.hook()  # type: ignore[call-arg]
            if hook.is_async:
                await manager.__aenter__()
            else:
                manager.__enter__()
            self._entered.append((hook.is_async, manager))

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
    """strawberry's runner, with the stages' hooks found through `_factory`."""

    def operation(self) -> OperationContextManager:
        return _Operation(self.extensions)

    def parsing(self) -> ParsingContextManager:
        return _Parsing(self.extensions)

    def validation(self) -> ValidationContextManager:
        return _Validation(self.extensions)

    def executing(self) -> ExecutingContextManager:
        return _Executing(self.extensions)
