"""The `Subscription` root: change events from the upstream's webhooks.

A subscription reads with the subscriber's own credential, from the connection's init
payload (`{"X-API-Key": ...}` or `{"Authorization": "Bearer ..."}`) or else the
WebSocket handshake's headers, like any query. See events/ for where events come from.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, replace
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from restloom.events.hub import EventHub
from restloom.graphql import jobs
from restloom.graphql.context import Context
from restloom.graphql.errors import GatewayError
from restloom.graphql.events import (
    ChangeEvent,
    EventAction,
    EventFilter,
    EventTarget,
    checked_after,
)
from restloom.graphql.eventstream import EventStream
from restloom.upstream.client import Caller
from restloom.upstream.credentials import Credential

MAX_PARAM_CHARS = 4096  # a credential in the init payload


@dataclass
class SocketContext(Context):
    """A WebSocket connection's context: lives as long as the connection."""

    # Set by strawberry from the init message (graphql-transport-ws and graphql-ws).
    connection_params: dict[str, Any] | None = None
    open_subscriptions: int = 0


def _param(params: dict[str, Any], *names: str) -> str | None:
    lowered = {str(k).lower(): v for k, v in params.items()}
    for name in names:
        value = lowered.get(name)
        if isinstance(value, str) and 0 < len(value) <= MAX_PARAM_CHARS:
            return value
    return None


def subscriber_caller(context: Context) -> Caller:
    """The caller the handshake made, with the init payload's credential if it has one."""
    caller = context.exchange.caller
    params = getattr(context, "connection_params", None)
    if not isinstance(params, dict):
        return caller
    credential = Credential.from_headers(
        _param(params, "x-api-key", "apikey", "api_key"),
        _param(params, "authorization"),
    )
    return caller if credential is None else replace(caller, credential=credential)


def _hub(info: Info[Context, None]) -> EventHub:
    return info.context.request.app.state.events  # type: ignore[no-any-return]


async def _stream(
    info: Info[Context, None],
    targets: list[EventTarget] | None,
    actions: list[EventAction] | None,
    ids: list[strawberry.ID] | None,
    after: str | None,
) -> AsyncGenerator[ChangeEvent, None]:
    context = info.context
    hub = _hub(info)
    want = EventFilter.build(context.profile, targets, actions, ids)
    after = checked_after(after)
    opened = isinstance(context, SocketContext)
    if opened:
        if context.open_subscriptions >= hub.limits.max_subscriptions:
            raise GatewayError(
                f"at most {hub.limits.max_subscriptions} subscriptions per connection",
                "TOO_MANY_SUBSCRIPTIONS",
            )
        context.open_subscriptions += 1
    try:
        client = context.exchange.client
        caller = subscriber_caller(context)
        if client.credential_for(caller) is None:
            raise GatewayError(
                "subscriptions read with a credential: send X-API-Key or Authorization in "
                "the connection's init payload or the handshake",
                "UNAUTHENTICATED",
            )
        stream = EventStream(hub, client, caller, want)
        async for change in stream.run(after):
            yield change
    finally:
        if opened:
            context.open_subscriptions -= 1


AfterArg = Annotated[
    strawberry.ID | None,
    strawberry.argument(description="The last event id seen: first send what came after it."),
]


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Changes the upstream reports, as they happen.")
    async def events(
        self,
        info: Info[Context, None],
        targets: list[EventTarget] | None = None,
        actions: list[EventAction] | None = None,
        ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(description="Global or upstream ids of the objects."),
        ] = None,
        after: AfterArg = None,
    ) -> AsyncGenerator[ChangeEvent, None]:
        async for change in _stream(info, targets, actions, ids, after):
            yield change

    @strawberry.subscription(description="Changes to one contact.")
    async def contact_changed(
        self, info: Info[Context, None], id: strawberry.ID, after: AfterArg = None
    ) -> AsyncGenerator[ChangeEvent, None]:
        async for change in _stream(info, [EventTarget.CONTACT], None, [id], after):
            yield change

    @strawberry.subscription(
        description="One message when the job has succeeded or failed (restloom polls it)."
    )
    async def job_completed(
        self, info: Info[Context, None], id: jobs.JobId
    ) -> AsyncGenerator[jobs.Job, None]:
        async for job in jobs.job_completion(info, id, subscriber_caller(info.context)):
            yield job

    @strawberry.subscription(description="Changes to one resource.")
    async def resource_changed(
        self, info: Info[Context, None], id: strawberry.ID, after: AfterArg = None
    ) -> AsyncGenerator[ChangeEvent, None]:
        async for change in _stream(info, [EventTarget.RESOURCE], None, [id], after):
            yield change
