"""Login, token refresh, logout and registration, passed through to the upstream.

The tokens are the upstream's; a client sends the access token back to
restloom as `Authorization: Bearer`, which restloom forwards.
"""

from __future__ import annotations

from typing import Self

import strawberry
from strawberry.types import Info

from restloom.graphql.context import Context
from restloom.graphql.users import User
from restloom.graphql.writes import body_of, idempotency_key
from restloom.upstream.api import auth_action
from restloom.upstream.credentials import CredentialKind
from restloom.upstream.pages import Record
from restloom.upstream.readcache import last_invalidation, note_invalidation


@strawberry.input
class LoginInput:
    email: str
    password: str


@strawberry.input
class RefreshTokenInput:
    refresh_token: str


@strawberry.input
class RegisterInput:
    email: str
    username: str
    password: str


@strawberry.type(
    description="The upstream's tokens; send the access token as `Authorization: Bearer`."
)
class AuthPayload:
    access_token: str
    refresh_token: str | None
    token_type: str
    expires_in: int | None

    @classmethod
    def from_body(cls, body: Record) -> Self:
        return cls(
            access_token=str(body.get("access_token") or ""),
            refresh_token=body.get("refresh_token"),
            token_type=str(body.get("token_type") or "Bearer"),
            expires_in=body.get("expires_in"),
        )


@strawberry.type
class LoginPayload(AuthPayload):
    pass


@strawberry.type
class RefreshTokenPayload(AuthPayload):
    pass


@strawberry.type
class LogoutPayload:
    success: bool
    upstream_session_ended: bool = strawberry.field(
        description="True when the upstream accepted the logout of a bearer (session) token; "
        "false for an API key, which a logout does not revoke."
    )
    cache_cleared: bool = strawberry.field(
        description="True when restloom's cached entries for this credential are gone on "
        "every instance; false when the shared cache could not be told: this instance no "
        "longer serves them, others may until the cache answers again or their TTL ends."
    )


@strawberry.type
class RegisterPayload:
    user: User


async def login(info: Info[Context, None], input: LoginInput) -> LoginPayload | None:
    body = await auth_action(info.context.exchange, "login", body_of(input), idempotency_key(info))
    return LoginPayload.from_body(body)


async def refresh_token(
    info: Info[Context, None], input: RefreshTokenInput
) -> RefreshTokenPayload | None:
    body = await auth_action(
        info.context.exchange, "refresh", body_of(input), idempotency_key(info)
    )
    return RefreshTokenPayload.from_body(body)


async def logout(info: Info[Context, None]) -> LogoutPayload | None:
    exchange = info.context.exchange
    note_invalidation(None)  # an earlier mutation of this request must not answer for this one
    await auth_action(exchange, "logout", None, idempotency_key(info))
    credential = exchange.caller.credential
    dropped = last_invalidation()
    return LogoutPayload(
        success=True,
        upstream_session_ended=credential is not None and credential.kind is CredentialKind.BEARER,
        cache_cleared=dropped is not None and dropped.written,
    )


async def register(info: Info[Context, None], input: RegisterInput) -> RegisterPayload | None:
    body = await auth_action(
        info.context.exchange, "register", body_of(input), idempotency_key(info)
    )
    record = body.get("data") if isinstance(body.get("data"), dict) else body
    return RegisterPayload(user=User.from_record(record))
