"""Upstream profiles: how one REST API style spells auth, paging, sorting, ids and errors.

A profile is data, not code. The gateway's behaviour is the same for every
upstream; only the wire details below differ between the seed documents'
styles and the REST frameworks restloom fronts. Built-in profiles live in
`BUILTIN_PROFILES`; the settings file may extend one of them or describe a new
one field by field.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from pydantic import Field, field_validator, model_validator

from restloom.upstream.featurespecs import JobsSpec, OrgUnitsSpec, SessionSpec
from restloom.upstream.specs import (
    AuthScheme,
    AuthSpec,
    BatchSpec,
    BatchStyle,
    ErrorSpec,
    ErrorStyle,
    IdType,
    PaginationSpec,
    PaginationStyle,
    RateLimitSpec,
    SortSpec,
    SortStyle,
    SpecModel,
)
from restloom.upstream.templates import TEMPLATE_PATH, Template, cached_template, parse_template

# The parts live in `specs`; importable from here as before.
__all__ = [
    "BUILTIN_PROFILES",
    "MOCO",
    "MOSSDESK",
    "TEMPLATE",
    "AuthScheme",
    "AuthSpec",
    "BatchSpec",
    "BatchStyle",
    "ErrorSpec",
    "ErrorStyle",
    "IdType",
    "PaginationSpec",
    "PaginationStyle",
    "Profile",
    "RateLimitSpec",
    "SortSpec",
    "SortStyle",
    "UnknownBaseProfile",
    "profile_from_table",
]

# Default id formats. Neither lets through a character that could change a path or a
# query (`/ . % ? # &`, spaces), and both are bounded in length.
STRING_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}"
INTEGER_ID_PATTERN = r"[0-9]{1,18}"
# Ids that must never be a path segment, whatever a profile's pattern says.
_FORBIDDEN_IDS = ("", ".", "..")


@functools.lru_cache(maxsize=64)
def compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


class Profile(SpecModel):
    name: str
    prefix: str = "/api/v1"
    auth: AuthSpec = AuthSpec()
    pagination: PaginationSpec = PaginationSpec()
    sort: SortSpec = SortSpec()
    errors: ErrorSpec = ErrorSpec()
    batch: BatchSpec | None = BatchSpec()
    id_type: IdType = IdType.STRING
    # A regular expression every id must match in full before it goes into a URL.
    # Unset: STRING_ID_PATTERN or INTEGER_ID_PATTERN, after `id_type`.
    id_pattern: str = ""
    # Every collection and object path ends in "/" (Django REST Framework's routers).
    trailing_slash: bool = Field(False, strict=True)
    # Dotted path to a single object in its body, e.g. "data"; "" (or None) means bare.
    item_key: str | None = "data"
    # Collection name -> path below the prefix; `{id}` is the parent's id. `members` is
    # nested ("/organizations/{id}/members") or filtered ("/memberships?organization={id}");
    # the optional `membership` ("/memberships/{member_id}") removes one member of the
    # filtered form by the membership's own id.
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
    # Collections this upstream does not have, e.g. ["resources", "webhooks", "auth"]
    # (`paths.NAME = ""` says the same). Any field or mutation on one is BAD_USER_INPUT
    # "not supported by this upstream", and nothing is sent.
    absent: tuple[str, ...] = ()
    # Logical filter name -> query parameter name; a filter missing here (or mapped to
    # "") is not supported by this upstream, and using it is BAD_USER_INPUT.
    filter_params: dict[str, str] = {
        "status": "filter[status]",
        "type": "filter[type]",
        "search": "search",
        "role": "role",
        "updated_after": "updated_after",
    }
    # Per-collection exceptions to `filter_params`: collection -> {filter -> parameter},
    # e.g. {"members": {"updated_after": "joined_at__gt"}}; "" there says this one
    # collection lacks a filter the others have.
    collection_filters: dict[str, dict[str, str]] = {}
    # Input fields (snake_case, e.g. "custom_properties") the upstream does not take.
    unsupported_fields: tuple[str, ...] = ()
    rate_limit: RateLimitSpec | None = None
    # Skip caching responses marked `Cache-Control: no-store`, `no-cache` or `private`,
    # and cap the TTL at `max-age`.
    honour_cache_control: bool = True
    # Map fields that a PATCH replaces wholesale (keys not sent are removed, like
    # MOCO's custom_properties): restloom reads the current map and sends it merged.
    replace_on_patch: tuple[str, ...] = ()
    # Features only some upstreams have (restloom.upstream.featurespecs); None: absent,
    # and the GraphQL fields built on them say "not supported by this upstream".
    org_units: OrgUnitsSpec | None = None
    jobs: JobsSpec | None = None
    session: SessionSpec | None = None

    # TOML has no null: an empty string (or `batch = false`) says "none".
    _empty_is_none = field_validator("item_key")(lambda value: value or None)
    # `org_units = false` (likewise jobs, session) in a profile that extends one with it.
    _false_is_none = field_validator("batch", "org_units", "jobs", "session", mode="before")(
        lambda value: None if value is False else value
    )

    @field_validator("prefix")
    @classmethod
    def _prefix_is_a_path(cls, value: str) -> str:
        value = value.rstrip("/")
        if value and not TEMPLATE_PATH.match(value):
            raise ValueError(f"prefix {value!r} must be empty or /-separated URL-safe segments")
        return value

    @field_validator("unsupported_fields")
    @classmethod
    def _field_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [name for name in value if not re.fullmatch(r"[a-z][a-z0-9_]*", name)]
        if bad:
            raise ValueError(f"unsupported_fields takes snake_case input field names, not {bad}")
        return value

    @field_validator("filter_params")
    @classmethod
    def _filter_names(cls, value: dict[str, str]) -> dict[str, str]:
        return _known_filters(value)

    @field_validator("collection_filters")
    @classmethod
    def _collection_filter_names(
        cls, value: dict[str, dict[str, str]]
    ) -> dict[str, dict[str, str]]:
        collections = (*REQUIRED_PATHS, *OPTIONAL_PATHS)
        for collection, filters in value.items():
            if collection not in collections:
                known = ", ".join(collections)
                raise ValueError(f"unknown collection {collection!r} (known: {known})")
            _known_filters(filters)
        return value

    @model_validator(mode="before")
    @classmethod
    def _id_pattern_default(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("id_pattern"):
            integer = str(data.get("id_type", "")) == IdType.INTEGER.value
            data = {**data, "id_pattern": INTEGER_ID_PATTERN if integer else STRING_ID_PATTERN}
        return data

    @field_validator("id_pattern")
    @classmethod
    def _id_pattern_is_safe(cls, value: str) -> str:
        try:
            pattern = compiled(value)
        except re.error as exc:
            raise ValueError(f"id_pattern {value!r} is not a regular expression: {exc}") from None
        bad = [repr(s) for s in _FORBIDDEN_IDS if pattern.fullmatch(s)]
        if bad:
            raise ValueError(f"id_pattern {value!r} must not match {', '.join(bad)}")
        return value

    @model_validator(mode="before")
    @classmethod
    def _absent_paths(cls, data: Any) -> Any:
        """`paths.NAME = ""` joins `absent`, and an absent collection keeps no path."""
        if not isinstance(data, dict):
            return data
        paths = data.get("paths", cls.model_fields["paths"].default)
        absent = data.get("absent", ())
        if not isinstance(paths, dict) or not isinstance(absent, list | tuple):
            return data  # the fields' own validation says what is wrong
        names = [*absent, *(name for name, path in paths.items() if path == "")]
        if "organizations" in names:
            names += ["members", "membership"]  # no organizations, no member lists
        gone = tuple(dict.fromkeys(names))
        kept = {name: path for name, path in paths.items() if name not in gone}
        return {**data, "paths": kept, "absent": gone}

    @field_validator("absent")
    @classmethod
    def _absentable(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if name in NEEDED_PATHS:
                needed = ", ".join(NEEDED_PATHS)
                raise ValueError(f"{name} cannot be absent: restloom needs {needed}")
            if name not in (*REQUIRED_PATHS, *OPTIONAL_PATHS):
                raise ValueError(f"unknown collection {name!r} in absent")
        return value

    @model_validator(mode="after")
    def _paths_complete(self) -> Profile:
        missing = sorted(set(REQUIRED_PATHS) - set(self.paths) - set(self.absent))
        if missing:
            raise ValueError(f"paths is missing {', '.join(missing)}")
        unknown = sorted(set(self.paths) - set(REQUIRED_PATHS) - set(OPTIONAL_PATHS))
        if unknown:
            raise ValueError(f"paths has unknown entries {', '.join(unknown)}")
        templates = {name: parse_template(name, text) for name, text in self.paths.items()}
        for name, template in templates.items():
            if (name == "members") != template.has_parent:
                raise ValueError(
                    "paths.members must contain {id} (the organization id)"
                    if name == "members"
                    else f"paths.{name} must not contain {{id}}"
                )
            if (name == "membership") != ("{member_id}" in template.path):
                raise ValueError(
                    "paths.membership must contain {member_id}"
                    if name == "membership"
                    else f"paths.{name} must not contain {{member_id}}"
                )
        return self

    @property
    def id_regex(self) -> re.Pattern[str]:
        return compiled(self.id_pattern)

    def template(self, collection: str) -> Template:
        return cached_template(self.paths[collection])

    def filter_param(self, collection: str, name: str) -> str | None:
        """The query parameter of filter `name` on `collection`; None: not supported there."""
        override = self.collection_filters.get(collection, {})
        param = override[name] if name in override else self.filter_params.get(name)
        return param or None

    def path(self, collection: str) -> str:
        """The full path of a collection without a parent (e.g. "me", for readiness probes)."""
        from restloom.upstream.urls import collection_path  # urls builds every path

        return collection_path(self, collection).path


# The logical filters restloom's schema offers; `filter_params` maps them to parameters.
FILTERS = ("status", "type", "search", "role", "updated_after")


def _known_filters(value: dict[str, str]) -> dict[str, str]:
    unknown = sorted(set(value) - set(FILTERS))
    if unknown:
        raise ValueError(f"unknown filters {', '.join(unknown)} (known: {', '.join(FILTERS)})")
    return value


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
OPTIONAL_PATHS = ("membership",)
# Collections no profile may mark absent: the start-up check lists contacts, the
# readiness probe reads me, and member lists and the viewer are users.
NEEDED_PATHS = ("contacts", "users", "me")

# Seeds 000 + 004: X-API-Key, {data, meta} envelope, sort + order, filter[id] batch lookup.
# The upstream has no custom properties: it refuses the field in every write.
MOSSDESK = Profile(name="mossdesk", unsupported_fields=("custom_properties",))

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
    session=SessionSpec(),
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
    unsupported_fields=("custom_properties",),
    rate_limit=RateLimitSpec(requests=100, per_seconds=60),
    org_units=OrgUnitsSpec(),
    jobs=JobsSpec(),
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
        if "id_type" in fields and "id_pattern" not in fields:
            # A new id type without a pattern takes that type's default, not the base's.
            base.pop("id_pattern", None)
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
