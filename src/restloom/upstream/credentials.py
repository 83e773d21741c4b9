"""Who the upstream sees: the caller's credential, turned into the profile's auth scheme."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from enum import StrEnum

from restloom.upstream.profile import AuthScheme, AuthSpec


class CredentialKind(StrEnum):
    API_KEY = "api_key"  # the caller sent X-API-Key
    BEARER = "bearer"  # the caller sent Authorization: Bearer TOKEN
    AUTHORIZATION = "authorization"  # any other Authorization header, passed on as is
    ANONYMOUS = "anonymous"  # nobody: the upstream's auth scheme is "none"


@dataclass(frozen=True)
class Credential:
    kind: CredentialKind
    value: str

    @property
    def principal(self) -> str:
        """A stable, non-reversible name for this credential, for cache keys and logs."""
        digest = hashlib.sha256(f"{self.kind}:{self.value}".encode()).hexdigest()
        return digest[:32]

    @classmethod
    def from_headers(cls, api_key: str | None, authorization: str | None) -> Credential | None:
        if api_key:
            return cls(CredentialKind.API_KEY, api_key.strip())
        if authorization:
            scheme, _, token = authorization.strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return cls(CredentialKind.BEARER, token.strip())
            return cls(CredentialKind.AUTHORIZATION, authorization.strip())
        return None


# What an upstream without authentication sees every caller as (one principal for all).
ANONYMOUS = Credential(CredentialKind.ANONYMOUS, "")


def auth_headers(spec: AuthSpec, credential: Credential) -> dict[str, str]:
    """The header(s) that carry `credential` to an upstream speaking `spec`."""
    if spec.scheme is AuthScheme.NONE or credential.kind is CredentialKind.ANONYMOUS:
        return {}  # an upstream without auth never receives a caller's credential
    if credential.kind is CredentialKind.BEARER:
        return {"Authorization": f"Bearer {credential.value}"}
    if credential.kind is CredentialKind.AUTHORIZATION:
        return {"Authorization": credential.value}
    key = credential.value
    match spec.scheme:
        case AuthScheme.API_KEY_HEADER:
            return {spec.key_header: key}
        case AuthScheme.TOKEN:
            return {"Authorization": f"Token token={key}"}
        case AuthScheme.TOKEN_PLAIN:
            return {"Authorization": f"Token {key}"}
        case AuthScheme.BASIC:
            return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}
        case AuthScheme.BEARER:
            return {"Authorization": f"Bearer {key}"}
    return {}
