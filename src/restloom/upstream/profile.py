"""Upstream profiles: how one REST API style spells auth, paging, sorting and errors.

A profile is data, not code. The gateway's behaviour is the same for every
upstream; only the wire details below differ between the seed documents'
styles. Built-in profiles live in `BUILTIN_PROFILES`; the settings file may
extend one of them or describe a new one field by field.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Model(BaseModel):
    # Unknown keys in a TOML profile are typos; reject them so the user hears about it.
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuthScheme(StrEnum):
    """How the upstream expects an API key (bearer tokens are always `Bearer`)."""

    API_KEY_HEADER = "api_key_header"  # X-API-Key: KEY (seed 000)
    TOKEN = "token"  # Authorization: Token token=KEY (seed 001)
    BASIC = "basic"  # Authorization: Basic base64(KEY:) (seed 003)
    BEARER = "bearer"  # Authorization: Bearer KEY


class AuthSpec(_Model):
    scheme: AuthScheme = AuthScheme.API_KEY_HEADER
    key_header: str = "X-API-Key"
    impersonate_header: str = "X-IMPERSONATE-USER-ID"


class PaginationStyle(StrEnum):
    ENVELOPE = "envelope"  # {"data": [...], "meta": {"page", "per_page", "total", "total_pages"}}
    HEADERS = "headers"  # bare array, X-Page / X-Per-Page / X-Total / Link rel="next"
    BODY = "body"  # {"data": [...], "total", "page", "limit"}


class PaginationSpec(_Model):
    style: PaginationStyle = PaginationStyle.ENVELOPE
    page_param: str = "page"
    size_param: str = "per_page"
    default_size: int = Field(25, ge=1)
    max_size: int = Field(250, ge=1)
    items_key: str = "data"  # envelope and body styles
    total_path: str = "meta.total"  # envelope and body styles: dotted path to the total
    total_header: str = "X-Total"  # headers style

    @model_validator(mode="after")
    def _default_within_max(self) -> PaginationSpec:
        if self.default_size > self.max_size:
            raise ValueError("default_size must not exceed max_size")
        return self


class SortStyle(StrEnum):
    FIELD_AND_ORDER = "field_and_order"  # sort=created_at&order=desc (seed 000)
    FIELD_SPACE_DIRECTION = "field_space_direction"  # sort_by=created_at desc (seed 001)
    SIGNED = "signed"  # sort=-created_at (seeds 003/004)


class SortSpec(_Model):
    style: SortStyle = SortStyle.FIELD_AND_ORDER
    param: str = "sort"
    order_param: str = "order"


class BatchSpec(_Model):
    """Lookup of many objects by id in one list request, e.g. `filter[id]=a,b,c`."""

    param: str = "filter[id]"
    separator: str = ","
    max_ids: int = Field(100, ge=1)


class ErrorSpec(_Model):
    """Dotted paths into an error body; a path that is missing there (or empty here) yields None."""

    code_path: str | None = "error.code"
    message_path: str | None = "error.message"
    field_path: str | None = "error.field"

    _empty_is_none = field_validator("code_path", "message_path", "field_path")(
        lambda value: value or None
    )


class IdType(StrEnum):
    STRING = "string"
    INTEGER = "integer"


class RateLimitSpec(_Model):
    requests: int = Field(ge=1)
    per_seconds: float = Field(gt=0)


class Profile(_Model):
    name: str
    prefix: str = "/api/v1"
    auth: AuthSpec = AuthSpec()
    pagination: PaginationSpec = PaginationSpec()
    sort: SortSpec = SortSpec()
    errors: ErrorSpec = ErrorSpec()
    batch: BatchSpec | None = BatchSpec()
    id_type: IdType = IdType.STRING
    # Single objects come wrapped as {"data": {...}}; None (or "" in TOML) means a bare object.
    item_key: str | None = "data"
    # Collection name -> path below the prefix; `{id}` is the parent's id.
    paths: dict[str, str] = {
        "contacts": "/contacts",
        "resources": "/resources",
        "users": "/users",
        "me": "/users/me",
        "organizations": "/organizations",
        "members": "/organizations/{id}/members",
        "webhooks": "/webhooks",
        "auth": "/auth",
    }
    # Logical filter name -> query parameter name.
    filter_params: dict[str, str] = {
        "status": "filter[status]",
        "type": "filter[type]",
        "search": "search",
        "role": "role",
        "updated_after": "updated_after",
    }
    rate_limit: RateLimitSpec | None = None
    # Skip caching responses marked `Cache-Control: no-store`, `no-cache` or `private`,
    # and cap the TTL at `max-age`.
    honour_cache_control: bool = True
    # Map fields that a PATCH replaces wholesale (keys not sent are removed, like
    # MOCO's custom_properties): restloom reads the current map and sends it merged.
    replace_on_patch: tuple[str, ...] = ()

    # TOML has no null: an empty string (or `batch = false`) says "none".
    _empty_is_none = field_validator("item_key")(lambda value: value or None)
    _false_is_none = field_validator("batch", mode="before")(
        lambda value: None if value is False else value
    )

    @model_validator(mode="after")
    def _paths_complete(self) -> Profile:
        missing = sorted(set(REQUIRED_PATHS) - set(self.paths))
        if missing:
            raise ValueError(f"paths is missing {', '.join(missing)}")
        if "{id}" not in self.paths["members"]:
            raise ValueError("paths.members must contain {id} (the organization id)")
        return self

    def path(self, collection: str, parent_id: str | None = None) -> str:
        template = self.paths[collection]
        return self.prefix + (template.replace("{id}", parent_id) if parent_id else template)


REQUIRED_PATHS = (
    "contacts",
    "resources",
    "users",
    "me",
    "organizations",
    "members",
    "webhooks",
    "auth",
)

# Seeds 000 + 004: X-API-Key, {data, meta} envelope, sort + order, filter[id] batch lookup.
MOSSDESK = Profile(name="mossdesk")

# Seeds 001/002: Token auth, header pagination, sort_by, integer ids, bare bodies.
MOCO = Profile(
    name="moco",
    auth=AuthSpec(scheme=AuthScheme.TOKEN),
    pagination=PaginationSpec(
        style=PaginationStyle.HEADERS, default_size=100, max_size=100, total_header="X-Total"
    ),
    sort=SortSpec(style=SortStyle.FIELD_SPACE_DIRECTION, param="sort_by"),
    errors=ErrorSpec(code_path=None, message_path="message", field_path="field"),
    batch=None,
    id_type=IdType.INTEGER,
    item_key=None,
    filter_params={
        "status": "status",
        "type": "type",
        "search": "search",
        "role": "role",
        "updated_after": "updated_after",
    },
    rate_limit=RateLimitSpec(requests=15, per_seconds=15),
    replace_on_patch=("custom_properties",),
)

# Seed 003: HTTP Basic, page + limit with {data, total, page, limit}, flat error bodies.
TEMPLATE = Profile(
    name="template",
    prefix="/v1",
    auth=AuthSpec(scheme=AuthScheme.BASIC),
    pagination=PaginationSpec(
        style=PaginationStyle.BODY, size_param="limit", max_size=100, total_path="total"
    ),
    sort=SortSpec(style=SortStyle.SIGNED),
    errors=ErrorSpec(code_path="error", message_path="message", field_path="details.field"),
    batch=BatchSpec(param="ids"),
    item_key=None,
    rate_limit=RateLimitSpec(requests=100, per_seconds=60),
)

BUILTIN_PROFILES: dict[str, Profile] = {p.name: p for p in (MOSSDESK, MOCO, TEMPLATE)}


def profile_from_table(name: str, table: dict[str, Any]) -> Profile:
    """A profile written in the settings file, from scratch or `extends = "<built-in>"`.

    Tables merge key by key into the base profile, so `[profiles.x.paths]` with
    one entry renames one path and keeps the others. Raises `UnknownBaseProfile`
    or pydantic's `ValidationError`, whose locations name the field.
    """
    fields = dict(table)
    base_name = fields.pop("extends", None)
    base: dict[str, Any] = {}
    if base_name is not None:
        if base_name not in BUILTIN_PROFILES:
            raise UnknownBaseProfile(base_name)
        base = BUILTIN_PROFILES[base_name].model_dump(mode="json")
    return Profile.model_validate({**_merge(base, fields), "name": name})


class UnknownBaseProfile(ValueError):
    def __init__(self, base_name: str) -> None:
        known = ", ".join(sorted(BUILTIN_PROFILES))
        super().__init__(f"unknown built-in profile {base_name!r} (known: {known})")


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged
