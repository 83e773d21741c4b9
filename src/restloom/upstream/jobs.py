"""Asynchronous work (seed 003: "202 Accepted for async"): start a job, read it, watch it end.

`start_contact_import` POSTs to the profile's `jobs.contact_import` and reads the
job the 202 carries (its id from the body, else the `Location`). `fetch_job` reads
`{jobs.path}/{id}`, never from the cache. `JobWatcher` polls a job until it ends
with growing pauses, ONE poller per (upstream, credential, job) in this process
however many subscribers wait for it, every poll a normal upstream call (rate
budget, breaker, deadline).
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from typing import Any

import redis.asyncio as redis

from restloom.upstream.api import check_fields
from restloom.upstream.client import Caller, Exchange, Response, UpstreamClient
from restloom.upstream.errors import FailureKind, Unsupported, UpstreamError, dig
from restloom.upstream.featurespecs import JobsSpec
from restloom.upstream.jobboard import JobBoard, LocalBoard, RedisBoard
from restloom.upstream.jobstate import JobError, JobState, JobStatus
from restloom.upstream.pages import Record
from restloom.upstream.profile import Profile
from restloom.upstream.urls import collection_path, fixed_path, valid_id

# Polling: the first pause, the factor, the longest pause, and when to give up.
FIRST_POLL_SECONDS = 0.1
POLL_FACTOR = 2.0
MAX_POLL_SECONDS = 5.0
MAX_WATCH_SECONDS = 600.0
MAX_MESSAGE_CHARS = 1000
# An instance's right to poll a job for all instances lasts this long unless renewed
# (every poll renews it; the longest pause is MAX_POLL_SECONDS).
LEASE_SECONDS = MAX_POLL_SECONDS * 3

_STATUSES = {
    "pending": "pending",
    "queued": "pending",
    "running": "pending",
    "in_progress": "pending",
    "succeeded": "succeeded",
    "completed": "succeeded",
    "done": "succeeded",
    "failed": "failed",
    "error": "failed",
}


def _spec(profile: Profile) -> JobsSpec:
    if profile.jobs is None:
        raise Unsupported("asynchronous jobs are not supported by this upstream")
    return profile.jobs


def _invalid(request_id: str, reason: str) -> UpstreamError:
    return UpstreamError(
        kind=FailureKind.INVALID_RESPONSE,
        message=f"The upstream sent a job restloom cannot read: {reason}",
        request_id=request_id,
    )


def _error_of(profile: Profile, body: Any) -> JobError | None:
    if not isinstance(body, dict):
        return None
    spec = profile.errors

    def text(path: str | None) -> str | None:
        value = dig(body, path)
        return str(value)[:MAX_MESSAGE_CHARS] if isinstance(value, str | int) else None

    return JobError(
        message=text(spec.message_path) or "the job failed",
        code=text(spec.code_path),
        field=text(spec.field_path),
    )


def job_of(profile: Profile, body: Any, request_id: str, job_id: str | None = None) -> JobState:
    """A job body `{id, status, result, error}` checked against what restloom can use."""
    if not isinstance(body, dict):
        raise _invalid(request_id, "the body is not an object")
    raw_id = body.get("id", job_id)
    found_id = str(raw_id) if isinstance(raw_id, str | int) else None
    if found_id is None or not valid_id(profile, found_id):
        raise _invalid(request_id, "no valid job id")
    status = _STATUSES.get(str(body.get("status", "")).lower())
    if status is None:
        raise _invalid(request_id, "unknown job status")
    result = body.get("result")
    if status == "succeeded" and not (
        isinstance(result, dict) and valid_id(profile, str(result.get("id")))
    ):
        raise _invalid(request_id, "a succeeded job without a result object")
    return JobState(
        id=found_id,
        status=JobStatus(status),
        result=result if isinstance(result, dict) else None,
        error=_error_of(profile, body.get("error")) if status == "failed" else None,
    )


def _id_from_location(response: Response) -> str | None:
    location = response.headers.get("Location") or response.headers.get("location") or ""
    tail = location.rstrip("/").rsplit("/", 1)[-1]
    return tail or None


async def start_contact_import(ex: Exchange, body: Record, idempotency_key: str | None) -> JobState:
    """POST the contact; 202 gives a pending job. An upstream that answers 201 at once
    is a job already succeeded, with the contact as its result."""
    spec = _spec(ex.profile)
    check_fields(ex.profile, body)
    response = await ex.write(
        "POST", fixed_path(ex.profile, spec.contact_import), body, idempotency_key
    )
    request_id = ex.caller.request_id
    if response.status == 201:
        created = response.body.get("id") if isinstance(response.body, dict) else None
        # Only a string or an integer is an id ("None" or "True" would pass the pattern).
        if isinstance(created, bool) or not isinstance(created, str | int):
            raise _invalid(request_id, "a created object without an id")
        if not valid_id(ex.profile, str(created)):
            raise _invalid(request_id, "a created object without a valid id")
        return JobState(id=str(created), status=JobStatus.SUCCEEDED, result=response.body)
    if response.status != 202:
        raise _invalid(request_id, f"HTTP {response.status} where 202 Accepted was expected")
    job_body = response.body if isinstance(response.body, dict) else {}
    return job_of(
        ex.profile, job_body or {"status": "pending"}, request_id, _id_from_location(response)
    )


async def fetch_job(ex: Exchange, job_id: str) -> JobState:
    spec = _spec(ex.profile)
    path = fixed_path(ex.profile, spec.path, job_id)
    response = await ex.get(path, cached=False)
    state = job_of(ex.profile, response.body, ex.caller.request_id)
    if state.id != job_id:
        raise _invalid(ex.caller.request_id, "the job answered for another id")
    return state


def _transient(error: UpstreamError) -> bool:
    """A failure worth polling through; 4xx answers (gone, refused) end the watch."""
    if error.kind in (FailureKind.TIMEOUT, FailureKind.UNAVAILABLE, FailureKind.CIRCUIT_OPEN):
        return True
    if error.kind is FailureKind.RATE_LIMITED:
        return True
    return error.status is not None and (error.status == 429 or error.status >= 500)


class JobWatcher:
    """Polls each watched job once, for every subscriber of this process; with a Redis
    board, once for every instance sharing it."""

    def __init__(self, client: UpstreamClient, board: JobBoard | None = None) -> None:
        self.client = client
        self.board: JobBoard = board or LocalBoard()
        self._polls: dict[tuple[str, str], asyncio.Task[JobState]] = {}
        self._waiting: dict[tuple[str, str], int] = {}  # subscribers per poll
        self.polls = 0  # upstream reads of jobs made by this watcher (for tests and metrics)

    @classmethod
    def build(
        cls, client: UpstreamClient, redis_client: redis.Redis | None, namespace: str
    ) -> JobWatcher:
        board = RedisBoard(redis_client, namespace) if redis_client is not None else None
        return cls(client, board)

    async def wait(self, caller: Caller, job_id: str) -> JobState:
        """The job's final state; raises what ended the watch (404, 401, gave up)."""
        credential = self.client.credential_for(caller)
        key = (credential.principal if credential else "anonymous", job_id)
        task = self._polls.get(key)
        if task is None:
            task = asyncio.create_task(self._poll(caller, job_id))
            self._polls[key] = task
            task.add_done_callback(lambda done: self._finished(key, done))
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            # Shielded: a subscriber leaving does not stop the poll the others wait on.
            return await asyncio.shield(task)
        finally:
            self._waiting[key] -= 1
            if self._waiting[key] == 0:
                del self._waiting[key]
                # The last subscriber left: nobody needs the poll any more.
                task.cancel()

    def _finished(self, key: tuple[str, str], task: asyncio.Task[JobState]) -> None:
        if self._polls.get(key) is task:
            del self._polls[key]
        if not task.cancelled():
            task.exception()  # retrieved: its subscribers got it, or all had left

    async def _poll(self, caller: Caller, job_id: str) -> JobState:
        credential = self.client.credential_for(caller)
        principal = credential.principal if credential else "anonymous"
        board_key = f"{self.client.upstream_id}:{principal}:{job_id}"
        holder = uuid.uuid4().hex
        try:
            return await self._poll_until_done(caller, job_id, board_key, holder)
        except asyncio.CancelledError:
            await asyncio.shield(self.board.release(board_key, holder))
            raise

    async def _poll_until_done(
        self, caller: Caller, job_id: str, board_key: str, holder: str
    ) -> JobState:
        loop = asyncio.get_running_loop()
        give_up = loop.time() + MAX_WATCH_SECONDS
        pause = FIRST_POLL_SECONDS
        while True:
            state = await self.board.outcome(board_key)
            if state is not None:
                return state  # another instance saw it end
            if await self.board.claim(board_key, holder, LEASE_SECONDS):
                try:
                    self.polls += 1
                    state = await fetch_job(self.client.exchange(caller), job_id)
                    if state.finished:
                        if state.status is JobStatus.SUCCEEDED:
                            await self._forget_contacts(caller)
                        await self.board.publish(board_key, state)
                        return state
                except UpstreamError as error:
                    if not _transient(error) or loop.time() + pause > give_up:
                        raise
                    if error.retry_after is not None:
                        pause = max(pause, min(error.retry_after, MAX_POLL_SECONDS * 6))
            if loop.time() + pause > give_up:
                raise UpstreamError(
                    kind=FailureKind.TIMEOUT,
                    message=f"The job did not finish within {MAX_WATCH_SECONDS:g}s",
                    request_id=caller.request_id,
                )
            await asyncio.sleep(pause)
            pause = min(pause * POLL_FACTOR, MAX_POLL_SECONDS)

    async def _forget_contacts(self, caller: Caller) -> None:
        """The job created a contact after its POST: cached contact lists are stale now."""
        cache = self.client.cache
        credential = self.client.credential_for(caller)
        if cache is not None and credential is not None:
            path = collection_path(self.client.profile, "contacts").path
            await cache.invalidate(path, credential.principal)


_watchers: weakref.WeakKeyDictionary[UpstreamClient, JobWatcher] = weakref.WeakKeyDictionary()


def watcher_for(client: UpstreamClient) -> JobWatcher:
    """The process's watcher for this upstream client."""
    watcher = _watchers.get(client)
    if watcher is None:
        watcher = _watchers[client] = JobWatcher(client)
    return watcher
