"""The GraphQL view's front door: methods, media types both ways, well-formed requests,
one operation per request, and the status code and media type of every answer.

Request errors never leave as plain text or a 500: they are JSON `{"errors": [...]}`
with a code, the `X-Request-Id` header and, for 405, the `Allow` header.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLRequestData
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET

from graphql import GraphQLError
from restloom.frontdoor.answer import answer
from restloom.frontdoor.cors import origin_allowed
from restloom.frontdoor.errors import RequestRejected, error_body
from restloom.frontdoor.media import check_post_body_type
from restloom.frontdoor.negotiate import APPLICATION_JSON, response_media_type
from restloom.frontdoor.request import from_json_body, from_query_string
from restloom.frontdoor.request_id import request_id_of
from restloom.graphql.errors import with_code

METHODS = ("GET", "POST")
_ALLOWED = {
    "GET": frozenset({OperationType.QUERY}),
    "POST": frozenset({OperationType.QUERY, OperationType.MUTATION}),
}
_MEDIA_TYPE_KEY = "restloom.media_type"


class FrontDoorView(GraphQL):
    cors_origins: Sequence[str] = ()

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        if self.is_websocket_request(request):
            return await super().run(request, context, root_value)
        try:
            return await self._serve(request, context, root_value)
        except RequestRejected as exc:
            return self._refusal(request, exc)

    async def _serve(self, request: Request, context: Any, root_value: Any) -> Response:
        if request.method not in METHODS:
            raise RequestRejected(
                405, f"{request.method[:20]} is not supported: use GET or POST", allow="GET, POST"
            )
        if self.graphql_ide and self.should_render_graphql_ide(self.request_adapter_class(request)):
            return await self.render_graphql_ide(request)
        media_type = response_media_type(request.headers.get("accept"))
        if media_type is None:
            raise RequestRejected(
                406,
                "The Accept header names no type this server answers in: accept "
                "application/graphql-response+json or application/json",
            )
        request.scope[_MEDIA_TYPE_KEY] = media_type
        if request.method == "POST":
            check_post_body_type(request.headers.get("content-type"))
            data = from_json_body(await request.body())
        else:
            data = from_query_string(request.query_params)
        sub_response = await self.get_sub_response(request)
        if context is UNSET:
            context = await self.get_context(request, response=sub_response)
        if root_value is UNSET:
            root_value = await self.get_root_value(request)
        result = await self._execute(request, data, context, root_value)
        request_id = request_id_of(request)
        result.errors = [with_code(e, request_id) for e in result.errors or ()] or None
        reply = answer(result, media_type)
        response = Response(
            self.encode_json(reply.body),
            status_code=reply.status,
            media_type=f"{media_type}; charset=utf-8",
        )
        response.headers.raw.extend(sub_response.headers.raw)
        return response

    async def _execute(
        self, request: Request, data: GraphQLRequestData, context: Any, root_value: Any
    ) -> ExecutionResult:
        try:
            return await self.schema.execute(
                data.query,
                variable_values=data.variables,
                context_value=context,
                root_value=root_value,
                operation_name=data.operation_name,
                allowed_operation_types=_ALLOWED[request.method],
                operation_extensions=data.extensions,
            )
        except InvalidOperationTypeError as exc:
            if exc.operation_type is OperationType.MUTATION:
                # The draft: a mutation over GET is 405, and nothing runs.
                raise RequestRejected(
                    405, "Mutations are not allowed over GET: use POST", allow="POST"
                ) from None
            raise RequestRejected(
                400,
                "Subscriptions are served over WebSocket (graphql-transport-ws), not over HTTP",
            ) from None
        except CannotGetOperationTypeError as exc:
            # No operation by that name: a GraphQL request error, like a validation failure.
            error = GraphQLError(exc.as_http_error_reason(), extensions={"code": "BAD_REQUEST"})
            return ExecutionResult(data=None, errors=[error])
        except MissingQueryError:
            raise RequestRejected(400, "The request has no `query`") from None

    def _refusal(self, request: Request, exc: RequestRejected) -> Response:
        request_id = request_id_of(request)
        media_type = request.scope.get(_MEDIA_TYPE_KEY, APPLICATION_JSON)
        extensions = {k: v for k, v in exc.extensions.items() if k not in ("allow", "requestId")}
        headers = {"X-Request-Id": request_id}
        if "allow" in exc.extensions:
            headers["Allow"] = str(exc.extensions["allow"])
        return Response(
            error_body(exc.status, exc.message, requestId=request_id, **extensions),
            status_code=exc.status,
            media_type=f"{media_type}; charset=utf-8",
            headers=headers,
        )

    def is_websocket_origin_allowed(self, request: WebSocket, origin: str) -> bool:
        return origin_allowed(origin, self.cors_origins)
