"""A verified delivery body, in either style, as one `Event`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from restloom.events.model import Event, action_of
from restloom.events.signatures import Style, Verified
from restloom.upstream.profile import Profile
from restloom.upstream.urls import valid_id

MAX_NAME_CHARS = 64  # a target or event name


class MalformedEvent(Exception):
    """400: signed, but not an event restloom can read. The message is safe to return."""


def normalise(
    style: Style,
    source: str,
    profile: Profile,
    verified: Verified,
    headers: dict[str, str],
    body: bytes,
) -> Event:
    try:
        payload: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise MalformedEvent("body is not JSON") from None
    if not isinstance(payload, dict):
        raise MalformedEvent("body is not a JSON object")
    if style == "standard":
        return _standard(source, profile, verified, payload)
    return _moco(source, profile, verified, headers, payload)


def _standard(source: str, profile: Profile, verified: Verified, payload: dict[str, Any]) -> Event:
    kind = _name(payload.get("type"), "type")
    target, _, word = kind.rpartition(".")
    if not target:
        raise MalformedEvent("`type` is not <target>.<action>")
    data = payload.get("data")
    if not isinstance(data, dict):
        raise MalformedEvent("`data` is not an object")
    obj = data.get("object")
    updated = data.get("updated_at") or (obj.get("updated_at") if isinstance(obj, dict) else None)
    return Event(
        source=source,
        delivery_id=verified.delivery_id,
        target=target.lower(),
        collection=collection_of(profile, target),
        action=action_of(word),
        object_id=_object_id(profile, data.get("id")),
        occurred_at=_time(payload.get("timestamp"), "timestamp")
        or datetime.fromtimestamp(verified.sent_at, tz=UTC),
        actor_id=_optional_id(data.get("actor_id"), "data.actor_id"),
        updated_at=_time(updated, "data.updated_at"),
    )


def _moco(
    source: str,
    profile: Profile,
    verified: Verified,
    headers: dict[str, str],
    payload: dict[str, Any],
) -> Event:
    target = _name(headers.get("x-moco-target"), "X-Moco-Target")
    return Event(
        source=source,
        delivery_id=verified.delivery_id,
        target=target.lower(),
        collection=collection_of(profile, target),
        action=action_of(_name(headers.get("x-moco-event"), "X-Moco-Event")),
        object_id=_object_id(profile, payload.get("id")),
        occurred_at=datetime.fromtimestamp(verified.sent_at, tz=UTC),
        actor_id=_optional_id(headers.get("x-moco-user-id"), "X-Moco-User-Id"),
        updated_at=_time(payload.get("updated_at"), "updated_at"),
    )


def collection_of(profile: Profile, target: str) -> str | None:
    """ "Contact" -> "contacts" when the profile has that collection; else None."""
    name = target.strip().lower()
    if name in ("membership", "member", "organization_member"):
        name = "member"
    for candidate in (f"{name}s", name):
        if candidate in profile.paths and candidate not in ("me", "auth"):
            return candidate
    return None


def _name(value: object, where: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_NAME_CHARS:
        raise MalformedEvent(f"`{where}` is missing or not a short string")
    if not all(c.isalnum() or c in "._-" for c in value):
        raise MalformedEvent(f"`{where}` has characters a name never has")
    return value


def _optional_id(value: object, where: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MalformedEvent(f"`{where}` is not an id")
    text = str(value)
    if len(text) > 128:
        raise MalformedEvent(f"`{where}` is too long")
    return text


def _object_id(profile: Profile, value: object) -> str | None:
    text = _optional_id(value, "id")
    # It may end up in an upstream URL (the node is loaded fresh): the profile's pattern.
    if text is not None and not valid_id(profile, text):
        raise MalformedEvent("`id` is not an id of this upstream")
    return text


def _time(value: object, where: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise MalformedEvent(f"`{where}` is not an ISO 8601 time")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise MalformedEvent(f"`{where}` is not an ISO 8601 time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
