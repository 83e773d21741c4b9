"""A job as restloom reads it from the upstream: its id, status, result or error."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from restloom.upstream.pages import Record


class JobStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class JobError:
    message: str
    code: str | None = None
    field: str | None = None


@dataclass(frozen=True)
class JobState:
    id: str
    status: JobStatus
    result: Record | None = None
    error: JobError | None = None

    @property
    def finished(self) -> bool:
        return self.status is not JobStatus.PENDING
