"""strawberry's extension hooks, looked up once per extension class, not per request.

For each request strawberry asks every extension, in each of four stages (operation,
parsing, validation, execution), whether it has that stage's hook, and wraps the hook
it finds in a new context manager: 28 lookups with `inspect` checks and 9 decorations
(`functools.update_wrapper` each) per request, ~15% of the CPU of a small executed
query (README, "Performance"). Which hooks a class has never changes, so the runner
here keeps, per class and stage, the context-manager factory strawberry would build,
and hands strawberry's own stage context managers the same hooks, in the same order.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable
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
    """`get_hook` of strawberry's stage context managers, from the per-class factories."""

    HOOK_NAME: str

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
