"""Upstream profiles: how one REST API style spells auth, paging, sorting and errors.

A profile is data, not code. The gateway's behaviour is the same for every
upstream; only the wire details below differ between the seed documents'
styles. Built-in profiles live in `BUILTIN_PROFILES`; the settings file may
extend one of them or describe a new one field by field.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


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
    """Dotted paths into an error body; a missing path yields None."""

    code_path: str = "error.code"
    message_path: str = "error.message"
    field_path: str = "error.field"


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
    # Single objects come wrapped as {"data": {...}}; None means a bare object.
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

MOSSDESK = Profile(name="mossdesk")

BUILTIN_PROFILES: dict[str, Profile] = {"mossdesk": MOSSDESK}
