"""The upstream's base URL, as its own documents give it.

The rule: `upstream_url` is the API's base URL (`https://api.mossdesk.com/api/v1`,
`https://{domain}.mocoapp.com/api/v1`), and the profile's paths are below it. A URL
that is only an origin (`http://127.0.0.1:8001`, the form older versions took) still
works: the profile's documented base path (`prefix`) is added, and start-up says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from restloom.upstream.profile import Profile


class BadBaseUrl(ValueError):
    """The URL cannot be a base URL (it carries a query or a fragment)."""


@dataclass(frozen=True)
class Upstream:
    base_url: str  # without a trailing slash; every upstream path is appended to it
    profile: Profile  # with `prefix` already folded into `base_url`
    note: str | None = None  # what start-up should tell the operator about the URL


def resolve(url: str, profile: Profile) -> Upstream:
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise BadBaseUrl(
            "the base URL must not carry a query or a fragment "
            f"(pass it as the API's documents give it, e.g. https://api.example.com{profile.prefix})"
        )
    base = url.rstrip("/")
    below = profile.model_copy(update={"prefix": ""})
    if parts.path.strip("/") or not profile.prefix:
        return Upstream(base, below)
    documented = base + profile.prefix
    note = (
        f"upstream URL {base} has no path: using {documented}, the {profile.name} profile's "
        f"documented base URL (pass it whole, e.g. --upstream {documented}, to silence this)"
    )
    return Upstream(documented, below, note)
