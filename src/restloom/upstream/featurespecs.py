"""Profile sections for features only some upstreams have: org units, async jobs, a session.

Each is optional on a profile; None there means the upstream lacks the feature and
the GraphQL fields built on it answer a clear "not supported by this upstream" error.
Paths are below the profile's prefix, like the collection paths.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator

from restloom.upstream.templates import TEMPLATE_PATH


def _path(value: str) -> str:
    if not TEMPLATE_PATH.match(value) or "{" in value:
        raise ValueError(f"{value!r} must be /-separated URL-safe segments without placeholders")
    return value.rstrip("/")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OrgUnitsSpec(_Spec):
    """Organizational units (seed 003): data filtered by the credential's active OU."""

    list_path: str = "/org-units"  # GET: the OUs the credential may use ({data: [...]})
    active_path: str = "/org-units/active"  # GET: the active OU; POST {"id"}: switch
    # Collections whose every call depends on the active OU.
    scoped: tuple[str, ...] = ("contacts", "resources")
    # Dotted path to the list in GET list_path's body; "" means the body is the list.
    items_key: str = "data"

    _paths = field_validator("list_path", "active_path")(_path)


class JobsSpec(_Spec):
    """Asynchronous work (seed 003: 202 Accepted with a job to poll)."""

    path: str = "/jobs"  # GET {path}/{id}: {id, status, result, error}
    contact_import: str = "/contacts/imports"  # POST: a contact's fields -> 202 + job

    _paths = field_validator("path", "contact_import")(_path)


class SessionSpec(_Spec):
    """MOCO's session (seed 002): POST {email, password} -> the user's API key; GET checks a key."""

    path: str = "/session"

    _paths = field_validator("path")(_path)
