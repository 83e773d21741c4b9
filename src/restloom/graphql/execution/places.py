"""Where a completed value sits in the response, cheaply.

Every object and list item the plans complete has a place, but graphql-core needs it as
a `Path` only for an error, a fallback to `execute_field` or an await. A `Path` is a
NamedTuple built through a Python-level `__new__`: one per item and per object was 4% of
an executed 100-item query. Places are plain tuples until then.
"""

from __future__ import annotations

from typing import Any

from graphql.pyutils import Path

# A graphql-core Path, or the same as a plain tuple (prev, key, typename) whose prev is
# a Where; None at the root.
Where = Path | tuple[Any, str | int, str | None] | None


def path_of(where: Where) -> Path | None:
    """The graphql-core Path of `where`."""
    if where is None or type(where) is Path:
        return where  # type: ignore[return-value]
    prev, key, typename = where
    return Path(path_of(prev), key, typename)
