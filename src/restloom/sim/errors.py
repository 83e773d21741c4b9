"""One exception for every API error; each style renders it in its own body shape.

The status and code are Mossdesk's (seed 000); styles remap where their documents
differ (MOCO and the template answer validation errors with 422).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

VALIDATION_ERROR = "VALIDATION_ERROR"
UNAUTHORIZED = "UNAUTHORIZED"
FORBIDDEN = "FORBIDDEN"
NOT_FOUND = "NOT_FOUND"
CONFLICT = "CONFLICT"
RATE_LIMITED = "RATE_LIMITED"
INTERNAL_ERROR = "INTERNAL_ERROR"
IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"


@dataclass
class ApiError(Exception):
    status: int
    code: str
    message: str
    field: str | None = None
    # Machine-readable reason for a field error ("required", "invalid", "unknown", ...),
    # used by the template style's ``details.code``.
    reason: str = "invalid"
    headers: dict[str, str] = dataclasses.field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


def validation(field_name: str, message: str, reason: str = "invalid") -> ApiError:
    return ApiError(400, VALIDATION_ERROR, message, field=field_name, reason=reason)


def required(field_name: str) -> ApiError:
    return validation(field_name, f"{field_name} is required", reason="required")


def not_found(label: str) -> ApiError:
    return ApiError(404, NOT_FOUND, f"{label} not found")


def unauthorized(message: str) -> ApiError:
    return ApiError(401, UNAUTHORIZED, message)


def forbidden(message: str) -> ApiError:
    return ApiError(403, FORBIDDEN, message)


def conflict(message: str, field_name: str | None = None) -> ApiError:
    return ApiError(409, CONFLICT, message, field=field_name, reason="taken")


def internal(status: int = 500) -> ApiError:
    return ApiError(status, INTERNAL_ERROR, "Internal server error")
