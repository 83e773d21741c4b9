"""``POST /webhooks/{id}/test``: reports a delivery without sending anything anywhere."""

from __future__ import annotations

from restloom.sim.handlers.common import find
from restloom.sim.pipeline import Ctx
from restloom.sim.results import Payload, Result


def send_test_event(ctx: Ctx) -> Result:
    find(ctx, "webhooks")
    return Payload({"delivered": True, "status_code": 200, "event": "webhook.test"})
