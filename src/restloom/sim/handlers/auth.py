"""``/auth/login``, ``/auth/refresh``, ``/auth/logout``, ``/auth/register`` (seed 004).

Token bodies are bare (``{"access_token", ...}``) in every style, as seed 004 shows.
"""

from __future__ import annotations

import math

from restloom.sim import errors
from restloom.sim.auth import TokenPair
from restloom.sim.pipeline import Ctx
from restloom.sim.records import utcnow
from restloom.sim.results import NoContent, One, Payload, Result
from restloom.sim.validation import REGISTER_FIELDS, body_object, validate_create


def _tokens(ctx: Ctx, pair: TokenPair) -> Payload:
    body = {
        "access_token": pair.access,
        "refresh_token": pair.refresh,
        "token_type": "Bearer",
        "expires_in": math.ceil(ctx.state.tokens.ttl),
    }
    return Payload(body, envelope=False)


def _string(body: dict[str, object], name: str) -> str:
    value = body.get(name)
    if value is None or value == "":
        raise errors.required(name)
    if not isinstance(value, str):
        raise errors.validation(name, f"{name} must be a string")
    return value


def login(ctx: Ctx) -> Result:
    body = body_object(ctx.body)
    email, password = _string(body, "email"), _string(body, "password")
    user = ctx.state.data.find_user(email=email)
    if user is None or user.hidden.get("password") != password:
        raise errors.unauthorized("Invalid email or password")
    return _tokens(ctx, ctx.state.tokens.issue(user.id))


def refresh(ctx: Ctx) -> Result:
    token = _string(body_object(ctx.body), "refresh_token")
    pair = ctx.state.tokens.rotate(token)
    if pair is None:
        raise errors.unauthorized("Invalid or expired refresh token")
    return _tokens(ctx, pair)


def logout(ctx: Ctx) -> Result:
    # With an API key there is nothing to revoke; the call still succeeds.
    if ctx.principal is not None and ctx.principal.kind == "token":
        ctx.state.tokens.revoke(ctx.principal.credential)
    return NoContent()


def register(ctx: Ctx) -> Result:
    v = validate_create(ctx, REGISTER_FIELDS, ctx.body)
    data = ctx.state.data
    if data.find_user(email=v.fields["email"]) is not None:
        raise errors.conflict("email is already registered", "email")
    if data.find_user(username=v.fields["username"]) is not None:
        raise errors.conflict("username is already taken", "username")
    fields = {
        "email": v.fields["email"],
        "username": v.fields["username"],
        "role": "member",
        "profile": v.fields["profile"],
    }
    user = data.insert("users", fields, utcnow(), hidden={"password": v.hidden["password"]})
    return One("users", user, status=201)
