"""MOCO (seeds 001/002): ``Authorization: Token token=KEY``, bare JSON bodies, header
pagination (``X-Page``, ``X-Per-Page``, ``X-Total``, ``Link rel="next"``; 100 per page at
most), ``sort_by=field [asc|desc]`` (default asc), plain filter parameters, integer ids,
``custom_properties``, 422 for validation and ``{"message": ...}`` error bodies.

MOCO documents no rate-limit headers, only the 429, so none are sent (Retry-After is).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from operator import attrgetter
from typing import Any

from aiohttp import web

from restloom.sim import errors
from restloom.sim.errors import ApiError
from restloom.sim.kinds import Kind
from restloom.sim.query import (
    ListQuery,
    Row,
    check_sort_field,
    filter_params,
    int_param,
    search_param,
    updated_after_param,
)
from restloom.sim.results import Many
from restloom.sim.styles.base import Style, json_response
from restloom.sim.styles.mossdesk import bearer

TOKEN_RE = re.compile(r'^Token\s+token="?([^"\s]+)"?\s*$', re.IGNORECASE)
INT_RE = re.compile(r"^[0-9]{1,18}$")


class MocoStyle(Style):
    name = "moco"
    sends_rate_headers = False
    shows_custom_properties = True

    def credential(self, request: web.Request) -> str | None:
        match = TOKEN_RE.match(request.headers.get("Authorization", ""))
        return match.group(1) if match else bearer(request)

    def parse_list(self, query: Mapping[str, str], kind: Kind) -> ListQuery:
        sort_wire = self.wire("sort_by")
        sort_field, descending = kind.default_sort, False
        raw = query.get(sort_wire)
        if raw is not None and raw.strip():
            parts = raw.split()
            if len(parts) > 2 or (len(parts) == 2 and parts[1].lower() not in ("asc", "desc")):
                raise errors.validation(
                    sort_wire, f"{sort_wire} must be 'field', 'field asc' or 'field desc'"
                )
            sort_field = check_sort_field(kind, parts[0], sort_wire)
            descending = len(parts) == 2 and parts[1].lower() == "desc"
        return ListQuery(
            page=int_param(query, self.wire("page"), default=1, minimum=1, maximum=None),
            per_page=int_param(query, self.wire("per_page"), default=100, minimum=1, maximum=100),
            sort=sort_field,
            descending=descending,
            filters=filter_params(query, kind, self.wire),
            search=search_param(query, kind, self.wire("search")),
            updated_after=updated_after_param(query, self.wire("updated_after")),
        )

    # ------------------------------------------------------------------ integer ids
    def _num(self, raw: Any) -> int | None:
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and INT_RE.match(raw):
            return int(raw)
        return None

    def path_id(self, kind: str, raw: str) -> str | None:
        num = self._num(raw)
        return None if num is None else self.data.id_for_num(kind, num)

    def ref_in(self, kind: str, value: Any, field_name: str) -> str | None:
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.bad_type(field_name, "an integer id")
        return self.data.id_for_num(kind, value)

    def impersonation_target(self, raw: str) -> str | None:
        return self.path_id("users", raw)

    def id_out(self, kind: str, record_id: str) -> Any:
        return self.data.num_for_id(kind, record_id)

    def tie_key(self, kind: str) -> Callable[[Row], Any]:
        if kind == "members":
            return lambda row: self.data.num_for_id("users", row.get("id")) or 0
        return attrgetter("num")

    # ------------------------------------------------------------------ rendering
    def render_many(
        self, items: list[dict[str, Any]], result: Many, request: web.Request
    ) -> web.Response:
        q = result.query
        headers = {
            "X-Page": str(q.page),
            "X-Per-Page": str(q.per_page),
            "X-Total": str(result.total),
        }
        if q.page * q.per_page < result.total:
            next_url = request.url.update_query({self.wire("page"): str(q.page + 1)})
            headers["Link"] = f'<{next_url}>; rel="next"'
        return json_response(items, headers=headers)

    def error(self, err: ApiError) -> web.Response:
        status = 422 if err.code == errors.VALIDATION_ERROR else err.status
        body: dict[str, Any] = {"message": err.message}
        if err.field is not None:
            body["field"] = err.field
        return json_response(body, status, err.headers)
