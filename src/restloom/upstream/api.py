"""The upstream's collections as a few typed calls: one object, a window of a list, many by id.

These are the only functions the GraphQL layer calls; they turn logical
requests (collection, filters, sort, offsets) into the profile's paths and
parameters, so that no URL or header is ever built outside `upstream/`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum

from restloom.upstream.client import Exchange, Params
from restloom.upstream.errors import not_found
from restloom.upstream.pages import Page, Record, parse_page
from restloom.upstream.profile import IdType, Profile, SortStyle


class Direction(StrEnum):
    ASC = "asc"
    DESC = "desc"


@dataclass(frozen=True)
class Sort:
    field: str  # the upstream's field name, e.g. "created_at"
    direction: Direction = Direction.ASC


@dataclass(frozen=True)
class ListQuery:
    """What to list: a collection (and its parent), filtered and sorted."""

    collection: str
    parent_id: str | None = None
    filters: tuple[tuple[str, str], ...] = ()  # (logical filter name, value), sorted
    sort: Sort | None = None

    @classmethod
    def build(
        cls,
        collection: str,
        *,
        parent_id: str | None = None,
        sort: Sort | None = None,
        **filters: str | None,
    ) -> ListQuery:
        kept = tuple(sorted((k, v) for k, v in filters.items() if v is not None))
        return cls(collection, parent_id, kept, sort)


def _list_params(profile: Profile, query: ListQuery) -> list[tuple[str, str]]:
    params = [(profile.filter_params[name], value) for name, value in query.filters]
    if query.sort is not None:
        spec = profile.sort
        match spec.style:
            case SortStyle.FIELD_AND_ORDER:
                params += [(spec.param, query.sort.field), (spec.order_param, query.sort.direction)]
            case SortStyle.FIELD_SPACE_DIRECTION:
                params.append((spec.param, f"{query.sort.field} {query.sort.direction}"))
            case SortStyle.SIGNED:
                sign = "-" if query.sort.direction is Direction.DESC else ""
                params.append((spec.param, sign + query.sort.field))
    return params


def wire_id(profile: Profile, object_id: str) -> str | int:
    """An id as the upstream's JSON bodies carry it (integer ids as numbers)."""
    if profile.id_type is IdType.INTEGER and object_id.isdigit():
        return int(object_id)
    return object_id


def _item(profile: Profile, body: object) -> Record:
    if profile.item_key is not None and isinstance(body, dict):
        body = body.get(profile.item_key)
    return body if isinstance(body, dict) else {}


async def fetch_one(
    ex: Exchange, collection: str, object_id: str, *, cached: bool = True
) -> Record:
    path = ex.profile.path(collection) + "/" + object_id
    response = await ex.get(path, cached=cached)
    return _item(ex.profile, response.body)


async def fetch_me(ex: Exchange) -> Record:
    response = await ex.get(ex.profile.path("me"))
    return _item(ex.profile, response.body)


async def fetch_page(ex: Exchange, query: ListQuery, page: int, size: int) -> Page:
    spec = ex.profile.pagination
    params: Params = (
        *_list_params(ex.profile, query),
        (spec.page_param, str(page)),
        (spec.size_param, str(size)),
    )
    response = await ex.get(ex.profile.path(query.collection, query.parent_id), params)
    return parse_page(spec, response.body, response.headers, page, size)


async def fetch_many(ex: Exchange, collection: str, ids: list[str]) -> list[Record | Exception]:
    """Objects by id, in the order asked; a missing id gets a NOT_FOUND error in its slot.

    Records the cross-request cache holds are not fetched again; the others are
    fetched and kept record by record, so that any later batch can use them.
    """
    cached = await ex.cached_records(collection, ids)
    missing = [i for i in dict.fromkeys(ids) if i not in cached]
    fetched = dict(zip(missing, await _fetch_many(ex, collection, missing), strict=True))
    found = {i: r for i, r in fetched.items() if not isinstance(r, Exception)}
    await ex.remember_records(collection, found)
    return [cached[i] if i in cached else fetched[i] for i in ids]


async def _fetch_many(ex: Exchange, collection: str, ids: list[str]) -> list[Record | Exception]:
    if not ids:
        return []
    batch = ex.profile.batch
    if batch is None:
        return await _fetch_each(ex, collection, ids)
    found: dict[str, Record] = {}
    chunks = [ids[i : i + batch.max_ids] for i in range(0, len(ids), batch.max_ids)]
    queries = [_fetch_chunk(ex, collection, chunk) for chunk in chunks]
    for records in await asyncio.gather(*queries):
        found.update((str(r.get("id")), r) for r in records)
    request_id = ex.caller.request_id
    return [found.get(i) or not_found(collection, i, request_id) for i in ids]


