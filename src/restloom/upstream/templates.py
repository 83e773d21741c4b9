"""Path templates of a profile: `/organizations/{id}/members`, `/memberships?organization={id}`.

A template is literal URL-safe segments and placeholders (`{id}`, the parent's id;
`{member_id}`, a membership's own id), plus at most one query parameter carrying
the parent's id, for a child list that is its parent collection filtered. Only
`urls` fills them in.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

# Literal segments may not start with "." (no dot segments), and carry no "%", "?" or "#".
TEMPLATE_PATH = re.compile(r"^(/(?:[A-Za-z0-9_~-][A-Za-z0-9._~-]*|\{id\}|\{member_id\}))+/?$")
_QUERY_PART = re.compile(r"^([A-Za-z0-9_.\[\]-]+)=\{id\}$")


@dataclass(frozen=True)
class Template:
    """A path template split into its path and (for a filtered child list) its parent param."""

    path: str  # e.g. "/organizations/{id}/members" or "/memberships"
    parent_param: str | None = None  # e.g. "organization" in "/memberships?organization={id}"

    @property
    def has_parent(self) -> bool:
        return "{id}" in self.path or self.parent_param is not None


def parse_template(name: str, text: str) -> Template:
    """`text` as a template; `ValueError` naming `paths.<name>` when it is not one."""
    path, sep, query = text.partition("?")
    if not TEMPLATE_PATH.match(path):
        raise ValueError(
            f"paths.{name} = {text!r}: a path is /-separated segments of letters, digits, "
            "'-', '_', '.', '~' (not starting with '.'), and {id}"
        )
    if not sep:
        return Template(path=path.rstrip("/") or "/")
    match = _QUERY_PART.match(query)
    if match is None or "{id}" in path:
        raise ValueError(
            f"paths.{name} = {text!r}: the only query a path may carry is one "
            "`param={id}` naming the parent"
        )
    return Template(path=path.rstrip("/") or "/", parent_param=match.group(1))


@functools.lru_cache(maxsize=256)
def cached_template(text: str) -> Template:
    """A template already validated with its profile, parsed once per process."""
    return parse_template("", text)
