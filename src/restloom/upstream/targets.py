"""What an upstream path names: which collection, whose child, which object.

The cache needs this to pick a TTL for a GET and to know what a write made
stale. It reads the profile's path templates instead of asking every caller
to say it, so that a renamed path in a TOML profile needs nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from restloom.upstream.profile import Profile


@dataclass(frozen=True)
class Target:
    collection: str  # a key of `Profile.paths`, e.g. "contacts", "members", "me"
    parent_id: str | None = None  # the `{id}` of a nested path (an organization's members)
    object_id: str | None = None  # the segment after the collection path
    action: str | None = None  # a further segment, e.g. "test" in /webhooks/{id}/test


@lru_cache(maxsize=64)
def _pattern(template: str) -> re.Pattern[str]:
    collection = (
        re.escape(template.rstrip("/"))
        .replace(re.escape("{id}"), "(?P<parent>[^/]+)")
        .replace(re.escape("{member_id}"), "(?P<member>[^/]+)")
    )
    return re.compile(f"^{collection}(?:/(?P<object>[^/]+))?(?:/(?P<action>[^/]+))?$")


def locate(profile: Profile, path: str) -> Target | None:
    """The collection `path` belongs to; the longest matching template wins (/users/me).

    `path` is as `urls` built it: percent-encoded, maybe with a trailing slash; a
    filtered child list (`/memberships?organization={id}`) is matched by its path.
    """
    if not path.startswith(profile.prefix):
        return None
    rest = path[len(profile.prefix) :].rstrip("/")
    best: tuple[int, Target] | None = None
    for collection in profile.paths:
        template = profile.template(collection).path
        match = _pattern(template).match(rest)
        if match is None:
            continue
        groups = match.groupdict()
        # Fewer trailing segments means a more specific template: "/users/me"
        # over "/users" + object "me".
        extra = sum(1 for group in ("object", "action") if groups.get(group))
        score = len(template) - 1000 * extra
        if best is None or score > best[0]:
            object_id = groups.get("member") or groups["object"]
            target = Target(collection, groups.get("parent"), object_id, groups["action"])
            best = (score, target)
    return best[1] if best else None


# Collections that change together whatever their paths look like: a member list that
# is a filtered collection is still an organization's (its member_count), and "me" is
# a user.
_LINKED: dict[str, tuple[str, ...]] = {
    "members": ("organizations", "membership"),
    "membership": ("organizations", "members"),
    "organizations": ("members", "membership"),
    "me": ("users",),
    "users": ("me",),
}


def related(profile: Profile, collection: str) -> frozenset[str]:
    """`collection` and every collection nested in it or containing it.

    A change to an organization can change its member lists, a new member
    changes the organization's `member_count`, and `/users/me` is a user.
    """
    own = profile.template(collection).path.rstrip("/")
    out = {collection, *(c for c in _LINKED.get(collection, ()) if c in profile.paths)}
    for other in profile.paths:
        # Whole segments only: "/contacts" does not contain "/contacts_archive".
        theirs = profile.template(other).path.rstrip("/")
        if theirs.startswith(own + "/") or own.startswith(theirs + "/"):
            out.add(other)
    return frozenset(out)
