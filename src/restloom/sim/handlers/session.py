"""MOCO's session (seed 002): a user's API key for email and password, and a key check.

- ``POST /session`` ``{"email", "password"}`` (public) -> ``{"api_key", "user_id"}``: the
  user's own key. The first user's is the full key, the second's the read key; every
  other user gets a key of its own (full scope), the same on every call.
- ``GET /session`` -> ``{"id", "uuid"}`` for a valid key (the pipeline answers 401
  for any other), ``id`` being the user's integer id.
"""

from __future__ import annotations

import hashlib
import uuid

from restloom.sim import errors
from restloom.sim.handlers.auth import _string
from restloom.sim.pipeline import Ctx
from restloom.sim.results import Payload, Result
from restloom.sim.validation import body_object

# uuid5 namespace for users' uuids: stable across runs of one seed.
USER_UUIDS = uuid.UUID("5b7c1c52-6a0e-4a4e-9d55-3f2f8c6f0b11")


def _user_key(ctx: Ctx, user_id: str) -> str:
    config = ctx.state.config
    first, second = ctx.state.data.first_users(2)
    if user_id == first.id:
        return config.full_key
    if user_id == second.id:
        return config.read_key
    digest = hashlib.sha256(f"{config.seed}:{config.full_key}:{user_id}".encode()).hexdigest()
    key = "moco_k_" + digest[:32]
    ctx.state.auth.add_key(key, "full", user_id)
    return key


def create_session(ctx: Ctx) -> Result:
    body = body_object(ctx.body)
    email, password = _string(body, "email"), _string(body, "password")
    user = ctx.state.data.find_user(email=email)
    if user is None or user.hidden.get("password") != password:
        raise errors.unauthorized("Invalid email or password")
    key = _user_key(ctx, user.id)
    return Payload({"api_key": key, "user_id": user.num}, envelope=False)


def get_session(ctx: Ctx) -> Result:
    assert ctx.principal is not None, "GET /session is authenticated"
    user_id = ctx.principal.user_id
    num = ctx.state.data.num_for_id("users", user_id)
    return Payload({"id": num, "uuid": str(uuid.uuid5(USER_UUIDS, user_id))}, envelope=False)
