"""What differs between collections: id prefix, sortable fields, filters, search fields.

Kept as data so that the list/get/create/patch/delete handlers stay generic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

RESOURCE_TYPES: tuple[str, ...] = ("standard", "premium", "enterprise")
RESOURCE_STATUSES: tuple[str, ...] = ("active", "inactive", "archived")
USER_ROLES: tuple[str, ...] = ("admin", "member", "viewer")
MEMBER_ROLES: tuple[str, ...] = ("owner", "admin", "member")
WEBHOOK_EVENTS: tuple[str, ...] = (
    "contact.created",
    "contact.updated",
    "contact.deleted",
    "resource.created",
    "resource.updated",
    "resource.deleted",
    "organization.created",
    "organization.updated",
    "organization.deleted",
    "member.added",
    "member.removed",
    "user.updated",
    # Changes to the hooks themselves (the sim disabling a failing hook is one).
    "webhook.created",
    "webhook.updated",
    "webhook.deleted",
)


@dataclass(frozen=True)
class Kind:
    name: str  # collection name, also the default URL path segment
    label: str  # singular, for messages ("Contact not found")
    id_prefix: str
    sortable: tuple[str, ...]
    default_sort: str = "created_at"
    # Direction when the request names none (Mossdesk: desc; members: joined_at asc).
    default_descending: bool = True
    # Fields matched case-insensitively by ``search`` (dotted names reach into dicts).
    search_fields: tuple[str, ...] = ()
    # Exact-match filters: field -> allowed values (unknown value is a validation error).
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Reference fields: field -> referenced collection (styles with integer ids map them).
    refs: dict[str, str] = field(default_factory=dict)
    # Whether MOCO-style ``custom_properties`` exist on this collection.
    custom_properties: bool = False


CONTACTS = Kind(
    name="contacts",
    label="Contact",
    id_prefix="cnt",
    sortable=("created_at", "updated_at", "first_name", "last_name", "email"),
    search_fields=("first_name", "last_name", "email", "company"),
    custom_properties=True,
)
RESOURCES = Kind(
    name="resources",
    label="Resource",
    id_prefix="res",
    sortable=("created_at", "updated_at", "name"),
    filters={"status": RESOURCE_STATUSES, "type": RESOURCE_TYPES},
    refs={"owner_id": "users"},
    custom_properties=True,
)
USERS = Kind(
    name="users",
    label="User",
    id_prefix="usr",
    sortable=("created_at", "updated_at", "email", "username"),
    search_fields=("email", "username", "profile.first_name", "profile.last_name"),
    filters={"role": USER_ROLES},
)
ORGANIZATIONS = Kind(
    name="organizations",
    label="Organization",
    id_prefix="org",
    sortable=("created_at", "updated_at", "name"),
    custom_properties=True,
)
WEBHOOKS = Kind(
    name="webhooks",
    label="Webhook",
    id_prefix="whk",
    sortable=("created_at", "updated_at"),
)
# Memberships are listed like a collection but have no id of their own.
MEMBERS = Kind(
    name="members",
    label="Member",
    id_prefix="",
    sortable=("joined_at",),
    default_sort="joined_at",
    default_descending=False,
    refs={"user_id": "users"},
)

KINDS: dict[str, Kind] = {k.name: k for k in (CONTACTS, RESOURCES, USERS, ORGANIZATIONS, WEBHOOKS)}
