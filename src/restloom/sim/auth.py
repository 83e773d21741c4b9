"""Credentials: the two demo API keys, and access/refresh tokens from /auth/login.

Each API key is bound to a user (full key -> first user, read key -> second user).
Tokens act as their user with full scope. Refresh tokens rotate: using one revokes it.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from restloom.sim import errors
from restloom.sim.config import SimConfig
from restloom.sim.dataset import Dataset

# Refresh tokens outlive access tokens, as usual; the exact span does not matter here.
REFRESH_TTL_FACTOR = 24 * 30


@dataclass(frozen=True)
class Principal:
    credential: str
    kind: Literal["key", "token"]
    scope: Literal["full", "read"]
    user_id: str


@dataclass
class TokenPair:
    access: str
    refresh: str
    user_id: str
    access_expires: float
    refresh_expires: float


def mask_credential(credential: str) -> str:
    """Stats/audit label of a credential: its first 8 characters plus a short digest.

    The digest keeps credentials that share a prefix (the demo keys both start with
    ``moss_k_d``) apart without revealing more of them.
    """
    digest = hashlib.sha256(credential.encode()).hexdigest()[:6]
    return f"{credential[:8]}...{digest}"


class TokenStore:
    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._by_access: dict[str, TokenPair] = {}
        self._by_refresh: dict[str, TokenPair] = {}

    def issue(self, user_id: str) -> TokenPair:
        now = self.clock()
        pair = TokenPair(
            access="at_" + secrets.token_urlsafe(24),
            refresh="rt_" + secrets.token_urlsafe(24),
            user_id=user_id,
            access_expires=now + self.ttl,
            refresh_expires=now + self.ttl * REFRESH_TTL_FACTOR,
        )
        self._by_access[pair.access] = pair
        self._by_refresh[pair.refresh] = pair
        return pair

    def lookup_access(self, token: str) -> tuple[str | None, str]:
        """(user id, "") for a live token, else (None, reason)."""
        pair = self._by_access.get(token)
        if pair is None:
            return None, "Invalid access token"
        if self.clock() >= pair.access_expires:
            return None, "Access token expired"
        return pair.user_id, ""

    def rotate(self, refresh_token: str) -> TokenPair | None:
        pair = self._by_refresh.pop(refresh_token, None)
        if pair is None or self.clock() >= pair.refresh_expires:
            return None
        # The old access token keeps working until it expires; only the refresh rotates.
        return self.issue(pair.user_id)

    def revoke(self, access_token: str) -> None:
        pair = self._by_access.pop(access_token, None)
        if pair is not None:
            self._by_refresh.pop(pair.refresh, None)


class Authenticator:
    def __init__(self, config: SimConfig, data: Dataset, tokens: TokenStore) -> None:
        first, second = data.first_users(2)
        self._keys: dict[str, tuple[Literal["full", "read"], str]] = {
            config.full_key: ("full", first.id),
            config.read_key: ("read", second.id),
        }
        self.tokens = tokens

    def add_key(self, key: str, scope: Literal["full", "read"], user_id: str) -> None:
        """Another user's own API key (MOCO's ``POST /session`` hands them out)."""
        self._keys.setdefault(key, (scope, user_id))

    def authenticate(self, credential: str | None) -> Principal:
        if not credential:
            raise errors.unauthorized("Missing credentials")
        key = self._keys.get(credential)
        if key is not None:
            return Principal(credential, "key", key[0], key[1])
        user_id, reason = self.tokens.lookup_access(credential)
        if user_id is None:
            # A token that merely looks like one of ours gets the precise reason.
            message = reason if credential.startswith("at_") else "Invalid API key"
            raise errors.unauthorized(message)
        return Principal(credential, "token", "full", user_id)
