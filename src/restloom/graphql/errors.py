"""Errors as clients see them: a message and `extensions` with a stable `code`.

Resolvers raise `GatewayError` for problems they detect themselves and let
`UpstreamError` through; `ErrorFormatter` rewrites every error of a result
once, at the end of the operation, so the mapping lives in one place.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterator
from typing import Any

from graphql.validation.validate import ValidationAbortedError
from strawberry.extensions import SchemaExtension

from graphql import GraphQLError
from restloom.upstream.errors import FailureKind, Unsupported, UpstreamError

log = logging.getLogger("restloom.errors")


class GatewayError(Exception):
    """An error the gateway itself reports; `extensions` reach the client as they are."""

    def __init__(self, message: str, code: str, **extensions: Any) -> None:
        super().__init__(message)
        self.extensions = {"code": code, **{k: v for k, v in extensions.items() if v is not None}}


def bad_user_input(message: str, argument: str | None = None) -> GatewayError:
    return GatewayError(message, "BAD_USER_INPUT", argument=argument)


# Failures restloom detects in what the upstream sent (or would have to send).
_KIND_CODES = {
    FailureKind.REDIRECT: "UPSTREAM_REDIRECT",
    FailureKind.TOO_LARGE: "UPSTREAM_RESPONSE_TOO_LARGE",
    FailureKind.INVALID_RESPONSE: "UPSTREAM_INVALID_RESPONSE",
    FailureKind.TOO_MANY_REQUESTS: "QUERY_TOO_COSTLY",
}

_STATUS_CODES = {
    400: "VALIDATION_ERROR",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "CONFLICT",
    410: "NOT_FOUND",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
    502: "UPSTREAM_UNAVAILABLE",
    503: "UPSTREAM_UNAVAILABLE",
    504: "UPSTREAM_TIMEOUT",
}


# Upstream codes whose meaning the status alone does not carry.
_UPSTREAM_CODES = {
    # IETF idempotency-key draft: 422 when a key is reused with another request.
    "IDEMPOTENCY_KEY_REUSED": "CONFLICT",
}


def camel_case(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def upstream_error_payload(error: UpstreamError) -> tuple[str, dict[str, Any]]:
    """The message and extensions a client sees for an upstream failure."""
    if error.kind is FailureKind.TIMEOUT:
        code, message = "UPSTREAM_TIMEOUT", "The upstream service did not answer in time"
    elif error.kind is FailureKind.NO_CREDENTIAL:
        code, message = "UNAUTHENTICATED", error.message
    elif error.kind in (FailureKind.UNAVAILABLE, FailureKind.CIRCUIT_OPEN):
        code, message = "UPSTREAM_UNAVAILABLE", "The upstream service is unavailable"
    elif error.kind is FailureKind.RATE_LIMITED:
        code, message = "RATE_LIMITED", error.message
    elif error.kind in _KIND_CODES:
        code, message = _KIND_CODES[error.kind], error.message
    else:
        status = error.status or 500
        # Neither is a crash of restloom's, so never INTERNAL_ERROR: a 4xx restloom has no
        # meaning for (405, 406, 413, 415, ...) says the upstream refused what restloom
        # sent; a 5xx other than 502-504 says the upstream itself failed.
        fallback = "UPSTREAM_REJECTED" if 400 <= status < 500 else "UPSTREAM_ERROR"
        code = _UPSTREAM_CODES.get(error.code or "") or _STATUS_CODES.get(status, fallback)
        # An upstream 5xx body may carry internals (stack traces, hostnames): never pass it on.
        message = "The upstream service failed" if status >= 500 else error.message
    extensions: dict[str, Any] = {
        "code": code,
        "status": error.status,
        "requestId": error.request_id,
    }
    if error.code and (error.status or 0) < 500:
        extensions["upstreamCode"] = error.code
    if error.field:
        extensions["field"] = _graphql_field_name(error.field)
    if error.retry_after is not None and math.isfinite(error.retry_after):
        # Whole seconds, rounded up, like the Retry-After header.
        extensions["retryAfter"] = max(1, math.ceil(error.retry_after))
    return message, {k: v for k, v in extensions.items() if v is not None}


_PARAM_BRACKETS = re.compile(r"^\w+\[(\w+)\]$")


def _graphql_field_name(upstream_field: str) -> str:
    # "filter[status]" names the GraphQL argument "status"; "first_name" is "firstName".
    match = _PARAM_BRACKETS.match(upstream_field)
    return camel_case(match.group(1) if match else upstream_field)


class ErrorFormatter(SchemaExtension):
    """Give every error a code and the request id; mask anything unexpected."""

    def __init__(self) -> None:
        super().__init__()
        # Validation errors by identity: their wording ("Variable '$x' is never used")
        # can look like a coercion error's, their stage cannot.
        self.validation_errors: set[int] = set()

    def on_validate(self) -> Iterator[None]:
        yield
        errors = self.execution_context.pre_execution_errors or ()
        self.validation_errors = {id(e) for e in errors}

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        request_id = getattr(self.execution_context.context, "request_id", None)
        result.errors = [
            format_error(e, request_id, validation=id(e) in self.validation_errors)
            for e in result.errors
        ]


# graphql-core's wording for every variable coercion failure ("Variable '$n' got invalid
# value ...", "... of required type 'Int!' was not provided.", "... must not be null.").
_VARIABLE_ERROR = re.compile(r"^Variable '\$(\w+)' ")


def coerced_variable(error: GraphQLError) -> str | None:
    """The variable a coercion error is about; None for any other error."""
    if error.path is not None:
        return None
    match = _VARIABLE_ERROR.match(error.message)
    return match.group(1) if match else None


# graphql-core 3.3 stops validating, with this bare message, when its budget for comparing
# same-named fields (OverlappingFieldsCanBeMergedRule, 500,000 units: about 700 identical
# sibling fields) or for walking shared fragments runs out. Too many ordinary errors
# abort with a longer message, which stays as it is.
_BUDGET_ABORT = "Validation aborted."
TOO_COMPLEX_MESSAGE = (
    "The query is too complex to validate: it repeats fields with the same name in one "
    "selection set too often (or spreads shared fragments too often); select each field once"
)


def is_validation_budget_abort(error: GraphQLError) -> bool:
    return isinstance(error, ValidationAbortedError) and error.message == _BUDGET_ABORT


def is_syntax_error(error: GraphQLError) -> bool:
    return error.message.startswith("Syntax Error")


def with_code(error: GraphQLError, request_id: str | None) -> GraphQLError:
    """`error` if it already has a code; else formatted now.

    The last net, at the HTTP answer: an exception inside an extension hook ends the
    operation before `ErrorFormatter` runs, and would otherwise reach the client as
    the bare exception text, without a code and without being logged.
    """
    if (error.extensions or {}).get("code"):
        return error
    return format_error(error, request_id)


def format_error(
    error: GraphQLError, request_id: str | None, *, validation: bool = False
) -> GraphQLError:
    original = error.original_error
    if isinstance(original, UpstreamError):
        message, extensions = upstream_error_payload(original)
    elif isinstance(original, Unsupported):
        argument = _graphql_field_name(original.argument) if original.argument else None
        message, extensions = str(original), {"code": "BAD_USER_INPUT"}
        if argument:
            extensions["argument"] = argument
    elif isinstance(original, GatewayError):
        message, extensions = error.message, dict(original.extensions)
    elif not validation and (variable := coerced_variable(error)) is not None:
        # graphql-core attaches an original error to coercion failures: not a bug of ours.
        message, extensions = error.message, {"code": "BAD_USER_INPUT", "variable": variable}
    elif is_validation_budget_abort(error):
        message, extensions = TOO_COMPLEX_MESSAGE, {"code": "QUERY_TOO_COMPLEX"}
    elif original is None:
        # Syntax and validation errors: the client's query is at fault.
        code = "GRAPHQL_PARSE_FAILED" if is_syntax_error(error) else "GRAPHQL_VALIDATION_FAILED"
        message, extensions = error.message, {"code": code}
        extensions.update(error.extensions or {})
    else:
        # restloom's own bug: logged here, once, with what it takes to find it.
        log.error(
            "internal error (request %s, path %s): %s",
            request_id,
            error.path,
            type(original).__name__,
            exc_info=original,
        )
        message, extensions = "Internal server error", {"code": "INTERNAL_ERROR"}
    if request_id:
        extensions.setdefault("requestId", request_id)
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )
