"""Every upstream path and its query, built in one place from the profile's templates.

Ids are data, never paths: each one is checked against the profile's id pattern
(and refused outright when it is `.` or `..` or too long) and then quoted as
exactly one path segment, so no character of it can change the path or the query.
The GraphQL layer checks ids first and names the argument; the checks here are
the second line, for ids that come from anywhere else (an upstream's own answer).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from restloom.upstream.errors import Unsupported
from restloom.upstream.profile import Profile
from restloom.upstream.templates import Template

Params = tuple[tuple[str, str], ...]

# No upstream id is longer; matching a pattern against megabytes would be a cost.
MAX_ID_LENGTH = 256
AUTH_ACTIONS = frozenset({"login", "refresh", "logout", "register"})
OBJECT_ACTIONS = frozenset({"test"})


# What a caller asked for, when the profile marks that collection absent.
_ABSENT_NAMES = {
    "resources": "resources are",
    "webhooks": "webhooks are",
    "auth": "authentication endpoints are",
    "organizations": "organizations are",
    "members": "organization members are",
    "membership": "removing organization members is",
}


@dataclass(frozen=True)
class UpstreamPath:
    """A percent-encoded path below the upstream's base URL, prefix included, and the
    query parameters the path itself carries (the parent of a filtered child list)."""

    path: str
    params: Params = ()


def valid_id(profile: Profile, value: object) -> bool:
    """Whether `value` is an id of this upstream: a string matching its pattern in full."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_ID_LENGTH
        and value not in (".", "..")
        and profile.id_regex.fullmatch(value) is not None
    )


def require_id(profile: Profile, value: str, argument: str = "id") -> str:
    """`value` if it is an id of this upstream; otherwise `Unsupported` naming `argument`."""
    if not valid_id(profile, value):
        shown = value if len(value) <= 80 else value[:77] + "..."
        raise Unsupported(f"{shown!r} is not a valid id for this upstream", argument)
    return value


def _segment(profile: Profile, value: str, argument: str) -> str:
    # safe="" quotes "/" too; "." survives quoting, which is why `valid_id` refuses "." and "..".
    return quote(require_id(profile, value, argument), safe="")


def _template(profile: Profile, collection: str) -> Template:
    """The collection's template; `Unsupported` (nothing sent) when the profile marks it absent."""
    if collection in profile.absent:
        what = _ABSENT_NAMES.get(collection, f"{collection} is")
        raise Unsupported(f"{what} not supported by this upstream")
    return profile.template(collection)


def _finish(profile: Profile, path: str, params: Params = ()) -> UpstreamPath:
    full = profile.prefix + path
    if profile.trailing_slash and not full.endswith("/"):
        full += "/"
    return UpstreamPath(full, params)


def _top_level(profile: Profile, collection: str) -> str:
    template = _template(profile, collection)
    if template.has_parent:
        raise ValueError(f"{collection} needs a parent id")
    return template.path.rstrip("/")


def collection_path(
    profile: Profile, collection: str, parent_id: str | None = None
) -> UpstreamPath:
    """A collection, or a child list of `parent_id` (nested or filtered by a parameter)."""
    if parent_id is None:
        return _finish(profile, _top_level(profile, collection))
    template = _template(profile, collection)
    if template.parent_param is not None:
        require_id(profile, parent_id, "id")
        return _finish(profile, template.path, ((template.parent_param, parent_id),))
    if "{id}" not in template.path:
        raise ValueError(f"{collection} has no parent")
    return _finish(profile, template.path.replace("{id}", _segment(profile, parent_id, "id")))


def object_path(
    profile: Profile,
    collection: str,
    object_id: str,
    *,
    action: str | None = None,
    argument: str = "id",
) -> UpstreamPath:
    """One object of a top-level collection, or an action on it (`/webhooks/{id}/test`)."""
    path = _top_level(profile, collection) + "/" + _segment(profile, object_id, argument)
    if action is not None:
        if action not in OBJECT_ACTIONS:
            raise ValueError(f"unknown object action {action!r}")
        path += "/" + action
    return _finish(profile, path)


def member_path(profile: Profile, organization_id: str, user_id: str) -> UpstreamPath:
    """One member of a nested member list: `/organizations/{id}/members/{user_id}`."""
    template = _template(profile, "members")
    if template.parent_param is not None:
        raise ValueError("members is a filtered collection: remove by membership id")
    parent = template.path.replace("{id}", _segment(profile, organization_id, "organization_id"))
    return _finish(profile, parent.rstrip("/") + "/" + _segment(profile, user_id, "user_id"))


def membership_path(profile: Profile, membership_id: str) -> UpstreamPath:
    """One membership by its own id, for member lists that are a filtered collection."""
    template = _template(profile, "membership")
    segment = _segment(profile, membership_id, "user_id")
    return _finish(profile, template.path.replace("{member_id}", segment))


def auth_path(profile: Profile, action: str) -> UpstreamPath:
    if action not in AUTH_ACTIONS:
        raise ValueError(f"unknown auth action {action!r}")
    return _finish(profile, _top_level(profile, "auth") + "/" + action)


def fixed_path(profile: Profile, path: str, object_id: str | None = None) -> str:
    """A path the profile names outright (org units, jobs, the session), or one object
    below it (`/jobs/{id}`), finished like every other path (prefix, trailing slash)."""
    full = path.rstrip("/")
    if object_id is not None:
        full += "/" + _segment(profile, object_id, "id")
    return _finish(profile, full).path


def members_are_filtered(profile: Profile) -> bool:
    """Whether the member list is the membership collection filtered by a parameter."""
    # A predicate, asked by the cost walk too: an absent member list is not filtered (the
    # path builders refuse it).
    return "members" in profile.paths and profile.template("members").parent_param is not None


# What `urlencode` leaves as it is: ASCII letters, digits and `_.-~` (its quote_plus
# quotes everything else, a space as `+`).
_UNQUOTED = re.compile(r"[A-Za-z0-9_.~-]*")


def query_string(params: Iterable[tuple[str, str]]) -> str:
    """`urlencode(params)`; without its quoting calls when nothing needs quoting.

    The usual query (`page=1&per_page=10&sort=created_at`) needs none, and urlencode's
    quote call per name and value was 2% of the nested query's CPU (~29 upstream calls).
    Whether a character is quoted does not depend on its neighbours, so one match over
    all names and values together tells.
    """
    pairs = tuple(params)
    try:
        plain = _UNQUOTED.fullmatch("".join([name + value for name, value in pairs]))
    except TypeError:  # not str: urlencode's str() of it
        plain = None
    if plain is None:
        return urlencode(pairs)
    return "&".join([name + "=" + value for name, value in pairs])
