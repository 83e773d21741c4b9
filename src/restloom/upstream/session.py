"""MOCO's session (seed 002): a user's API key for email and password, and a key check.

`POST {session.path}` `{email, password}` answers the user's API key; `GET
{session.path}` answers 200 `{id, uuid}` while the presented key is valid, else 401.
"""

from __future__ import annotations

from dataclasses import dataclass

from restloom.upstream.client import Exchange
from restloom.upstream.errors import FailureKind, Unsupported, UpstreamError
from restloom.upstream.profile import Profile
from restloom.upstream.urls import fixed_path

MAX_KEY_LENGTH = 512


@dataclass(frozen=True)
class SessionCheck:
    valid: bool
    user_id: str | None = None
    uuid: str | None = None


def _path(profile: Profile, what: str) -> str:
    if profile.session is None:
        raise Unsupported(f"{what} is not supported by this upstream (it has no session)")
    return fixed_path(profile, profile.session.path)


def has_session(profile: Profile) -> bool:
    return profile.session is not None


async def create_session(ex: Exchange, email: str, password: str, key: str | None) -> str:
    """The user's API key; 401 (UNAUTHENTICATED) for a wrong email or password."""
    path = _path(ex.profile, "login")
    body = {"email": email, "password": password}
    response = await ex.write("POST", path, body, key, public=True)
    api_key = response.body.get("api_key") if isinstance(response.body, dict) else None
    if not isinstance(api_key, str) or not 0 < len(api_key) <= MAX_KEY_LENGTH:
        raise UpstreamError(
            kind=FailureKind.INVALID_RESPONSE,
            message="The upstream's session answer carries no API key",
            request_id=ex.caller.request_id,
        )
    return api_key


async def check_session(ex: Exchange) -> SessionCheck:
    """Whether the caller's key is valid; a key the upstream refuses is `valid=False`."""
    path = _path(ex.profile, "session")
    if ex.caller.credential is None:
        return SessionCheck(valid=False)  # nothing to check: no call
    try:
        response = await ex.get(path, cached=False)
    except UpstreamError as error:
        if error.status == 401:
            return SessionCheck(valid=False)
        raise
    body = response.body if isinstance(response.body, dict) else {}
    user_id, uuid = body.get("id"), body.get("uuid")
    return SessionCheck(
        valid=True,
        user_id=str(user_id) if isinstance(user_id, int | str) else None,
        uuid=str(uuid)[:64] if isinstance(uuid, str) else None,
    )
