"""What every upstream call carries and gives back: the caller, the response.

Shared by `client` (one HTTP call) and `exchange` (a GraphQL request's calls).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from restloom.upstream.credentials import Credential
from restloom.upstream.errors import FailureKind, UpstreamError

Params = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Caller:
    """Everything about the GraphQL request that the upstream needs to see."""

    credential: Credential | None
    request_id: str
    impersonate_user_id: str | None = None
    # The organizational unit the caller picked (X-Org-Unit); None: the home OU.
    org_unit: str | None = None

    @property
    def cache_actor(self) -> str | None:
        """Who the cache keys name besides the principal: impersonated user and OU."""
        if self.org_unit is None:
            return self.impersonate_user_id
        return f"{self.impersonate_user_id or ''}\x00ou:{self.org_unit}"


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: Any


def no_credential(request_id: str) -> UpstreamError:
    return UpstreamError(
        kind=FailureKind.NO_CREDENTIAL,
        message="Send X-API-Key or Authorization: Bearer with your request",
        request_id=request_id,
    )
