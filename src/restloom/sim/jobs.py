"""Asynchronous work (seed 003: "202 Accepted for async"), template style.

``POST /contacts/imports`` takes a contact's fields, checks them at once (422 for a
bad body, as a create would) and answers ``202 Accepted`` with
``Location: {prefix}/jobs/{id}`` and the job. After ``job_delay`` seconds the job
runs: it creates the contact (in the OU active when the job was submitted) and
succeeds with the contact as ``result``, or fails with an ``error`` body when a
contact with that email exists by then (``conflict``: imports do not duplicate).

``GET /jobs/{id}``: ``{"id", "status": "pending"|"succeeded"|"failed", "result",
"error", "created_at", "updated_at"}``. A job is visible to the credential that
submitted it only (others get 404).
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from restloom.sim import errors
from restloom.sim.errors import ApiError
from restloom.sim.orgunits import OU_FIELD, active_unit
from restloom.sim.pipeline import Ctx
from restloom.sim.records import Record, format_ts, utcnow
from restloom.sim.results import Payload, Result
from restloom.sim.state import SimState
from restloom.sim.validation import FIELDS, Validated, validate_create

# Jobs kept per sim; the oldest finished ones go first beyond this.
MAX_JOBS = 10_000


@dataclass
class Job:
    id: str
    credential: str
    status: str  # pending | succeeded | failed
    created_at: datetime
    updated_at: datetime
    result_id: str | None = None
    error: ApiError | None = None


@dataclass
class Accepted(Payload):
    """A 202 with the job's status location (the style adds the Location header)."""

    location: str = ""


@dataclass
class JobStore:
    jobs: dict[str, Job] = field(default_factory=dict)
    # Reads of pending jobs: what a poller spent before the job finished.
    polls: int = 0

    def add(self, job: Job) -> None:
        if len(self.jobs) >= MAX_JOBS:
            done = next((k for k, j in self.jobs.items() if j.status != "pending"), None)
            if done is not None:
                del self.jobs[done]
        self.jobs[job.id] = job


def _store(ctx: Ctx) -> JobStore:
    return ctx.state.data.jobs


def _credential(ctx: Ctx) -> str:
    assert ctx.principal is not None, "job routes are authenticated"
    return ctx.principal.credential


def render(state: SimState, job: Job) -> dict[str, Any]:
    result = None
    if job.result_id is not None:
        record = state.data.get("contacts", job.result_id)
        result = state.style.record("contacts", record) if record is not None else None
    error = None
    if job.error is not None:
        # The job's error in the style's own error body (template: {error, message, details}).
        raw = state.style.error(job.error).body
        error = orjson.loads(raw) if isinstance(raw, bytes) else None
    return {
        "id": job.id,
        "status": job.status,
        "result": result,
        "error": error,
        "created_at": format_ts(job.created_at),
        "updated_at": format_ts(job.updated_at),
    }


def _run(state: SimState, job: Job, v: Validated, org_unit: str | None) -> None:
    """The job's work, at the end of its delay."""
    email = str(v.fields.get("email") or "").lower()
    clash = any(
        str(c.fields.get("email") or "").lower() == email
        for c in state.data.collections["contacts"].values()
    )
    now = utcnow()
    job.updated_at = now
    if clash:
        job.status = "failed"
        job.error = errors.conflict(f"a contact with email {email!r} already exists", "email")
        return
    record: Record = state.data.insert("contacts", v.fields, now, hidden=v.hidden)
    if org_unit is not None:
        record.hidden[OU_FIELD] = org_unit
    job.status = "succeeded"
    job.result_id = record.id


def import_contact(ctx: Ctx) -> Result:
    v = validate_create(ctx, FIELDS["contacts"], ctx.body, custom=False)
    org_unit = active_unit(ctx) if ctx.state.data.org_units is not None else None
    now = utcnow()
    job = Job("job_" + secrets.token_hex(6), _credential(ctx), "pending", now, now)
    _store(ctx).add(job)
    state = ctx.state
    # Handlers run on the server's loop: the job finishes on its own, polled or not.
    asyncio.get_running_loop().call_later(state.config.job_delay, _run, state, job, v, org_unit)
    location = f"{state.config.effective_prefix}/jobs/{job.id}"
    return Accepted(render(state, job), status=202, envelope=False, location=location)


def get_job(ctx: Ctx) -> Result:
    store = _store(ctx)
    job = store.jobs.get(ctx.params["id"])
    if job is None or job.credential != _credential(ctx):
        raise errors.not_found("Job")
    if job.status == "pending":
        store.polls += 1
    return Payload(render(ctx.state, job), envelope=False)
