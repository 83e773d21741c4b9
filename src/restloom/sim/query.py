"""List queries: the style-neutral ``ListQuery``, its evaluation, and parameter parsers.

Each style reads its own parameter names and syntax into a ``ListQuery``; filtering,
sorting (always tie-broken by id ascending, so pages are stable) and paging are shared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any

from restloom.sim import errors
from restloom.sim.kinds import MEMBERS, Kind
from restloom.sim.records import Membership, Record, parse_ts

Row = Record | Membership
MAX_BATCH_IDS = 100


@dataclass(frozen=True)
class ListQuery:
    page: int = 1
    per_page: int = 25
    sort: str = "created_at"
    descending: bool = True
    # (field, value) exact-match filters, already validated against the kind.
    filters: tuple[tuple[str, str], ...] = ()
    search: str | None = None
    updated_after: datetime | None = None
    # Internal ids for batch lookup; None means no batch filter.
    ids: frozenset[str] | None = None


def _sort_key(field_name: str, kind: Kind) -> Callable[[Row], Any]:
    # Timestamps every row has (never None) sort by the attribute itself: no Python call
    # per row. Sorting a collection of 1,000 by `created_at` was most of the sim's time
    # for a page (0.5 ms -> 0.18 ms with `tie_key` an attribute too).
    if kind is MEMBERS and field_name == "joined_at":
        return attrgetter("joined_at")
    if kind is not MEMBERS and field_name in ("created_at", "updated_at"):
        return attrgetter(field_name)

    # None sorts after every value in ascending order.
    def key(row: Row) -> tuple[bool, Any]:
        value = row.get(field_name)
        return (value is None, value if value is not None else "")

    return key


def _checks(q: ListQuery, kind: Kind) -> list[Callable[[Row], bool]]:
    """One predicate per active filter; none at all for a plain page (the common case),
    so listing a large collection costs no per-row filter calls."""
    checks: list[Callable[[Row], bool]] = []
    if q.ids is not None:
        ids = q.ids
        checks.append(lambda row: row.get("id") in ids)
    for field_name, value in q.filters:
        checks.append(lambda row, f=field_name, v=value: row.get(f) == v)
    if q.updated_after is not None:
        after = q.updated_after
        checks.append(lambda row: row.get("updated_at") > after)
    if q.search:
        needle = q.search.casefold()
        fields = kind.search_fields
        checks.append(lambda row: any(needle in str(row.get(f) or "").casefold() for f in fields))
    return checks


def select(
    rows: Iterable[Row],
    q: ListQuery,
    kind: Kind,
    tie_key: Callable[[Row], Any],
    past_end: str = "empty",
) -> tuple[list[Row], int]:
    """Filter, sort and page ``rows``; returns (page items, total matching).

    ``past_end`` says what a page after the last one is (see ``config.PAST_END_MODES``):
    empty, a 404 "Invalid page." (Django REST Framework), or the last page (json-server 1.0).
    """
    checks = _checks(q, kind)
    matched = [row for row in rows if all(c(row) for c in checks)] if checks else list(rows)
    # Two stable sorts: id ascending first, so equal sort values keep id order
    # (``reverse=True`` preserves the order of equal elements).
    matched.sort(key=tie_key)
    matched.sort(key=_sort_key(q.sort, kind), reverse=q.descending)
    start = (q.page - 1) * q.per_page
    if q.page > 1 and start >= len(matched):
        if past_end == "not_found":
            raise errors.ApiError(404, errors.NOT_FOUND, "Invalid page.")
        if past_end == "last_page" and matched:
            start = (len(matched) - 1) // q.per_page * q.per_page
    return matched[start : start + q.per_page], len(matched)


# ---------------------------------------------------------------------- parsers


def int_param(
    query: Mapping[str, str], wire: str, *, default: int, minimum: int, maximum: int | None
) -> int:
    raw = query.get(wire)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise errors.validation(wire, f"{wire} must be an integer") from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise errors.validation(wire, f"{wire} must be {bound}")
    return value


def check_sort_field(kind: Kind, field_name: str, wire: str) -> str:
    if field_name not in kind.sortable:
        raise errors.validation(
            wire, f"{wire} must be one of {', '.join(kind.sortable)} (got {field_name!r})"
        )
    return field_name


def updated_after_param(query: Mapping[str, str], wire: str) -> datetime | None:
    raw = query.get(wire)
    if raw is None:
        return None
    value = parse_ts(raw)
    if value is None:
        raise errors.validation(wire, f"{wire} must be an ISO 8601 timestamp")
    return value


def ids_param(query: Mapping[str, str], wire: str) -> frozenset[str] | None:
    raw = query.get(wire)
    if raw is None:
        return None
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    if len(ids) > MAX_BATCH_IDS:
        raise errors.validation(wire, f"{wire} accepts at most {MAX_BATCH_IDS} ids")
    return frozenset(ids)


def filter_params(
    query: Mapping[str, str], kind: Kind, wire_of: Callable[[str], str]
) -> tuple[tuple[str, str], ...]:
    """Exact-match filters of ``kind``; ``wire_of(field)`` names the query parameter."""
    out: list[tuple[str, str]] = []
    for field_name, allowed in kind.filters.items():
        wire = wire_of(field_name)
        raw = query.get(wire)
        if raw is None:
            continue
        if raw not in allowed:
            raise errors.validation(wire, f"{wire} must be one of {', '.join(allowed)}")
        out.append((field_name, raw))
    return tuple(out)


def search_param(query: Mapping[str, str], kind: Kind, wire: str) -> str | None:
    if not kind.search_fields:
        return None
    raw = query.get(wire)
    return raw if raw else None
