"""Browser origins allowed to call restloom (setting `cors_origins`).

An entry is an exact origin (`https://app.example.com`), `*` for any origin, or
a pattern where `*` stands for one DNS label or a port (`http://localhost:*`,
`https://*.example.com`). No entry: no cross-origin browser access at all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

ALLOWED_HEADERS = (
    "Content-Type",
    "X-API-Key",
    "Authorization",
    "Idempotency-Key",
    "X-Request-Id",
    "X-Impersonate-User-Id",
    "X-Org-Unit",
)
EXPOSED_HEADERS = ("X-Request-Id",)
# What `restloom demo` allows: pages served from this machine, on any port.
LOCAL_ORIGINS = ("http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*")
PREFLIGHT_MAX_AGE = 600

# One label or a port: never a dot, a slash or an @, so `*` cannot reach another site.
_WILDCARD = "[A-Za-z0-9-]+"


def origin_pattern(origins: Sequence[str]) -> str | None:
    """One regular expression for the entries with a `*`, or None when there are none."""
    patterns = [
        re.escape(o.rstrip("/")).replace(r"\*", _WILDCARD) for o in origins if "*" in o and o != "*"
    ]
    return "|".join(f"(?:{p})" for p in patterns) or None


def exact_origins(origins: Sequence[str]) -> list[str]:
    return [o.rstrip("/") for o in origins if "*" not in o or o == "*"]


def origin_allowed(origin: str, origins: Sequence[str]) -> bool:
    """The same decision as the middleware's, for WebSocket handshakes."""
    exact = exact_origins(origins)
    if "*" in exact or origin in exact:
        return True
    pattern = origin_pattern(origins)
    return pattern is not None and re.fullmatch(pattern, origin) is not None


def cors_middleware(origins: Sequence[str]) -> Middleware | None:
    if not origins:
        return None
    return Middleware(
        CORSMiddleware,
        allow_origins=exact_origins(origins),
        allow_origin_regex=origin_pattern(origins),
        allow_methods=["GET", "POST"],
        allow_headers=list(ALLOWED_HEADERS),
        expose_headers=list(EXPOSED_HEADERS),
        # Credentials travel in headers, never in cookies: no credentialed CORS.
        allow_credentials=False,
        max_age=PREFLIGHT_MAX_AGE,
    )
