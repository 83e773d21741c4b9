"""Upstream failures, whatever the profile's error body looks like, as one exception."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from restloom.upstream.specs import ErrorSpec, ErrorStyle


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
    if spec.style is ErrorStyle.FIELD_KEYS and not message and field is None:
        field, message = field_keyed(body)
    return UpstreamError(
        kind=FailureKind.HTTP,
        status=status,
        code=str(code) if code is not None else None,
        message=str(message) if message else f"Upstream answered HTTP {status}",
        field=str(field) if field is not None else None,
        request_id=request_id,
        retry_after=retry_after,
    )


# Keys of a field-keyed body that name no field (Django REST Framework's defaults).
NON_FIELD_KEYS = frozenset({"non_field_errors", "detail"})
# A field name restloom passes on: snake_case or camelCase words, dotted when nested.
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
MAX_FIELD_DEPTH = 3
MAX_FIELD_KEYS = 50  # keys looked at; a body is already bounded, this bounds the walk
MAX_MESSAGE_CHARS = 500


def field_keyed(body: Any) -> tuple[str | None, str | None]:
    """The first field and its first message of `{"email": ["Enter a valid email address."]}`.

    Django REST Framework's default validation body: field names as keys, each with a
    list of messages (or a nested serializer's map of the same, giving "address.city").
    `non_field_errors` and `detail` give a message without a field. Keys that are not
    plain names and values that are not strings are skipped: the upstream's body is
    not trusted to put anything else into `extensions.field`.
    """
    return _first_field(body, (), 0)


def _first_field(body: Any, parents: tuple[str, ...], depth: int) -> tuple[str | None, str | None]:
    if not isinstance(body, dict) or depth >= MAX_FIELD_DEPTH:
        return None, None
    for key, value in list(body.items())[:MAX_FIELD_KEYS]:
        if not isinstance(key, str) or not _FIELD_NAME.fullmatch(key):
            continue
        if isinstance(value, dict):
            field, message = _first_field(value, (*parents, key), depth + 1)
            if message is not None:
                return field, message
            continue
        message = _first_message(value)
        if message is None:
            continue
        if key in NON_FIELD_KEYS:
            return (".".join(parents) or None), message
        return ".".join((*parents, key)), message
    return None, None


def _first_message(value: Any) -> str | None:
    if isinstance(value, list):
        value = next((v for v in value[:MAX_FIELD_KEYS] if isinstance(v, str) and v), None)
    if not isinstance(value, str) or not value:
        return None
    return value[:MAX_MESSAGE_CHARS]


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
