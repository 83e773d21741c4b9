"""Upstream failures, whatever the profile's error body looks like, as one exception."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from restloom.upstream.profile import ErrorSpec


class FailureKind(StrEnum):
    HTTP = "http"  # the upstream answered with an error status
    TIMEOUT = "timeout"  # no answer within the call's timeout
    UNAVAILABLE = "unavailable"  # connection refused, reset or dropped
    NO_CREDENTIAL = "no_credential"  # neither the caller nor the settings gave one
    CIRCUIT_OPEN = "circuit_open"  # the breaker is open: not sent, the upstream is down
    RATE_LIMITED = "rate_limited"  # not sent: the rate budget has no slot before the deadline
    REDIRECT = "redirect"  # the upstream answered 3xx; never followed with credentials
    TOO_LARGE = "too_large"  # the body (after decompression) or a page exceeded its bound
    INVALID_RESPONSE = "invalid_response"  # a 2xx whose body does not fit the profile's shape
    TOO_MANY_REQUESTS = "too_many_requests"  # this GraphQL request hit its upstream request cap


@dataclass
class UpstreamError(Exception):
    kind: FailureKind
    message: str
    request_id: str
    status: int | None = None
    code: str | None = None  # the upstream's own error code, e.g. "NOT_FOUND"
    field: str | None = None  # the upstream's (snake_case) field name, for validation errors
    retry_after: float | None = None

    def __str__(self) -> str:
        return self.message


def dig(body: Any, dotted: str | None) -> Any:
    """`dig({"error": {"code": "X"}}, "error.code") == "X"`; None where the path breaks."""
    if dotted is None:
        return None
    value = body
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def error_from_response(
    spec: ErrorSpec,
    status: int,
    body: Any,
    request_id: str,
    retry_after: float | None = None,
) -> UpstreamError:
    code = dig(body, spec.code_path)
    message = dig(body, spec.message_path)
    field = dig(body, spec.field_path)
    if isinstance(code, dict | list):
        code = None  # a path that names an object, e.g. "error" in {"error": {...}}
    return UpstreamError(
        kind=FailureKind.HTTP,
        status=status,
        code=str(code) if code is not None else None,
        message=str(message) if message else f"Upstream answered HTTP {status}",
        field=str(field) if field is not None else None,
        request_id=request_id,
        retry_after=retry_after,
    )


def not_found(collection: str, object_id: str, request_id: str) -> UpstreamError:
    """What a batch lookup reports for an id the upstream did not return."""
    return UpstreamError(
        kind=FailureKind.HTTP,
        status=404,
        code="NOT_FOUND",
        message=f"{collection} {object_id} not found",
        request_id=request_id,
    )


def invalid_response(request_id: str, reason: str, status: int | None = None) -> UpstreamError:
    """A 2xx answer that cannot be read as the profile says; never cached, never an empty list."""
    return UpstreamError(
        kind=FailureKind.INVALID_RESPONSE,
        message=f"The upstream sent an answer restloom cannot read: {reason}",
        request_id=request_id,
        status=status,
    )


class Unsupported(ValueError):
    """A filter, order, field or id the upstream cannot take; nothing was sent.

    `argument` names what the caller gave (a logical name such as "updated_after" or
    "custom_properties"); the GraphQL layer reports it as BAD_USER_INPUT.
    """

    def __init__(self, message: str, argument: str | None = None) -> None:
        super().__init__(message)
        self.argument = argument
