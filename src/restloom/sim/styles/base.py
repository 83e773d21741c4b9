"""The ``Style`` interface: everything that differs between the upstream documents.

A style reads credentials and list parameters in its own syntax, maps ids between
the wire and the dataset, and renders results and errors in its own shapes. The
pipeline and the handlers only talk to this interface.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from operator import attrgetter
from typing import Any

import orjson
from aiohttp import web

from restloom.sim import errors
from restloom.sim.config import SimConfig
from restloom.sim.dataset import Dataset
from restloom.sim.errors import ApiError
from restloom.sim.kinds import KINDS, MEMBERS, Kind
from restloom.sim.query import ListQuery, Row
from restloom.sim.records import Membership, Record, format_ts
from restloom.sim.results import Many, NoContent, One, Payload, Result


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=orjson.dumps(body), status=status, content_type="application/json", headers=headers
    )


def kind_of(name: str) -> Kind:
    return MEMBERS if name == "members" else KINDS[name]


class Style(ABC):
    name: str = ""
    # Whether X-RateLimit-* headers go on every response when a limit is set.
    sends_rate_headers: bool = True
    # Whether records carry MOCO-style ``custom_properties``.
    shows_custom_properties: bool = False

    def __init__(self, config: SimConfig, data: Dataset) -> None:
        self.config = config
        self.data = data

    # ------------------------------------------------------------------ names
    def wire(self, canonical: str) -> str:
        """Wire name of a canonical query parameter (after ``--param`` renames)."""
        return self.config.param_for(canonical)

    # ------------------------------------------------------------------ requests
    @abstractmethod
    def credential(self, request: web.Request) -> str | None:
        """The credential the request presents (API key or token), unchecked."""

    @abstractmethod
    def parse_list(self, query: Mapping[str, str], kind: Kind) -> ListQuery: ...

    def path_id(self, kind: str, raw: str) -> str | None:
        """Dataset id for an id taken from the URL (None: cannot exist)."""
        return raw

    def ref_in(self, kind: str, value: Any, field_name: str) -> str | None:
        """Dataset id for a reference sent in a body; None when no such record.

        Raises a validation error when the value has the wrong JSON type.
        """
        if not isinstance(value, str) or not value:
            raise self.bad_type(field_name, "a string id")
        return value if self.data.get(kind, value) is not None else None

    def bad_type(self, field_name: str, expected: str) -> ApiError:
        return errors.validation(field_name, f"{field_name} must be {expected}")

    def impersonation_target(self, raw: str) -> str | None:
        """Dataset user id named by X-IMPERSONATE-USER-ID; None when unknown."""
        return raw if self.data.get("users", raw) is not None else None

    # ------------------------------------------------------------------ ids out
    def id_out(self, kind: str, record_id: str) -> Any:
        return record_id

    def tie_key(self, kind: str) -> Callable[[Row], Any]:
        # What `row.get("id")` gives, read as an attribute (no Python call per row).
        return attrgetter("user_id") if kind == "members" else attrgetter("id")

    # ------------------------------------------------------------------ rendering
    def record(self, kind: str, row: Row) -> dict[str, Any]:
        if isinstance(row, Membership):
            return {
                "user_id": self.id_out("users", row.user_id),
                "role": row.role,
                "joined_at": format_ts(row.joined_at),
            }
        return self._record(kind_of(kind), row)

    def _record(self, kind: Kind, row: Record) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id_out(kind.name, row.id)}
        if kind.refs:
            for key, value in row.fields.items():
                target = kind.refs.get(key)
                out[key] = self.id_out(target, value) if target and value is not None else value
        else:
            # Nothing to translate: one copy instead of a lookup per field.
            out.update(row.fields)
        if kind.custom_properties and self.shows_custom_properties:
            out["custom_properties"] = row.custom_properties
        out["created_at"] = format_ts(row.created_at)
        out["updated_at"] = format_ts(row.updated_at)
        return out

    def render(self, result: Result, request: web.Request) -> web.Response:
        if isinstance(result, NoContent):
            return web.Response(status=result.status)
        if isinstance(result, One):
            return self.render_one(self.record(result.kind, result.row), result.status)
        if isinstance(result, Many):
            items = [self.record(result.kind, row) for row in result.rows]
            return self.render_many(items, result, request)
        assert isinstance(result, Payload)
        return self.render_payload(result)

    def render_one(self, item: dict[str, Any], status: int) -> web.Response:
        """A single object: bare, as MOCO and the template send it; mossdesk wraps it."""
        return json_response(item, status)

    @abstractmethod
    def render_many(
        self, items: list[dict[str, Any]], result: Many, request: web.Request
    ) -> web.Response: ...

    def render_payload(self, result: Payload) -> web.Response:
        return json_response(result.body, result.status)

    @abstractmethod
    def error(self, err: ApiError) -> web.Response: ...
