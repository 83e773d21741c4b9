"""The ASGI app: `/graphql`, `/healthz`, and the lifespan that owns the upstream session."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from restloom.config import ConfigError, Settings
from restloom.disconnect import StopOnDisconnect
from restloom.events.hub import open_hub, verifier_from
from restloom.events.receiver import receive_webhook
from restloom.fastlane import ResponseCacheLane
from restloom.frontdoor import front_door_middleware
from restloom.frontdoor.request_id import request_id_of
from restloom.frontdoor.route import FrontDoorView
from restloom.graphiql import STATIC_PATH, graphiql_html, static_mount
from restloom.graphql.context import Context
from restloom.graphql.limits import DocumentLimits
from restloom.graphql.relay import CursorCodec
from restloom.graphql.response_cache import ResponseCache
from restloom.graphql.schema import build_schema
from restloom.graphql.subscription import SocketContext
from restloom.graphql.trust import Access, TrustPolicy
from restloom.observability.setup import build_observer, observability_routes
from restloom.readiness import check as check_readiness
from restloom.services import open_services
from restloom.startup import UpstreamCheck
from restloom.upstream.base_url import BadBaseUrl
from restloom.upstream.base_url import resolve as resolve_base_url
from restloom.upstream.client import Caller, UpstreamClient, create_session
from restloom.upstream.credentials import Credential, CredentialKind
from restloom.upstream.jobs import JobWatcher
from restloom.upstream.orgunits import OrgUnitGate
from restloom.upstream.readcache import ReadCache

log = logging.getLogger("restloom.app")


@dataclass
class Gateway:
    """What lives as long as the process: settings and the upstream client."""

    settings: Settings
    client: UpstreamClient | None = None
    upstream_check: UpstreamCheck = field(default_factory=UpstreamCheck)


class GraphQLRoute(FrontDoorView):
    def __init__(self, gateway: Gateway, **kwargs: Any) -> None:
        settings = gateway.settings
        schema = build_schema(
            document_limits(settings),
            upstream_stats=settings.response_extensions,
            introspection=settings.introspection,
            field_suggestions=settings.field_suggestions,
            max_upstream_requests=settings.max_upstream_requests,
        )
        # Room for queries over the socket besides the subscriptions (which the
        # Subscription root counts itself, with a clear error code).
        kwargs.setdefault("max_subscriptions_per_connection", settings.max_subscriptions + 10)
        super().__init__(schema, **kwargs)
        self.gateway = gateway
        self.cors_origins = tuple(settings.cors_origins)
        self.trust = TrustPolicy(settings.anonymous_mutations, settings.service_impersonation)
        self.cursors = CursorCodec(cursor_secret(settings))

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        client = self.gateway.client
        assert client is not None, "the lifespan opens the upstream client before serving"
        request_id = request_id_of(request)
        if isinstance(response, Response):
            response.headers["X-Request-Id"] = request_id
        credential = Credential.from_headers(
            request.headers.get("x-api-key"), request.headers.get("authorization")
        )
        impersonate = request.headers.get("x-impersonate-user-id") or None
        access = Access(
            own_credential=credential is not None,
            service_credential=client.service_credential is not None,
            impersonates=impersonate is not None,
            policy=self.trust,
        )
        caller = Caller(
            credential=credential,
            request_id=request_id,
            # Refused before execution (TrustCheck); never forwarded when not allowed.
            impersonate_user_id=impersonate if access.may_impersonate else None,
            # Checked where it is used (upstream.orgunits): a bad one is BAD_USER_INPUT.
            org_unit=request.headers.get("x-org-unit", "").strip() or None,
        )
        # A WebSocket's context also takes the init payload (connection_params).
        context_type = SocketContext if isinstance(request, WebSocket) else Context
        return context_type(
            request=request,  # type: ignore[arg-type]
            response=response,  # type: ignore[arg-type]
            request_id=request_id,
            exchange=client.exchange(caller),
            cursors=self.cursors,
            access=access,
            idempotency_key=request.headers.get("idempotency-key") or None,
        )

    def encode_json(self, data: object) -> str:
        # str, not bytes: bytes would make strawberry send binary WebSocket frames.
        return orjson.dumps(data).decode()

    async def render_graphql_ide(self, request: Request) -> Response:
        # Strawberry's page pulls GraphiQL from a CDN; ours serves it from the package (offline).
        # root_path keeps the URLs right when restloom is mounted below `/`.
        root = request.scope.get("root_path", "").rstrip("/")
        return HTMLResponse(graphiql_html(root + "/graphql", root + STATIC_PATH))


def document_limits(settings: Settings) -> DocumentLimits:
    return DocumentLimits(
        max_depth=settings.max_depth,
        max_aliases=settings.max_aliases,
        max_directives=settings.max_directives,
        max_tokens=settings.max_tokens,
        max_query_chars=settings.max_query_chars,
    )


def cursor_secret(settings: Settings) -> bytes:
    """The configured cursor key, or a random one for this process alone.

    Cursors signed by one instance must verify on every other, so with Redis (several
    instances) a key must be configured; the old built-in default was public.
    """
    if settings.cursor_secret is not None:
        return settings.cursor_secret.get_secret_value().encode()
    if settings.redis_url is not None:
        raise ConfigError(
            "setting `cursor_secret` is required when `redis_url` is set: every instance "
            "must sign cursors with the same key (set RESTLOOM_CURSOR_SECRET to a random string)"
        )
    log.warning(
        "no cursor_secret configured: cursors are signed with a random key and stop "
        "working when this process restarts"
    )
    return secrets.token_bytes(32)


def response_cache(settings: Settings, cache: ReadCache | None) -> ResponseCache | None:
    """Whole responses, when asked for and the read cache caches something."""
    caching = settings.cache_ttl > 0 or any(ttl > 0 for ttl in settings.cache_ttls.values())
    if not settings.response_cache or not caching or cache is None:
        return None
    return ResponseCache(cache)


def create_app(settings: Settings) -> Starlette:
    gateway = Gateway(settings)
    if settings.upstream_url is None:
        raise ConfigError("setting `upstream_url` is required")
    try:
        upstream = resolve_base_url(str(settings.upstream_url), settings.upstream_profile())
    except BadBaseUrl as exc:
        raise ConfigError(f"setting `upstream_url`: {exc}") from None
    profile = upstream.profile
    observer = build_observer(settings, profile)
    verifier = verifier_from(settings, profile)  # a bad webhook_secret stops start-up here

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        session = create_session(settings.max_connections, settings.connect_timeout)
        service = (
            Credential(CredentialKind.API_KEY, settings.api_key.get_secret_value())
            if settings.api_key
            else None
        )
        services = open_services(settings, profile)
        if upstream.note:
            log.info("%s", upstream.note)
        gateway.client = UpstreamClient(
            session,
            upstream.base_url,
            profile,
            service_credential=service,
            call_timeout=settings.upstream_timeout,
            request_deadline=settings.request_deadline,
            read_retries=settings.read_retries,
            cache=services.cache,
            budget=services.budget,
            breaker=services.breaker,
            max_body_bytes=settings.max_upstream_body_bytes,
            max_retry_after=settings.max_retry_after,
        )
        app.state.redis = services.redis
        app.state.response_cache = response_cache(settings, services.cache)
        gateway.client.org_units = OrgUnitGate.build(
            profile, services.redis, settings.redis_namespace
        )
        app.state.jobs = JobWatcher.build(gateway.client, services.redis, settings.redis_namespace)
        app.state.events = open_hub(settings, profile, services.cache, services.redis, verifier)
        await app.state.events.start()
        observer.attach(gateway.client)
        # In the background: an upstream that is down must not stop the gateway starting.
        check = asyncio.create_task(
            gateway.upstream_check.run(gateway.client)
            if settings.startup_check
            else gateway.upstream_check.skip()
        )
        try:
            yield
        finally:
            check.cancel()
            await app.state.events.close()
            await session.close()
            await services.close()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        assert gateway.client is not None, "the lifespan opens the upstream client before serving"
        await gateway.upstream_check.refresh(gateway.client)
        readiness = await check_readiness(
            gateway.client, request.app.state.redis, gateway.upstream_check
        )
        return JSONResponse(readiness.body, status_code=200 if readiness.ready else 503)

    graphql = GraphQLRoute(gateway)
    routes = [
        # Every method reaches the view: it answers 405 with `Allow` and a JSON body itself.
        Route("/graphql", StopOnDisconnect(graphql)),
        WebSocketRoute("/graphql", graphql),
        Route("/webhooks/{source}", receive_webhook, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        static_mount(),
        *observability_routes(observer, settings),
    ]
    # Response-cache hits are answered before the router and the view (fastlane.py).
    lane = Middleware(
        ResponseCacheLane,
        path="/graphql",
        max_body_bytes=settings.max_body_bytes,
        response_extensions=settings.response_extensions,
        client=lambda: gateway.client,
    )
    middleware = front_door_middleware(settings, lane)
    app = Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
    app.state.upstream_check = gateway.upstream_check  # for tests that count upstream calls
    return app
