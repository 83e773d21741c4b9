"""Webhook specifics: secrets on create and update, and ``POST /webhooks/{id}/test``.

A secret the caller sends is checked against the style's shape (MOCO: 32 hexadecimal
characters; otherwise any text, and a ``whsec_`` one must hold 24-64 bytes of base64)
and never shown back. Without one the sim makes one (MOCO: 32 hex; otherwise
``whsec_`` + base64 of 24 random bytes) and shows it once, in the create answer: the
hook is useless without it, and no later answer carries it (seed 002 shows the key in
MOCO's web overview, not in its API).
"""

from __future__ import annotations

from typing import Any

from restloom.sim import errors, signing
from restloom.sim.delivery import CALLABLE_FLAG
from restloom.sim.handlers.common import find
from restloom.sim.hookevents import TEST_EVENT, build_event
from restloom.sim.pipeline import Ctx
from restloom.sim.records import Record
from restloom.sim.results import Payload, Result
from restloom.sim.validation import Validated

# Longer URLs are refused: the sim calls this URL, and nobody's receiver needs more.
MAX_URL_CHARS = 2048


def prepare(ctx: Ctx, v: Validated, *, creating: bool) -> str | None:
    """Checks before a create or update is stored; returns the secret made, if any."""
    if len(str(v.fields.get("url") or "")) > MAX_URL_CHARS:
        raise errors.validation("url", f"url must be at most {MAX_URL_CHARS} characters")
    return _secret(ctx, v, creating=creating)


def _secret(ctx: Ctx, v: Validated, *, creating: bool) -> str | None:
    """Check a sent secret, or make one on create; returns the one made, if any."""
    style = ctx.state.config.style
    sent = v.hidden.get("secret")
    if sent is not None:
        problem = signing.secret_problem(style, sent)
        if problem is not None:
            raise errors.validation("secret", problem)
        return None
    if not creating:
        return None
    made = signing.new_secret(style)
    v.hidden["secret"] = made
    return made


def mark_callable(ctx: Ctx, record: Record) -> None:
    """The hook's URL now comes from the API, so deliveries may go to it."""
    if isinstance(ctx.body, dict) and "url" in ctx.body:
        record.hidden[CALLABLE_FLAG] = True


def created_answer(ctx: Ctx, record: Record, made_secret: str | None) -> Result:
    """The 201 body: the hook, plus the secret when the sim made it."""
    body: dict[str, Any] = ctx.state.style.record("webhooks", record)
    if made_secret is not None:
        body["secret"] = made_secret
    return Payload(body, status=201)


def send_test_event(ctx: Ctx) -> Result:
    """Queue a ``webhook.test`` event to this hook (whatever its filter or state): 202.

    The answer comes before any delivery; ``GET /__sim/deliveries?event_id=...``
    shows how the attempts went.
    """
    hook = find(ctx, "webhooks")
    style = ctx.state.style
    wire_id = style.id_out("webhooks", hook.id)
    actor = style.id_out("users", ctx.actor_id) if ctx.actor_id else None
    event = build_event(
        ctx.state.config.style,
        TEST_EVENT,
        wire_id,
        style.record("webhooks", hook),
        actor,
        hook.updated_at,
    )
    queued = hook.hidden.get(CALLABLE_FLAG) is True and ctx.state.webhooks.publish_test(
        hook.id, event
    )
    return Payload({"event": TEST_EVENT, "event_id": event.id, "queued": queued}, status=202)
