"""GraphQL types of a change event, and how subscription arguments select events."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

import strawberry

from restloom.events.model import ACTIONS, Event, parse_event_id
from restloom.graphql.contacts import Contact
from restloom.graphql.errors import bad_user_input
from restloom.graphql.loaders import Loaders
from restloom.graphql.organizations import Organization
from restloom.graphql.relay import Node, from_global_id
from restloom.graphql.resources import Resource
from restloom.graphql.users import User
from restloom.graphql.webhooks import Webhook
from restloom.upstream.pages import Record
from restloom.upstream.profile import Profile
from restloom.upstream.urls import valid_id

MAX_FILTER_IDS = 100


@strawberry.enum(description="What happened to the object.")
class EventAction(Enum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    ARCHIVE = "archive"
    TEST = "test"
    OTHER = "other"


@strawberry.enum(description="The kind of object an event is about.")
class EventTarget(Enum):
    CONTACT = "contacts"
    RESOURCE = "resources"
    USER = "users"
    ORGANIZATION = "organizations"
    WEBHOOK = "webhooks"


# Collection -> (GraphQL type name, record -> node) for the objects an event can carry.
NODE_LOADERS: dict[str, tuple[str, Callable[[Record], Node]]] = {
    "contacts": ("Contact", Contact.from_record),
    "resources": ("Resource", Resource.from_record),
    "users": ("User", User.from_record),
    "organizations": ("Organization", Organization.from_record),
    "webhooks": ("Webhook", Webhook.from_record),
}
_TYPE_NAMES = {type_name for type_name, _ in NODE_LOADERS.values()}


def target_of(event: Event) -> EventTarget:
    """Only events about these kinds are delivered (see EventStream._prepare)."""
    return EventTarget(event.collection)


@strawberry.type(description="A change the upstream reported through a webhook.")
class ChangeEvent:
    id: strawberry.ID = strawberry.field(
        description="restloom's id, ordered; pass the last one you saw as `after` to resume."
    )
    delivery_id: str = strawberry.field(description="The upstream's id of this delivery.")
    target: EventTarget
    target_name: str = strawberry.field(description="The upstream's own name for the target.")
    action: EventAction
    object_id: str | None = strawberry.field(description="The object's upstream id.")
    occurred_at: datetime
    updated_at: datetime | None = strawberry.field(description="The object's own time.")
    node: Node | None = strawberry.field(
        description="The object as it is now, read with the subscriber's credential; "
        "null when deleted."
    )
    actor_id: str | None = strawberry.field(description="Upstream id of who made the change.")
    _loaders: strawberry.Private[Loaders]

    @strawberry.field(description="Who made the change, when the upstream says.")
    async def actor(self) -> User | None:
        if self.actor_id is None:
            return None
        try:
            return User.from_record(await self._loaders.objects("users").load(self.actor_id))
        except Exception:
            # Unknown or unreadable to this subscriber: the event still stands.
            return None

    @classmethod
    def build(cls, event: Event, node: Node | None, loaders: Loaders) -> ChangeEvent:
        return cls(
            id=strawberry.ID(event.id),
            delivery_id=event.delivery_id,
            target=target_of(event),
            target_name=event.target,
            action=EventAction(event.action if event.action in ACTIONS else "other"),
            object_id=event.object_id,
            occurred_at=event.occurred_at,
            updated_at=event.updated_at,
            node=node,
            actor_id=event.actor_id,
            _loaders=loaders,
        )


@dataclass(frozen=True)
class EventFilter:
    """Which events a subscription wants; None: any."""

    collections: frozenset[str] | None
    actions: frozenset[str] | None
    object_ids: frozenset[str] | None

    def matches(self, event: Event) -> bool:
        if event.collection not in NODE_LOADERS:
            return False  # nothing to check a subscriber's access with: never delivered
        if self.collections is not None and event.collection not in self.collections:
            return False
        if self.actions is not None and event.action not in self.actions:
            return False
        return self.object_ids is None or event.object_id in self.object_ids

    @classmethod
    def build(
        cls,
        profile: Profile,
        targets: list[EventTarget] | None,
        actions: list[EventAction] | None,
        ids: list[strawberry.ID] | None,
    ) -> EventFilter:
        if ids is not None and len(ids) > MAX_FILTER_IDS:
            raise bad_user_input(f"`ids` takes at most {MAX_FILTER_IDS} ids", "ids")
        return cls(
            collections=None if targets is None else frozenset(t.value for t in targets),
            actions=None if actions is None else frozenset(a.value for a in actions),
            object_ids=None if ids is None else frozenset(_database_id(profile, i) for i in ids),
        )


def _database_id(profile: Profile, given: str) -> str:
    """A global id of one of ours, or the upstream's own id."""
    decoded = from_global_id(given)
    if decoded is not None and decoded[0] in _TYPE_NAMES and valid_id(profile, decoded[1]):
        return decoded[1]
    if valid_id(profile, given):
        return given
    raise bad_user_input(f"`ids`: {given[:80]!r} is not an id", "ids")


def checked_after(after: str | None) -> str | None:
    if after is not None and parse_event_id(after) is None:
        raise bad_user_input("`after` is not an event id", "after")
    return after
