"""An upstream path as its route template: `/contacts/cnt_1` -> `/contacts/{id}`.

Metrics label calls by route, not path: ids in labels would make one time series
per object. The templates come from the profile (via `targets.locate`), so a path
restloom did not build from one is `(other)`, never itself.
"""

from __future__ import annotations

import re

from restloom.upstream.profile import Profile
from restloom.upstream.targets import Target, locate

UNMATCHED = "(other)"

# A trailing segment restloom writes itself ("test" in /webhooks/{id}/test); anything
# else there is shown as a placeholder rather than trusted as a label.
_ACTION = re.compile(r"^[a-z][a-z_-]{0,31}$")
# Collections whose next segment is an action word, not an object id.
_WORDS = frozenset({"auth"})


def route_of(profile: Profile, path: str) -> str:
    """The route template below the profile's prefix, e.g. `/organizations/{id}/members`."""
    return route_for(profile, locate(profile, path))


def route_for(profile: Profile, target: Target | None) -> str:
    """`route_of` for a path already located."""
    if target is None:
        return UNMATCHED
    route = profile.template(target.collection).path.rstrip("/") or "/"
    if target.collection in _WORDS and target.object_id and _ACTION.match(target.object_id):
        route += "/" + target.object_id  # /auth/login: a word, not an id
    elif target.object_id is not None:
        route += "/{member_id}" if "{id}" in route else "/{id}"
    if target.action is not None:
        route += "/" + (target.action if _ACTION.match(target.action) else "{action}")
    return route
