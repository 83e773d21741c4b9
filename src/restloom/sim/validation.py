"""Write bodies: which fields each collection accepts, and how PATCH merges them.

Create (POST) needs every required field; unknown fields are rejected (400 with
``field`` = the unknown name) so a client sending ``firstName`` hears about it.
PATCH changes only the fields it sends. Two fields merge instead of being replaced:

- ``metadata`` (resources): the keys sent are merged into the stored dict, and a key
  sent as ``null`` is removed from it;
- ``profile`` (users): the keys sent replace those keys only.

``custom_properties`` (MOCO style only) is the opposite on purpose: as MOCO documents,
whatever is sent replaces the whole dict, so properties not sent are removed.
Optional text fields accept ``null`` (stored and returned as null).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from restloom.sim import errors
from restloom.sim.kinds import (
    MEMBER_ROLES,
    RESOURCE_STATUSES,
    RESOURCE_TYPES,
    WEBHOOK_EVENTS,
)

if TYPE_CHECKING:
    from restloom.sim.pipeline import Ctx

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,40}$")
URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$")

Check = Callable[["Ctx", str, Any], Any]
Merge = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class FieldSpec:
    name: str
    check: Check
    required: bool = False
    # Whether an optional field may be set to null.
    nullable: bool = True
    # Value when absent on create: a constant, or a callable given the request context.
    default: Any = None
    merge: Merge | None = None
    # Stored out of sight (webhook secret), never returned.
    hidden: bool = False


# ---------------------------------------------------------------------- checks


def text(max_len: int = 255) -> Check:
    def check(ctx: Ctx, name: str, value: Any) -> str:
        if not isinstance(value, str):
            raise errors.validation(name, f"{name} must be a string")
        if len(value) > max_len:
            raise errors.validation(name, f"{name} must be at most {max_len} characters")
        return value

    return check


def required_text(max_len: int = 255) -> Check:
    inner = text(max_len)

    def check(ctx: Ctx, name: str, value: Any) -> str:
        value = inner(ctx, name, value)
        if not value.strip():
            raise errors.required(name)
        return value

    return check


def pattern(regex: re.Pattern[str], what: str) -> Check:
    def check(ctx: Ctx, name: str, value: Any) -> str:
        if not isinstance(value, str):
            raise errors.validation(name, f"{name} must be a string")
        if not regex.match(value):
            raise errors.validation(name, f"{name} must be {what}")
        return value

    return check


def enum(choices: tuple[str, ...]) -> Check:
    def check(ctx: Ctx, name: str, value: Any) -> str:
        if value not in choices:
            raise errors.validation(name, f"{name} must be one of {', '.join(choices)}")
        return value

    return check


def boolean(ctx: Ctx, name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise errors.validation(name, f"{name} must be a boolean")
    return value


def events(ctx: Ctx, name: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise errors.validation(name, f"{name} must be a non-empty list of event names")
    for item in value:
        if item not in WEBHOOK_EVENTS:
            raise errors.validation(name, f"unknown event {item!r}")
    # Canonical order and no duplicates, so equal sets render equally.
    return [e for e in WEBHOOK_EVENTS if e in value]


def metadata(ctx: Ctx, name: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise errors.validation(name, f"{name} must be an object")
    for key, item in value.items():
        if item is not None and not isinstance(item, str | int | float | bool):
            raise errors.validation(name, f"{name}.{key} must be a string or a number")
    return value


def merge_metadata(old: Any, new: dict[str, Any]) -> dict[str, Any]:
    merged = dict(old or {})
    for key, item in new.items():
        if item is None:
            merged.pop(key, None)
        else:
            merged[key] = item
    return merged


PROFILE_KEYS = ("first_name", "last_name", "avatar_url")


def profile(ctx: Ctx, name: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise errors.validation(name, f"{name} must be an object")
    for key, item in value.items():
        if key not in PROFILE_KEYS:
            raise errors.validation(f"{name}.{key}", f"unknown field {name}.{key}", "unknown")
        if item is not None and not isinstance(item, str):
            raise errors.validation(f"{name}.{key}", f"{name}.{key} must be a string")
    return value


def merge_profile(old: Any, new: dict[str, Any]) -> dict[str, Any]:
    merged = {key: (old or {}).get(key) for key in PROFILE_KEYS}
    merged.update(new)
    return merged


def user_ref(ctx: Ctx, name: str, value: Any) -> str:
    user_id = ctx.state.style.ref_in("users", value, name)
    if user_id is None:
        raise errors.validation(name, f"{name} does not match any user")
    return user_id


def custom_properties(ctx: Ctx, name: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise errors.validation(name, f"{name} must be an object")
    for key, item in value.items():
        is_list = isinstance(item, list) and all(isinstance(v, str) for v in item)
        if not isinstance(item, str) and not is_list:
            raise errors.validation(name, f"{name}.{key} must be a string or a list of strings")
    return value


def actor(ctx: Ctx) -> str | None:
    return ctx.actor_id


EMAIL = pattern(EMAIL_RE, "a valid email address")

# ---------------------------------------------------------------------- specs

CONTACT_FIELDS = (
    FieldSpec("first_name", required_text(), required=True),
    FieldSpec("last_name", text()),
    FieldSpec("email", EMAIL, required=True),
    FieldSpec("phone", text(64)),
    FieldSpec("company", text()),
    FieldSpec("job_title", text()),
)
RESOURCE_FIELDS = (
    FieldSpec("name", required_text(), required=True),
    FieldSpec("description", text(2000)),
    FieldSpec("type", enum(RESOURCE_TYPES), required=True),
    FieldSpec("status", enum(RESOURCE_STATUSES), nullable=False, default="active"),
    FieldSpec("metadata", metadata, nullable=False, default=lambda ctx: {}, merge=merge_metadata),
    FieldSpec("owner_id", user_ref, nullable=False, default=actor),
)
ORGANIZATION_FIELDS = (
    FieldSpec("name", required_text(), required=True),
    FieldSpec("slug", pattern(SLUG_RE, "lowercase letters, digits and dashes"), required=True),
    FieldSpec("description", text(2000)),
)
WEBHOOK_FIELDS = (
    FieldSpec("url", pattern(URL_RE, "an http(s) URL"), required=True),
    FieldSpec("events", events, required=True),
    FieldSpec("active", boolean, nullable=False, default=True),
    FieldSpec("secret", text(), nullable=False, hidden=True),
)
ME_FIELDS = (
    FieldSpec("email", EMAIL, nullable=False),
    FieldSpec("username", pattern(USERNAME_RE, "3-40 letters, digits, _ . or -"), nullable=False),
    FieldSpec("profile", profile, nullable=False, merge=merge_profile),
)
REGISTER_FIELDS = (
    FieldSpec("email", EMAIL, required=True),
    FieldSpec("username", pattern(USERNAME_RE, "3-40 letters, digits, _ . or -"), required=True),
    FieldSpec("password", text(), required=True, hidden=True),
    FieldSpec(
        "profile",
        profile,
        nullable=False,
        default=lambda ctx: merge_profile(None, {}),
        merge=merge_profile,
    ),
)
MEMBER_FIELDS = (
    # Resolved by the handler through the style (string or integer ids; 404 if unknown).
    FieldSpec("user_id", lambda ctx, name, value: value, required=True),
    FieldSpec("role", enum(MEMBER_ROLES), required=True),
)
FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "contacts": CONTACT_FIELDS,
    "resources": RESOURCE_FIELDS,
    "organizations": ORGANIZATION_FIELDS,
    "webhooks": WEBHOOK_FIELDS,
}
CUSTOM_PROPERTIES = FieldSpec("custom_properties", custom_properties, nullable=False)


# ---------------------------------------------------------------------- entry points


@dataclass
class Validated:
    fields: dict[str, Any]
    hidden: dict[str, Any]
    custom_properties: dict[str, Any] | None = None


def body_object(body: Any) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise errors.validation("body", "Request body must be a JSON object")
    return body


def _specs_for(ctx: Ctx, specs: tuple[FieldSpec, ...], custom: bool) -> dict[str, FieldSpec]:
    table = {s.name: s for s in specs}
    if custom and ctx.state.style.shows_custom_properties:
        table[CUSTOM_PROPERTIES.name] = CUSTOM_PROPERTIES
    return table


def _reject_unknown(body: dict[str, Any], table: dict[str, FieldSpec]) -> None:
    for key in body:
        if key not in table:
            raise errors.validation(key, f"unknown field {key}", "unknown")


def validate_create(
    ctx: Ctx, specs: tuple[FieldSpec, ...], body: Any, *, custom: bool = False
) -> Validated:
    body = body_object(body)
    table = _specs_for(ctx, specs, custom)
    _reject_unknown(body, table)
    out = Validated(fields={}, hidden={})
    for spec in specs:
        value = body.get(spec.name)
        if value is None:
            if spec.required:
                raise errors.required(spec.name)
            if spec.name in body and not spec.nullable:
                raise errors.validation(spec.name, f"{spec.name} must not be null")
            value = spec.default(ctx) if callable(spec.default) else spec.default
        else:
            value = spec.check(ctx, spec.name, value)
            if spec.merge is not None:
                # Merging into nothing normalises (drops null metadata, fills profile keys).
                value = spec.merge(None, value)
        if spec.hidden:
            if value is not None:
                out.hidden[spec.name] = value
        else:
            out.fields[spec.name] = value
    if "custom_properties" in table:
        raw = body.get("custom_properties")
        out.custom_properties = (
            {} if raw is None else custom_properties(ctx, "custom_properties", raw)
        )
    return out


def validate_patch(
    ctx: Ctx,
    specs: tuple[FieldSpec, ...],
    body: Any,
    current: dict[str, Any],
    *,
    custom: bool = False,
) -> Validated:
    """The record's fields after applying ``body``; ``current`` is not modified."""
    body = body_object(body)
    table = _specs_for(ctx, specs, custom)
    _reject_unknown(body, table)
    out = Validated(fields=dict(current), hidden={})
    for spec in specs:
        if spec.name not in body:
            continue
        value = body[spec.name]
        if value is None:
            if spec.required or not spec.nullable:
                raise errors.validation(spec.name, f"{spec.name} must not be null")
        else:
            value = spec.check(ctx, spec.name, value)
            if spec.merge is not None:
                value = spec.merge(current.get(spec.name), value)
        if spec.hidden:
            out.hidden[spec.name] = value
        else:
            out.fields[spec.name] = value
    if "custom_properties" in table and "custom_properties" in body:
        raw = body["custom_properties"]
        if raw is None:
            raise errors.validation("custom_properties", "custom_properties must not be null")
        out.custom_properties = custom_properties(ctx, "custom_properties", raw)
    return out
