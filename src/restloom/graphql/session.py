"""MOCO's session (seed 002) in GraphQL: `login` answers the user's API key, and
`session { valid userId uuid }` tells whether the caller's key is still valid.

On a profile with a session (moco), `login` returns the key as `accessToken`
(`tokenType` "ApiKey", no refresh token, no expiry); callers send it back as
`X-API-Key` (or `Authorization: Bearer`). Other profiles log in as before
(`graphql.auth`), and `session` answers "not supported by this upstream".
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from restloom.graphql import auth
from restloom.graphql.context import Context
from restloom.graphql.writes import idempotency_key
from restloom.upstream.session import check_session, create_session, has_session


@strawberry.type(description="Whether the caller's API key is valid (the upstream's session).")
class Session:
    valid: bool
    user_id: strawberry.ID | None = strawberry.field(
        description="The databaseId of the key's user, when valid."
    )
    uuid: str | None


async def login(info: Info[Context, None], input: auth.LoginInput) -> auth.LoginPayload | None:
    if not has_session(info.context.profile):
        return await auth.login(info, input)
    key = await create_session(
        info.context.exchange, input.email, input.password, idempotency_key(info)
    )
    return auth.LoginPayload(
        access_token=key, refresh_token=None, token_type="ApiKey", expires_in=None
    )


async def resolve_session(info: Info[Context, None]) -> Session | None:
    check = await check_session(info.context.exchange)
    user_id = strawberry.ID(check.user_id) if check.user_id is not None else None
    return Session(valid=check.valid, user_id=user_id, uuid=check.uuid)
