"""Audit trail of writes, for ``GET /__sim/audit``: who acted, with which credential."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class AuditEntry:
    method: str
    path: str
    # Rendered in the style's id format (integers for MOCO); the impersonated user if any.
    actor_user_id: Any
    credential: str  # masked
    request_id: str
    idempotency_key: str | None
    status: int
    # The user the credential itself belongs to (differs from actor when impersonating).
    principal_user_id: Any = None
    replayed: bool = False


@dataclass
class AuditLog:
    entries: list[AuditEntry] = field(default_factory=list)

    def add(self, entry: AuditEntry) -> None:
        self.entries.append(entry)

    def clear(self) -> None:
        self.entries.clear()

    def snapshot(self) -> dict[str, Any]:
        return {"entries": [asdict(e) for e in self.entries]}
