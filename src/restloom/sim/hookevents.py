"""The events the sim's writes emit, and the bodies and headers each style sends.

An event is built once, when the write happens, from the record as the API renders it
at that moment; every hook that subscribes to it receives the same body. Event names
are those seed 004 shows (``resource.created``): ``<target>.<action>``.

Wire formats (README, "The sim sends webhooks"):

- mossdesk and template: Standard Webhooks. Body ``{"type", "timestamp", "data": {"id",
  "object", "actor_id", "updated_at"}}`` (member events add ``data.organization_id``);
  headers ``webhook-id`` (the event id, the same on every retry), ``webhook-timestamp``
  (the attempt's Unix seconds) and ``webhook-signature``.
- moco: the body is the object as the API renders it (``{"id": ...}`` for a delete);
  headers ``X-Moco-Target``, ``X-Moco-Event``, ``X-Moco-Timestamp`` (the event's time in
  milliseconds, the same on every retry), ``X-Moco-Signature``, ``X-Moco-User-Id``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from restloom.sim import signing
from restloom.sim.records import format_ts

if TYPE_CHECKING:
    from restloom.sim.pipeline import Ctx
    from restloom.sim.query import Row

# Collection -> event target (the first half of an event name).
TARGETS: dict[str, str] = {
    "contacts": "contact",
    "resources": "resource",
    "organizations": "organization",
    "webhooks": "webhook",
    "users": "user",
    "members": "member",
}
# Event target -> X-Moco-Target (MOCO names targets in singular CamelCase: Activity, ...).
MOCO_TARGETS: dict[str, str] = {
    "contact": "Contact",
    "resource": "Resource",
    "organization": "Organization",
    "webhook": "WebHook",
    "user": "User",
    "member": "Member",
}
# Event action -> X-Moco-Event.
MOCO_ACTIONS: dict[str, str] = {
    "created": "create",
    "updated": "update",
    "deleted": "delete",
    "added": "create",
    "removed": "delete",
    "test": "test",
}
TEST_EVENT = "webhook.test"
USER_AGENT = "restloom-sim-webhooks"


def new_event_id() -> str:
    return "evt_" + uuid.uuid4().hex[:24]


@dataclass(frozen=True)
class HookEvent:
    """One change, ready to send: the body is fixed, the signature is per attempt."""

    id: str
    type: str  # "contact.updated"
    body: bytes
    # Headers that do not depend on the hook or the attempt (MOCO's X-Moco-*).
    fixed_headers: tuple[tuple[str, str], ...]
    style: str

    def headers(self, secret: str, now: float) -> dict[str, str]:
        """Everything sent with one attempt to a hook whose secret is ``secret``."""
        out = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        out.update(self.fixed_headers)
        if self.style == "moco":
            out["X-Moco-Signature"] = signing.moco_signature(secret, self.body)
        else:
            stamp = int(now)
            out["webhook-id"] = self.id
            out["webhook-timestamp"] = str(stamp)
            out["webhook-signature"] = signing.standard_signature(secret, self.id, stamp, self.body)
        return out


def build_event(
    style: str,
    name: str,
    object_id: Any,
    rendered: dict[str, Any] | None,
    actor_id: Any,
    updated_at: datetime,
    extra: dict[str, Any] | None = None,
) -> HookEvent:
    """``rendered`` is the object as the API renders it, None once it is deleted."""
    event_id = new_event_id()
    now = datetime.now(UTC)
    target, _, action = name.partition(".")
    if style == "moco":
        body_obj: dict[str, Any] = rendered if rendered is not None else {"id": object_id}
        if extra:
            body_obj = {**body_obj, **extra}
        fixed = [
            ("X-Moco-Target", MOCO_TARGETS[target]),
            ("X-Moco-Event", MOCO_ACTIONS[action]),
            ("X-Moco-Timestamp", str(int(now.timestamp() * 1000))),
        ]
        if actor_id is not None:
            fixed.append(("X-Moco-User-Id", str(actor_id)))
        return HookEvent(event_id, name, orjson.dumps(body_obj), tuple(fixed), style)
    data: dict[str, Any] = {"id": object_id}
    data.update(extra or {})
    data.update(object=rendered, actor_id=actor_id, updated_at=format_ts(updated_at))
    body = {
        "type": name,
        "timestamp": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "data": data,
    }
    return HookEvent(event_id, name, orjson.dumps(body), (), style)


def emit(
    ctx: Ctx,
    kind: str,
    action: str,
    row: Row,
    *,
    deleted: bool = False,
    organization_id: str | None = None,
) -> None:
    """Publish the event of one API write; deliveries start after the handler returns."""
    state = ctx.state
    style = state.style
    name = f"{TARGETS[kind]}.{action}"
    # A membership has no id of its own: its events name the member's user id.
    object_kind = "users" if kind == "members" else kind
    extra = None
    if organization_id is not None:
        extra = {"organization_id": style.id_out("organizations", organization_id)}
    event = build_event(
        state.config.style,
        name,
        style.id_out(object_kind, str(row.get("id"))),
        None if deleted else style.record(kind, row),
        style.id_out("users", ctx.actor_id) if ctx.actor_id else None,
        datetime.now(UTC) if deleted else row.get("updated_at"),
        extra,
    )
    state.webhooks.publish(event)
