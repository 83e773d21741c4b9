"""Mossdesk (seeds 000 + 004): X-API-Key or Bearer, ``{"data"}`` envelope with ``meta``,
``page``/``per_page`` (max 250), ``sort`` + ``order`` or ``sort=-field``, ``filter[...]``,
``filter[id]`` batch lookup, and ``{"error": {"code", "message", "field"}}`` bodies.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from restloom.sim import errors
from restloom.sim.errors import ApiError
from restloom.sim.kinds import Kind
from restloom.sim.query import (
    ListQuery,
    check_sort_field,
    filter_params,
    ids_param,
    int_param,
    search_param,
    updated_after_param,
)
from restloom.sim.results import Many, Payload
from restloom.sim.styles.base import Style, json_response


def bearer(request: web.Request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def filter_param_name(field_name: str) -> str:
    # seed 004 lists ``role`` as a plain parameter of /users, the others as filter[...]
    return field_name if field_name == "role" else f"filter[{field_name}]"


def parse_sort(raw: str | None, kind: Kind, wire: str, default_desc: bool) -> tuple[str, bool]:
    """``field`` or ``-field`` (descending) -> (field, descending)."""
    if raw is None or raw == "":
        return kind.default_sort, default_desc
    if raw.startswith("-"):
        return check_sort_field(kind, raw[1:], wire), True
    return check_sort_field(kind, raw, wire), default_desc


class MossdeskStyle(Style):
    name = "mossdesk"
    max_per_page = 250
    default_per_page = 25

    def credential(self, request: web.Request) -> str | None:
        key = request.headers.get("X-API-Key", "").strip()
        return key or bearer(request)

    def parse_list(self, query: Mapping[str, str], kind: Kind) -> ListQuery:
        page = int_param(query, self.wire("page"), default=1, minimum=1, maximum=None)
        per_page = int_param(
            query,
            self.wire("per_page"),
            default=self.default_per_page,
            minimum=1,
            maximum=self.max_per_page,
        )
        order_wire = self.wire("order")
        order = query.get(order_wire)
        if order is not None and order.lower() not in ("asc", "desc"):
            raise errors.validation(order_wire, f"{order_wire} must be asc or desc")
        descending = kind.default_descending if order is None else order.lower() == "desc"
        sort_field, descending = parse_sort(
            query.get(self.wire("sort")), kind, self.wire("sort"), descending
        )
        return ListQuery(
            page=page,
            per_page=per_page,
            sort=sort_field,
            descending=descending,
            filters=filter_params(query, kind, lambda f: self.wire(filter_param_name(f))),
            search=search_param(query, kind, self.wire("search")),
            updated_after=updated_after_param(query, self.wire("updated_after")),
            ids=ids_param(query, self.wire("filter[id]")),
        )

    def render_one(self, item: dict[str, Any], status: int) -> web.Response:
        return json_response({"data": item}, status)

    def render_many(
        self, items: list[dict[str, Any]], result: Many, request: web.Request
    ) -> web.Response:
        q = result.query
        meta = {
            "page": q.page,
            "per_page": q.per_page,
            "total": result.total,
            "total_pages": math.ceil(result.total / q.per_page),
        }
        return json_response({"data": items, "meta": meta})

    def render_payload(self, result: Payload) -> web.Response:
        body = {"data": result.body} if result.envelope else result.body
        return json_response(body, result.status)

    def error(self, err: ApiError) -> web.Response:
        body: dict[str, Any] = {"code": err.code, "message": err.message}
        if err.field is not None:
            body["field"] = err.field
        return json_response({"error": body}, err.status, err.headers)