async def _fetch_chunk(ex: Exchange, collection: str, ids: list[str]) -> list[Record]:
    batch = ex.profile.batch
    assert batch is not None
    spec = ex.profile.pagination
    params: Params = (
        (batch.param, batch.separator.join(ids)),
        (spec.page_param, "1"),
        (spec.size_param, str(min(len(ids), spec.max_size))),
    )
    # Not cached as a response: `fetch_many` keeps the records one by one instead.
    response = await ex.get(ex.profile.path(collection), params, cached=False)
    return parse_page(spec, response.body, response.headers, 1, len(ids)).items


# Single GETs when the upstream has no batch lookup: concurrent, but not unbounded.
SINGLE_GET_CONCURRENCY = 10


async def _fetch_each(ex: Exchange, collection: str, ids: list[str]) -> list[Record | Exception]:
    gate = asyncio.Semaphore(SINGLE_GET_CONCURRENCY)

    async def one(object_id: str) -> Record | Exception:
        async with gate:
            try:
                return await fetch_one(ex, collection, object_id, cached=False)
            except Exception as exc:
                return exc

    return list(await asyncio.gather(*(one(i) for i in ids)))


# --- writes -------------------------------------------------------------------


async def create(
    ex: Exchange, collection: str, body: Record, idempotency_key: str | None
) -> Record:
    response = await ex.write("POST", ex.profile.path(collection), body, idempotency_key)
    return _item(ex.profile, response.body)


async def update(
    ex: Exchange, collection: str, object_id: str, body: Record, idempotency_key: str | None
) -> Record:
    """PATCH only what the caller gave; maps are merged, never dropped (see `merge_maps`)."""
    replaced = [f for f in ex.profile.replace_on_patch if isinstance(body.get(f), dict)]
    if replaced:
        # Read past the cache: the merge must start from what the upstream holds now.
        current = await fetch_one(ex, collection, object_id, cached=False)
        body = {**body, **{f: merge_maps(current.get(f), body[f]) for f in replaced}}
    path = ex.profile.path(collection) + "/" + object_id
    response = await ex.write("PATCH", path, body, idempotency_key)
    return _item(ex.profile, response.body)


def merge_maps(current: object, changes: Record) -> Record:
    """The whole map to send to an upstream that replaces it: keys set to null go away,
    keys given are set, and every key the caller did not mention is kept."""
    merged = dict(current) if isinstance(current, dict) else {}
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


async def delete(
    ex: Exchange, collection: str, object_id: str, idempotency_key: str | None
) -> None:
    await ex.write("DELETE", ex.profile.path(collection) + "/" + object_id, None, idempotency_key)


async def update_me(ex: Exchange, body: Record, idempotency_key: str | None) -> Record:
    response = await ex.write("PATCH", ex.profile.path("me"), body, idempotency_key)
    return _item(ex.profile, response.body)


async def add_member(
    ex: Exchange, organization_id: str, user_id: str, role: str, idempotency_key: str | None
) -> Record:
    path = ex.profile.path("members", organization_id)
    body = {"user_id": wire_id(ex.profile, user_id), "role": role}
    response = await ex.write("POST", path, body, idempotency_key)
    return _item(ex.profile, response.body)


async def remove_member(
    ex: Exchange, organization_id: str, user_id: str, idempotency_key: str | None
) -> None:
    path = ex.profile.path("members", organization_id) + "/" + user_id
    await ex.write("DELETE", path, None, idempotency_key)


async def send_webhook_test(ex: Exchange, webhook_id: str, idempotency_key: str | None) -> Record:
    path = ex.profile.path("webhooks") + "/" + webhook_id + "/test"
    response = await ex.write("POST", path, None, idempotency_key)
    return _item(ex.profile, response.body)


async def auth_action(
    ex: Exchange, action: str, body: Record | None, idempotency_key: str | None
) -> Record:
    """`login`, `refresh`, `logout` or `register`; token bodies come back bare."""
    path = ex.profile.path("auth") + "/" + action
    # Logging in and registering is how a caller without a credential gets one.
    public = action in ("login", "register", "refresh")
    response = await ex.write("POST", path, body, idempotency_key, public=public)
    return response.body if isinstance(response.body, dict) else {}
