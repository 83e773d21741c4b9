"""`GET /metrics`: the Prometheus text format, behind a bearer token when one is set."""

from __future__ import annotations

import hmac

from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from restloom.observability.metrics import GatewayMetrics


def metrics_route(metrics: GatewayMetrics, token: SecretStr | None) -> Route:
    expected = None if token is None else f"Bearer {token.get_secret_value()}".encode()

    async def scrape(request: Request) -> Response:
        if expected is not None:
            given = request.headers.get("authorization", "").encode()
            # Constant time: the comparison must not tell a prober how much it got right.
            if not hmac.compare_digest(given, expected):
                return JSONResponse(
                    {
                        "errors": [
                            {
                                "message": "metrics need the bearer token (metrics_token)",
                                "extensions": {"code": "UNAUTHENTICATED"},
                            }
                        ]
                    },
                    status_code=401,
                    headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
                )
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return Route("/metrics", scrape, methods=["GET"])
