"""The normalised event, whatever upstream style it came from."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import orjson

# Actions as restloom names them; an upstream's own words map onto these.
ACTIONS = ("create", "update", "delete", "archive", "test", "other")
_ACTION_WORDS = {
    "create": "create",
    "created": "create",
    "update": "update",
    "updated": "update",
    "delete": "delete",
    "deleted": "delete",
    "destroy": "delete",
    "destroyed": "delete",
    "archive": "archive",
    "archived": "archive",
    "added": "create",  # a member added to an organization
    "removed": "delete",
    "test": "test",
    "ping": "test",
}

# Event ids are Redis Stream ids ("<milliseconds>-<sequence>"): ordered, and the same
# on every instance. The in-process broker makes ids of the same form.
_EVENT_ID = re.compile(r"^(\d{1,15})-(\d{1,10})$")


def action_of(word: str) -> str:
    return _ACTION_WORDS.get(word.strip().lower(), "other")


def parse_event_id(value: str) -> tuple[int, int] | None:
    match = _EVENT_ID.match(value)
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2))


def format_event_id(position: tuple[int, int]) -> str:
    return f"{position[0]}-{position[1]}"


@dataclass(frozen=True)
class Event:
    """One change upstream. `id` is restloom's (the broker's), `delivery_id` the sender's."""

    source: str
    delivery_id: str
    target: str  # singular type as the upstream names it, lower case: "contact"
    collection: str | None  # the profile collection it belongs to; None: not one of ours
    action: str  # one of ACTIONS
    object_id: str | None
    occurred_at: datetime
    actor_id: str | None = None
    updated_at: datetime | None = None  # the object's own time, for ordering
    id: str = ""  # set by the broker when published

    def with_id(self, event_id: str) -> Event:
        return replace(self, id=event_id)

    def position(self) -> tuple[int, int]:
        parsed = parse_event_id(self.id)
        assert parsed is not None, "only published events have a position"
        return parsed

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "source": self.source,
                "delivery_id": self.delivery_id,
                "target": self.target,
                "collection": self.collection,
                "action": self.action,
                "object_id": self.object_id,
                "occurred_at": self.occurred_at.isoformat(),
                "actor_id": self.actor_id,
                "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            }
        )

    @classmethod
    def from_json(cls, raw: bytes | str, event_id: str) -> Event:
        """From the stream: written by another instance of ours, still checked."""
        data: Any = orjson.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("an event is a JSON object")
        updated = data.get("updated_at")
        return cls(
            source=str(data["source"]),
            delivery_id=str(data["delivery_id"]),
            target=str(data["target"]),
            collection=None if data.get("collection") is None else str(data["collection"]),
            action=action_of(str(data["action"])),
            object_id=None if data.get("object_id") is None else str(data["object_id"]),
            occurred_at=datetime.fromisoformat(str(data["occurred_at"])),
            actor_id=None if data.get("actor_id") is None else str(data["actor_id"]),
            updated_at=datetime.fromisoformat(str(updated)) if updated else None,
            id=event_id,
        )
