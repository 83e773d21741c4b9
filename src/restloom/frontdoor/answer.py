"""The HTTP answer for a GraphQL result: its status, its media type, and `data` or not.

GraphQL over HTTP (current draft), for a well-formed request:

- a *request error* (the operation never started: parse, validation, document limits,
  operation selection, variable coercion, refusals before any resolver runs) has no
  `data` entry at all, as the GraphQL specification asks of request errors;
- with `application/graphql-response+json` a request error is a 4xx (400; 401/403 for
  the caller's credentials or rights; 500 only for a fault of restloom's own);
- with `application/json` every answer to a well-formed request is 200, request errors
  included (the draft's legacy appendix: only a 200 proves the body is GraphQL's);
- once execution started, the answer is 200 whatever failed, with `data` (partial, or
  null when a non-null root field failed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from strawberry.types import ExecutionResult

from graphql import GraphQLError
from restloom.frontdoor.negotiate import GRAPHQL_RESPONSE_JSON

# Request errors whose code says more than "bad request" (graphql-response+json only).
_REQUEST_ERROR_STATUS = {
    "INTERNAL_ERROR": 500,
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
}


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


def is_request_error(result: ExecutionResult) -> bool:
    """No data and no error from a field: nothing was executed (a field error has a path)."""
    errors = result.errors or []
    return result.data is None and bool(errors) and all(e.path is None for e in errors)


def request_error_status(errors: Sequence[GraphQLError]) -> int:
    statuses = [_REQUEST_ERROR_STATUS.get(_code(e), 400) for e in errors]
    return max(statuses, default=400)


def answer(result: ExecutionResult, media_type: str) -> Answer:
    errors = result.errors or []
    body: dict[str, Any] = {}
    status = 200
    if is_request_error(result):
        if media_type == GRAPHQL_RESPONSE_JSON:
            status = request_error_status(errors)
    else:
        body["data"] = result.data
    if errors:
        body["errors"] = [e.formatted for e in errors]
    if result.extensions:
        body["extensions"] = result.extensions
    return Answer(status, body)


def _code(error: GraphQLError) -> str:
    return str((error.extensions or {}).get("code", ""))
