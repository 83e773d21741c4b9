"""Webhooks (their secrets are write-only upstream and never shown)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry import UNSET
from strawberry.types import Info

from restloom.graphql.connections import (
    ConnectionArgs,
    OrderDirection,
    iso,
    list_connection,
    parse_time,
    sort_of,
)
from restloom.graphql.context import Context
from restloom.graphql.relay import NODE_TYPE_NAMES, Connection, Node, database_id_for, to_global_id
from restloom.graphql.writes import (
    DeletePayload,
    create_record,
    delete_record,
    idempotency_key,
    update_record,
)
from restloom.upstream.api import ListQuery, send_webhook_test
from restloom.upstream.pages import Record

NODE_TYPE_NAMES.add("Webhook")


@strawberry.enum
class WebhookOrderField(Enum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@strawberry.input
class WebhookOrder:
    field: WebhookOrderField = WebhookOrderField.CREATED_AT
    direction: OrderDirection = OrderDirection.DESC


@strawberry.type
class Webhook(Node):
    database_id: str
    url: str
    events: list[str]
    active: bool
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def from_record(cls, record: Record) -> Webhook:
        return cls(
            id=to_global_id("Webhook", str(record["id"])),
            database_id=str(record["id"]),
            url=record.get("url") or "",
            events=[str(e) for e in record.get("events") or []],
            active=bool(record.get("active", True)),
            created_at=parse_time(record.get("created_at")),
            updated_at=parse_time(record.get("updated_at")),
        )


async def resolve_webhook(
    info: Info[Context, None],
    id: Annotated[strawberry.ID, strawberry.argument(description="Global id or databaseId.")],
) -> Webhook | None:
    loader = info.context.loaders.objects("webhooks")
    return Webhook.from_record(
        await loader.load(database_id_for("Webhook", id, info.context.profile))
    )


async def resolve_webhooks(
    info: Info[Context, None],
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    updated_after: datetime | None = None,
    order_by: WebhookOrder | None = None,
) -> Connection[Webhook]:
    query = ListQuery.build(
        "webhooks",
        sort=sort_of(order_by or WebhookOrder()),
        sort_requested=order_by is not None,
        updated_after=iso(updated_after),
    )
    args = ConnectionArgs(first, after, last, before)
    return await list_connection(info.context, query, args, Webhook.from_record)


# --- mutations ----------------------------------------------------------------


@strawberry.input
class CreateWebhookInput:
    url: str
    events: list[str]
    secret: str | None = strawberry.field(
        default=UNSET, description="Signs deliveries; write-only, never shown again."
    )
    active: bool | None = UNSET


@strawberry.input(description="Fields left out are unchanged.")
class UpdateWebhookInput:
    id: strawberry.ID
    url: str | None = UNSET
    events: list[str] | None = UNSET
    secret: str | None = UNSET
    active: bool | None = UNSET


@strawberry.input
class DeleteWebhookInput:
    id: strawberry.ID


@strawberry.input
class TestWebhookInput:
    id: strawberry.ID


@strawberry.type
class CreateWebhookPayload:
    webhook: Webhook


@strawberry.type
class UpdateWebhookPayload:
    webhook: Webhook


@strawberry.type
class DeleteWebhookPayload(DeletePayload):
    pass


@strawberry.type
class TestWebhookPayload:
    delivered: bool = strawberry.field(
        description="The upstream says it delivered the test event before answering."
    )
    queued: bool = strawberry.field(
        description="The upstream queued the test event (202); it is delivered later."
    )
    event_id: str | None
    status_code: int | None
    event: str | None
    webhook_id: strawberry.Private[str]

    @strawberry.field
    async def webhook(self, info: Info[Context, None]) -> Webhook | None:
        return Webhook.from_record(
            await info.context.loaders.objects("webhooks").load(self.webhook_id)
        )


async def create_webhook(
    info: Info[Context, None], input: CreateWebhookInput
) -> CreateWebhookPayload | None:
    record = await create_record(info, "webhooks", input)
    return CreateWebhookPayload(webhook=Webhook.from_record(record))


async def update_webhook(
    info: Info[Context, None], input: UpdateWebhookInput
) -> UpdateWebhookPayload | None:
    record = await update_record(info, "Webhook", "webhooks", input)
    return UpdateWebhookPayload(webhook=Webhook.from_record(record))


async def delete_webhook(
    info: Info[Context, None], input: DeleteWebhookInput
) -> DeleteWebhookPayload | None:
    return DeleteWebhookPayload.of(
        "Webhook", await delete_record(info, "Webhook", "webhooks", input)
    )


async def test_webhook(
    info: Info[Context, None], input: TestWebhookInput
) -> TestWebhookPayload | None:
    webhook_id = database_id_for("Webhook", input.id, info.context.profile)
    result = await send_webhook_test(info.context.exchange, webhook_id, idempotency_key(info))
    return TestWebhookPayload(
        delivered=result.get("delivered") is True,
        queued=result.get("queued") is True,
        event_id=_text(result.get("event_id")),
        status_code=_status(result.get("status_code")),
        event=_text(result.get("event")),
        webhook_id=webhook_id,
    )


def _text(value: object) -> str | None:
    # The upstream's answer is not trusted to have the types it should.
    return value if isinstance(value, str) and len(value) <= 256 else None


def _status(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
