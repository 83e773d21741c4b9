"""Each GraphQL operation, observed: one log line, its metrics, and its span.

The extension finds the app's `Observer` on the upstream client of the request's
exchange (the schema is built once per process and shared by apps; the observer
is per app). Listed first in `build_schema`, it wraps parsing, validation and
execution, and ends after `ErrorFormatter` has given every error its code.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension

from restloom.observability.observer import Observer, OperationEnd


class OperationObserver(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        exchange = getattr(context, "exchange", None)
        observer = getattr(getattr(exchange, "client", None), "observer", None)
        if not isinstance(observer, Observer) or not observer.watches_operations():
            yield  # nobody listens: no watch, no summary of the result
            return
        request = getattr(context, "request", None)
        watch = observer.begin(
            getattr(context, "request_id", None) or "-", getattr(request, "headers", None)
        )
        refused: BaseException | None = None
        try:
            yield
        except BaseException as exc:
            # Refused on the way (e.g. an unknown operation name): the view answers it.
            refused = exc
            raise
        finally:
            stats = exchange.stats
            errors = [refused] if refused is not None else self._errors()
            result = self.execution_context.result
            watch.end(
                OperationEnd(
                    name=self.execution_context.operation_name,
                    type=self._operation_type(),
                    outcome="error" if result is None else outcome(result.data, errors),
                    errors=errors,
                    upstream_calls=stats.requests,
                    cache_hits=stats.cache_hits,
                    retries=stats.retries,
                    coalesced=stats.coalesced,
                )
            )

    def _errors(self) -> list[Any]:
        result = self.execution_context.result
        if result is not None and result.errors:
            return list(result.errors)
        return list(self.execution_context.pre_execution_errors or [])

    def _operation_type(self) -> str | None:
        try:
            return self.execution_context.operation_type.value
        except RuntimeError:  # no document (a parse error) or no such operation
            return None


def outcome(data: Any, errors: list[Any]) -> str:
    """ok: no errors; partial: errors beside some data; error: errors and no data at all."""
    if not errors:
        return "ok"
    if isinstance(data, dict) and any(value is not None for value in data.values()):
        return "partial"
    return "error"
