"""A GraphQL-over-HTTP request read from the wire, or refused as malformed (400).

What a well-formed request is (the draft's "Request Parameters" and "JSON Encoding"):
a JSON object (POST) or URL query parameters (GET) with `query` (a string), and
optionally `operationName` (a string), `variables` and `extensions` (objects); `null`
is the same as absent, other names are ignored. Anything else is not a GraphQL
request at all, so it is refused before GraphQL sees it: with a 400 and a JSON body
whatever the client accepts. That includes batches (a JSON array): restloom runs one
operation per request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.datastructures import QueryParams
from strawberry.http import GraphQLRequestData

from restloom.frontdoor.errors import RequestRejected

# Nesting of `variables` and `extensions`. Real inputs are a few levels deep; a JSON
# document nested hundreds deep breaks serialisers further on (orjson writes at most
# 254 levels), so it is refused here, where the cause is clear.
MAX_JSON_DEPTH = 64
PARAMETERS = ("query", "operationName", "variables", "extensions")


def from_json_body(body: bytes) -> GraphQLRequestData:
    if not body.strip():
        raise RequestRejected(400, "The request body is empty: send a JSON object with `query`")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        # orjson says where (and refuses past 1024 levels of nesting).
        raise RequestRejected(
            400, f"The request body is not valid JSON: {str(exc)[:200]}"
        ) from None
    if isinstance(data, list) and data and all(isinstance(item, dict) for item in data):
        raise RequestRejected(
            400, "Batched requests (a JSON array) are not supported: send one operation per request"
        )
    if not isinstance(data, dict):
        raise RequestRejected(
            400, f"The request body must be a JSON object with `query`, not {_kind(data)}"
        )
    return _parameters(data)


def from_query_string(params: QueryParams) -> GraphQLRequestData:
    fields: dict[str, Any] = {}
    for name in PARAMETERS:
        values = params.getlist(name)
        if len(values) > 1:
            raise RequestRejected(400, f"`{name}` is given {len(values)} times: give it once")
        if values:
            fields[name] = values[0]
    for name in ("variables", "extensions"):
        # Encoded as JSON strings in a URL; empty is the same as absent.
        text = fields.get(name)
        if text == "":
            fields[name] = None
        elif text is not None:
            try:
                fields[name] = orjson.loads(text)
            except orjson.JSONDecodeError:
                raise RequestRejected(400, f"`{name}` is not valid JSON") from None
    if fields.get("operationName") == "":
        fields["operationName"] = None  # the draft: empty is the same as absent
    return _parameters(fields)


def _parameters(fields: Mapping[str, Any]) -> GraphQLRequestData:
    query = fields.get("query")
    if query is None or query == "":
        raise RequestRejected(400, "The request has no `query`: send the GraphQL document in it")
    if not isinstance(query, str):
        raise RequestRejected(400, f"`query` must be a string, not {_kind(query)}")
    operation_name = fields.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise RequestRejected(
            400, f"`operationName` must be a string or null, not {_kind(operation_name)}"
        )
    return GraphQLRequestData(
        query=query,
        variables=_object(fields, "variables"),
        operation_name=operation_name or None,
        extensions=_object(fields, "extensions"),
    )


def _object(fields: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    value = fields.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise RequestRejected(400, f"`{name}` must be an object or null, not {_kind(value)}")
    if _deeper_than(value, MAX_JSON_DEPTH):
        raise RequestRejected(
            400, f"`{name}` is nested more than {MAX_JSON_DEPTH} levels deep", limit=MAX_JSON_DEPTH
        )
    return value


def _deeper_than(value: dict[str, Any] | list[Any], limit: int) -> bool:
    """Whether objects and arrays nest past `limit` (no recursion: depth is the input's)."""
    stack: list[tuple[dict[str, Any] | list[Any], int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return False


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "null"
