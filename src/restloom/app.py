"""The ASGI app: `/graphql`, `/healthz`, and the lifespan that owns the upstream session."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from restloom.config import Settings
from restloom.graphql.context import Context
from restloom.graphql.relay import CursorCodec
from restloom.graphql.schema import build_schema
from restloom.upstream.client import Caller, UpstreamClient, create_session
from restloom.upstream.credentials import Credential, CredentialKind

# A caller's request id is echoed upstream and into logs: keep it short and printable.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def request_id_from(headers: Any) -> str:
    given = headers.get("x-request-id")
    if given and _REQUEST_ID.match(given):
        return str(given)
    return uuid.uuid4().hex


@dataclass
class Gateway:
    """What lives as long as the process: settings and the upstream client."""

    settings: Settings
    client: UpstreamClient | None = None


class GraphQLRoute(GraphQL):
    def __init__(self, gateway: Gateway, **kwargs: Any) -> None:
        super().__init__(
            build_schema(gateway.settings.max_depth, gateway.settings.max_aliases), **kwargs
        )
        self.gateway = gateway
        self.cursors = CursorCodec(gateway.settings.cursor_secret.get_secret_value().encode())

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        client = self.gateway.client
        assert client is not None, "the lifespan opens the upstream client before serving"
        request_id = request_id_from(request.headers)
        if isinstance(response, Response):
            response.headers["X-Request-Id"] = request_id
        caller = Caller(
            credential=Credential.from_headers(
                request.headers.get("x-api-key"), request.headers.get("authorization")
            ),
            request_id=request_id,
            impersonate_user_id=request.headers.get("x-impersonate-user-id"),
        )
        return Context(
            request=request,  # type: ignore[arg-type]
            response=response,  # type: ignore[arg-type]
            request_id=request_id,
            exchange=client.exchange(caller),
            cursors=self.cursors,
            idempotency_key=request.headers.get("idempotency-key") or None,
        )

    def encode_json(self, data: object) -> str:
        # str, not bytes: bytes would make strawberry send binary WebSocket frames.
        return orjson.dumps(data).decode()


def create_app(settings: Settings) -> Starlette:
    gateway = Gateway(settings)
    profile = settings.upstream_profile()
    if settings.upstream_url is None:
        raise ValueError("upstream_url is required")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        session = create_session(settings.max_connections, settings.connect_timeout)
        service = (
            Credential(CredentialKind.API_KEY, settings.api_key.get_secret_value())
            if settings.api_key
            else None
        )
        gateway.client = UpstreamClient(
            session,
            str(settings.upstream_url),
            profile,
            service_credential=service,
            call_timeout=settings.upstream_timeout,
        )
        try:
            yield
        finally:
            await session.close()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    graphql = GraphQLRoute(gateway)
    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
