"""Asynchronous work in GraphQL: `importContact` starts a job, `Job` is a Node, and the
`jobCompleted` subscription tells its end once (seed 003: 202 Accepted).

The job's result is the created object (a `Contact` for an import); a failed job
carries the upstream's error. restloom polls the job upstream (`upstream.jobs`), one
poller per job in the process however many subscribers wait.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from restloom.graphql.contacts import Contact, CreateContactInput
from restloom.graphql.context import Context
from restloom.graphql.errors import GatewayError
from restloom.graphql.relay import NODE_TYPE_NAMES, Node, database_id_for, to_global_id
from restloom.graphql.writes import body_of, idempotency_key
from restloom.upstream.client import Caller
from restloom.upstream.jobs import JobState, fetch_job, start_contact_import, watcher_for
from restloom.upstream.jobs import JobStatus as UpstreamJobStatus
from restloom.upstream.urls import require_id

NODE_TYPE_NAMES.add("Job")


@strawberry.enum(description="Where an asynchronous job stands.")
class JobStatus(Enum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@strawberry.type(description="Why a job failed, as the upstream said.")
class JobError:
    message: str
    code: str | None = strawberry.field(description="The upstream's own error code.")
    field: str | None = strawberry.field(description="The input field at fault, if any.")


@strawberry.type(description="Asynchronous work the upstream accepted (202) and does later.")
class Job(Node):
    database_id: str
    status: JobStatus
    result: Node | None = strawberry.field(
        description="What the job made (an import: the Contact), once it succeeded."
    )
    error: JobError | None = strawberry.field(description="Why it failed, once it failed.")

    @classmethod
    def from_state(cls, state: JobState) -> Job:
        result = None
        if state.status is UpstreamJobStatus.SUCCEEDED and state.result is not None:
            result = Contact.from_record(state.result)
        error = None
        if state.error is not None:
            error = JobError(
                message=state.error.message, code=state.error.code, field=state.error.field
            )
        return cls(
            id=to_global_id("Job", state.id),
            database_id=state.id,
            status=JobStatus(state.status.value),
            result=result,
            error=error,
        )


@strawberry.type
class ImportContactPayload:
    job: Job


async def import_contact(
    info: Info[Context, None], input: CreateContactInput
) -> ImportContactPayload | None:
    state = await start_contact_import(info.context.exchange, body_of(input), idempotency_key(info))
    return ImportContactPayload(job=Job.from_state(state))


async def load_job(info: Info[Context, None], database_id: str) -> Job:
    """`node(id:)` for a Job: its state now (never cached)."""
    return Job.from_state(await fetch_job(info.context.exchange, database_id))


JobId = Annotated[
    strawberry.ID, strawberry.argument(description="The job's global id or databaseId.")
]


async def job_completion(
    info: Info[Context, None], id: str, caller: Caller
) -> AsyncGenerator[Job, None]:
    """One message: the job once it has succeeded or failed."""
    client = info.context.exchange.client
    if client.credential_for(caller) is None:
        raise GatewayError(
            "subscriptions read with a credential: send X-API-Key or Authorization in "
            "the connection's init payload or the handshake",
            "UNAUTHENTICATED",
        )
    profile = info.context.profile
    database_id = require_id(profile, database_id_for("Job", id, profile))
    watcher = getattr(info.context.request.app.state, "jobs", None) or watcher_for(client)
    state = await watcher.wait(caller, database_id)
    yield Job.from_state(state)
