"""The HTTP front door: what a request must be before GraphQL sees it.

Body size (413 before the body is read whole), CORS for browsers (`cors_origins`),
exact media types (415), the response's media type from `Accept` (negotiate.py), the
draft's GraphQL-over-HTTP status codes (answer.py), and request errors as JSON.
"""

from __future__ import annotations

from starlette.middleware import Middleware

from restloom.config import Settings
from restloom.frontdoor.body import BodyLimit
from restloom.frontdoor.cors import cors_middleware


def front_door_middleware(settings: Settings, *inner: Middleware) -> list[Middleware]:
    """Outermost first: CORS headers reach every answer, a 413 included; then `inner`
    (the response cache's lane, which enforces the body cap itself), then the body cap."""
    cors = cors_middleware(settings.cors_origins)
    body = Middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return [*([cors] if cors is not None else []), *inner, body]
