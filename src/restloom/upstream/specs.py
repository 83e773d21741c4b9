"""The parts of an upstream profile: auth, pagination, sort, batch lookup, errors, ids.

Each is a small frozen model that a TOML profile fills in field by field;
`restloom.upstream.profile` puts them together (and re-exports them).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class SpecModel(BaseModel):
    # Unknown keys in a TOML profile are typos; reject them so the user hears about it.
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuthScheme(StrEnum):
    """How the upstream expects an API key (caller bearer tokens always go as `Bearer`)."""

    API_KEY_HEADER = "api_key_header"  # X-API-Key: KEY (seed 000)
    TOKEN = "token"  # Authorization: Token token=KEY (seed 001)
    TOKEN_PLAIN = "token_plain"  # Authorization: Token KEY (Django REST Framework)
    BASIC = "basic"  # Authorization: Basic base64(KEY:) (seed 003)
    BEARER = "bearer"  # Authorization: Bearer KEY
    NONE = "none"  # no credential at all: callers need none, and none is sent


class AuthSpec(SpecModel):
    scheme: AuthScheme = AuthScheme.API_KEY_HEADER
    key_header: str = "X-API-Key"
    impersonate_header: str = "X-IMPERSONATE-USER-ID"

    @property
    def requires_credential(self) -> bool:
        return self.scheme is not AuthScheme.NONE


class PaginationStyle(StrEnum):
    ENVELOPE = "envelope"  # {"data": [...], "meta": {"page", "per_page", "total", "total_pages"}}
    HEADERS = "headers"  # the total in a header (X-Total, X-Total-Count), Link rel="next"
    BODY = "body"  # {"data": [...], "total", "page", "limit"}


class PaginationSpec(SpecModel):
    style: PaginationStyle = PaginationStyle.ENVELOPE
    page_param: str = "page"
    size_param: str = "per_page"
    default_size: int = Field(25, ge=1)
    max_size: int = Field(250, ge=1, le=10_000)
    # The number of the first page: 1 for most upstreams, 0 for some.
    first_page: int = Field(1, ge=0, le=1)
    # Dotted path to the item list; "" means the body itself is the list. Unset: "" for
    # the headers style, "data" otherwise.
    items_key: str = ""
    # Dotted path to the total in the body (envelope and body styles).
    total_path: str = Field("meta.total", min_length=1)
    # The total's header (headers style, e.g. json-server's X-Total-Count); without it in
    # an answer, Link rel="next" tells whether more pages follow.
    total_header: str = Field("X-Total", min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _items_key_default(cls, data: Any) -> Any:
        if isinstance(data, dict) and "items_key" not in data:
            headers = str(data.get("style", "")) == PaginationStyle.HEADERS.value
            data = {**data, "items_key": "" if headers else "data"}
        return data

    @model_validator(mode="after")
    def _default_within_max(self) -> PaginationSpec:
        if self.default_size > self.max_size:
            raise ValueError("default_size must not exceed max_size")
        return self


class SortStyle(StrEnum):
    # sort=created_at&order=desc (seed 000); json-server 0.17: param "_sort", order_param "_order"
    FIELD_AND_ORDER = "field_and_order"
    FIELD_SPACE_DIRECTION = "field_space_direction"  # sort_by=created_at desc (seed 001)
    SIGNED = "signed"  # sort=-created_at (seeds 003/004, DRF's OrderingFilter)
    NONE = "none"  # the upstream cannot sort: lists come in its own order


class SortSpec(SpecModel):
    style: SortStyle = SortStyle.FIELD_AND_ORDER
    param: str = "sort"
    order_param: str = "order"
    # The upstream field names it can sort by; None: every field the schema offers.
    fields: tuple[str, ...] | None = None


class BatchStyle(StrEnum):
    JOINED = "joined"  # filter[id]=a,b,c
    REPEATED = "repeated"  # id=a&id=b&id=c (json-server)


class BatchSpec(SpecModel):
    """Lookup of many objects by id in one list request, e.g. `filter[id]=a,b,c`."""

    param: str = "filter[id]"
    style: BatchStyle = BatchStyle.JOINED
    separator: str = Field(",", min_length=1)
    max_ids: int = Field(100, ge=1)


class ErrorStyle(StrEnum):
    PATHS = "paths"  # code, message and field at the dotted paths below
    # Django REST Framework's validation errors: the field is the body's key and the
    # message the first in its list, {"email": ["Enter a valid email address."]}.
    FIELD_KEYS = "field_keys"


class ErrorSpec(SpecModel):
    """Dotted paths into an error body; a path that is missing there (or empty here) yields None.

    With `style = "field_keys"`, a body whose paths give no message is read as a map of
    field name -> messages instead (see `errors.field_keyed`).
    """

    style: ErrorStyle = ErrorStyle.PATHS
    code_path: str | None = "error.code"
    message_path: str | None = "error.message"
    field_path: str | None = "error.field"

    _empty_is_none = field_validator("code_path", "message_path", "field_path")(
        lambda value: value or None
    )


class IdType(StrEnum):
    STRING = "string"
    INTEGER = "integer"


class RateLimitSpec(SpecModel):
    requests: int = Field(ge=1)
    per_seconds: float = Field(gt=0)
