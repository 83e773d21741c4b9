"""Request errors as JSON, in the GraphQL response shape: `{"errors": [...]}`, no `data`.

The GraphQL-over-HTTP draft: a request that is not a well-formed GraphQL request
gets a 4xx and no `data` entry; clients read `errors[].extensions.code` as for any
other error.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

# Codes for the HTTP statuses the front door answers with.
STATUS_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    413: "REQUEST_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


class RequestRejected(Exception):
    """Raised anywhere in the route: the request is answered with `status` and no data."""

    def __init__(self, status: int, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extensions = extensions


def error_body(status: int, message: str, **extensions: Any) -> bytes:
    code = extensions.pop("code", None) or STATUS_CODES.get(status, "BAD_REQUEST")
    error = {"message": message, "extensions": {"code": code, **extensions}}
    return orjson.dumps({"errors": [error]})


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None, **extensions: Any
) -> Response:
    return Response(
        error_body(status, message, **extensions),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )
