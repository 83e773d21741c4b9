"""The sim's stored data: one generic ``Record`` type plus organization memberships.

Records keep their public fields in a dict whose insertion order is the wire order,
so rendering is a dict copy and byte-identical across runs. Internally every
reference (``owner_id``, ``user_id``) is the string id; styles with integer ids
translate at the edge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any


@dataclass
class Record:
    id: str
    # Stable integer id (creation order, from 1) used by styles with integer ids.
    num: int
    # Public fields in wire order, without id and timestamps.
    fields: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    # Never rendered (user password, webhook secret).
    hidden: dict[str, Any] = field(default_factory=dict)
    # MOCO-style custom fields; rendered only by styles that document them.
    custom_properties: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str) -> Any:
        """Value of a field for filtering and sorting (``profile.first_name`` reaches in)."""
        if name == "id":
            return self.id
        if name == "created_at":
            return self.created_at
        if name == "updated_at":
            return self.updated_at
        head, _, rest = name.partition(".")
        value = self.fields.get(head)
        if rest:
            return value.get(rest) if isinstance(value, dict) else None
        return value


@dataclass
class Membership:
    user_id: str
    role: str
    joined_at: datetime

    def get(self, name: str) -> Any:
        # Members have no id of their own: batch lookup and tie-breaks use the user id.
        if name in ("id", "user_id"):
            return self.user_id
        if name in ("joined_at", "updated_at", "created_at"):
            return self.joined_at
        if name == "role":
            return self.role
        return None


@lru_cache(maxsize=16384)
def format_ts(value: datetime) -> str:
    """UTC ISO 8601 with a ``Z`` and whole seconds, e.g. 2025-03-01T10:00:00Z."""
    # Cached: every listed record renders two timestamps, and strftime was a quarter
    # of the sim's time for a page of 100 (a datetime hashes by its instant).
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_ts(text: str) -> datetime | None:
    """Parse an ISO 8601 timestamp (``Z``, offsets, or a bare date); naive means UTC."""
    text = text.strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def utcnow() -> datetime:
    # Whole seconds, like every timestamp on the wire, so what a client reads back
    # compares equal to what was stored.
    return datetime.now(UTC).replace(microsecond=0)
