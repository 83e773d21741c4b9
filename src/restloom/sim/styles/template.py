"""The endpoint template (seed 003): HTTP Basic (client_id = API key, any secret) or
Bearer, ``page`` + ``limit`` (default 25, max 100) with ``{data, total, page, limit}``,
bare single objects, ``sort=field`` / ``sort=-field``, ``filter[...]``, ``ids=a,b,c``
batch lookup, and ``{"error", "message", "details": {"field", "code"}}`` errors with
422 for validation.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from restloom.sim import errors
from restloom.sim.errors import ApiError
from restloom.sim.kinds import Kind
from restloom.sim.query import (
    ListQuery,
    filter_params,
    ids_param,
    int_param,
    search_param,
    updated_after_param,
)
from restloom.sim.results import Many, Payload
from restloom.sim.styles.base import Style, json_response
from restloom.sim.styles.mossdesk import bearer, filter_param_name, parse_sort

ERROR_NAMES: dict[str, str] = {
    errors.VALIDATION_ERROR: "validation_failed",
    errors.UNAUTHORIZED: "unauthorized",
    errors.FORBIDDEN: "forbidden",
    errors.NOT_FOUND: "not_found",
    errors.CONFLICT: "conflict",
    errors.RATE_LIMITED: "rate_limited",
    errors.INTERNAL_ERROR: "internal_error",
    errors.IDEMPOTENCY_KEY_REUSED: "idempotency_key_reused",
}


def basic_client_id(request: web.Request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, _, _secret = decoded.partition(":")
    return client_id or None


class TemplateStyle(Style):
    name = "template"

    def credential(self, request: web.Request) -> str | None:
        return basic_client_id(request) or bearer(request)

    def parse_list(self, query: Mapping[str, str], kind: Kind) -> ListQuery:
        sort_wire = self.wire("sort")
        raw_sort = query.get(sort_wire)
        if raw_sort:
            # ``sort=field`` is ascending here, ``sort=-field`` descending.
            sort_field, descending = parse_sort(raw_sort, kind, sort_wire, False)
        else:
            sort_field, descending = kind.default_sort, kind.default_descending
        return ListQuery(
            page=int_param(query, self.wire("page"), default=1, minimum=1, maximum=None),
            per_page=int_param(query, self.wire("limit"), default=25, minimum=1, maximum=100),
            sort=sort_field,
            descending=descending,
            filters=filter_params(query, kind, lambda f: self.wire(filter_param_name(f))),
            search=search_param(query, kind, self.wire("search")),
            updated_after=updated_after_param(query, self.wire("updated_after")),
            ids=ids_param(query, self.wire("ids")),
        )

    def render_many(
        self, items: list[dict[str, Any]], result: Many, request: web.Request
    ) -> web.Response:
        q = result.query
        body = {"data": items, "total": result.total, "page": q.page, "limit": q.per_page}
        return json_response(body)

    def render_payload(self, result: Payload) -> web.Response:
        response = super().render_payload(result)
        location = getattr(result, "location", "")
        if location:
            # 202 Accepted for async work: where the job's status is (restloom.sim.jobs).
            response.headers["Location"] = location
        return response

    def error(self, err: ApiError) -> web.Response:
        status = 422 if err.code == errors.VALIDATION_ERROR else err.status
        body: dict[str, Any] = {
            "error": ERROR_NAMES.get(err.code, err.code.lower()),
            "message": err.message,
        }
        if err.field is not None:
            body["details"] = {"field": err.field, "code": err.reason}
        return json_response(body, status, err.headers)
