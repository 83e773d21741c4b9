"""The GraphQL view's own front door: request errors as JSON, exact media types,
one operation or a named one, and the CORS origins for WebSocket handshakes too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from restloom.frontdoor.cors import origin_allowed
from restloom.frontdoor.errors import RequestRejected, error_response
from restloom.frontdoor.media import check_post_body_type


class FrontDoorView(GraphQL):
    cors_origins: Sequence[str] = ()

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            return await super().run(request, context, root_value)
        except RequestRejected as exc:
            request_id = exc.extensions.get("requestId")
            headers = {"X-Request-Id": str(request_id)} if request_id else None
            return error_response(exc.status, exc.message, headers, **exc.extensions)
        except HTTPException as exc:
            # strawberry's own refusals (bad JSON, no query, GET mutation...) in plain
            # text; clients read every error the same way.
            return error_response(exc.status_code, exc.reason)

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> Any:
        if request.method == "POST":
            check_post_body_type(request.content_type)
            # strawberry matches "application/json" case-sensitively; media types are not.
            request = cast(AsyncHTTPRequestAdapter, _JsonRequest(request))
        return await super().parse_http_body(request)

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Any,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        result = await super().execute_single(
            request, request_adapter, sub_response, context, root_value, request_data
        )
        for error in result.errors or ():
            # Raised by the document checks (several operations, none named): a request
            # error, so HTTP 400 and no `data`, never the first operation run.
            if (error.extensions or {}).get("code") == "BAD_REQUEST":
                raise RequestRejected(400, error.message, **_without_code(error.extensions))
        return result

    def is_websocket_origin_allowed(self, request: WebSocket, origin: str) -> bool:
        return origin_allowed(origin, self.cors_origins)


class _JsonRequest:
    """The same request, its (already checked) JSON media type in canonical form."""

    content_type = "application/json"

    def __init__(self, inner: AsyncHTTPRequestAdapter) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _without_code(extensions: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (extensions or {}).items() if k != "code"}
