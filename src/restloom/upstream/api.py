"""The upstream's collections as a few typed calls: one object, a window of a list, many by id.

These are the only functions the GraphQL layer calls; they turn logical
requests (collection, filters, sort, offsets) into the profile's paths and
parameters (built in `urls`), so that no URL or header is ever built outside
`upstream/`. Every answer is checked against the profile's shape before it is
used or cached; what the upstream cannot do (a filter, an order, a field) is
refused here before anything is sent.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from enum import StrEnum

from restloom.upstream.caller import Params
from restloom.upstream.errors import Unsupported, not_found
from restloom.upstream.exchange import Exchange
from restloom.upstream.pages import Page, Record
from restloom.upstream.profile import BatchStyle, IdType, Profile, SortStyle
from restloom.upstream.shapes import PageRead, checked, object_of, read_object
from restloom.upstream.together import together
from restloom.upstream.urls import (
    auth_path,
    collection_path,
    member_path,
    members_are_filtered,
    membership_path,
    object_path,
    require_id,
    valid_id,
)


class Direction(StrEnum):
    ASC = "asc"
    DESC = "desc"


@dataclass(frozen=True)
class Sort:
    field: str  # the upstream's field name, e.g. "created_at"
    direction: Direction = Direction.ASC
    # False for an order restloom picks itself (the caller gave no `orderBy`): an
    # upstream that cannot sort that way then lists in its own order instead of failing.
    requested: bool = True


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
        sort_requested: bool = True,
        **filters: str | None,
    ) -> ListQuery:
        kept = tuple(sorted((k, v) for k, v in filters.items() if v is not None))
        if sort is not None and not sort_requested:
            sort = dataclasses.replace(sort, requested=False)
        return cls(collection, parent_id, kept, sort)


def list_params(profile: Profile, query: ListQuery) -> list[tuple[str, str]]:
    """The query parameters for `query`'s filters and order.

    Raises `Unsupported` (nothing sent) for a filter the profile does not map for this
    collection, or an order the caller asked for that the upstream cannot honour.
    """
    params: list[tuple[str, str]] = []
    for name, value in query.filters:
        param = profile.filter_param(query.collection, name)
        if param is None:
            raise Unsupported(f"{name} is not supported by this upstream", name)
        params.append((param, value))
    return params + _sort_params(profile, query.sort)


def _sort_params(profile: Profile, sort: Sort | None) -> list[tuple[str, str]]:
    spec = profile.sort
    if sort is None:
        return []
    if spec.style is SortStyle.NONE or (spec.fields is not None and sort.field not in spec.fields):
        if sort.requested:
            what = "ordering" if spec.style is SortStyle.NONE else f"ordering by {sort.field}"
            raise Unsupported(f"{what} is not supported by this upstream", "order_by")
        return []  # restloom's own default order: take the upstream's order instead
    match spec.style:
        case SortStyle.FIELD_AND_ORDER:
            return [(spec.param, sort.field), (spec.order_param, sort.direction)]
        case SortStyle.FIELD_SPACE_DIRECTION:
            return [(spec.param, f"{sort.field} {sort.direction}")]
        case SortStyle.SIGNED:
            return [(spec.param, ("-" if sort.direction is Direction.DESC else "") + sort.field)]
    raise AssertionError(f"unhandled sort style {spec.style}")


def check_fields(profile: Profile, body: Record) -> None:
    """Refuse input fields the upstream does not take, before anything is sent."""
    for name in profile.unsupported_fields:
        if name in body:
            raise Unsupported(f"{name} is not supported by this upstream", name)


def wire_id(profile: Profile, object_id: str) -> str | int:
    """An id as the upstream's JSON bodies carry it (integer ids as numbers)."""
    if profile.id_type is IdType.INTEGER and object_id.isdigit():
        return int(object_id)
    return object_id


# --- reads ----------------------------------------------------------------------


async def _get_object(ex: Exchange, path: str, params: Params = (), cached: bool = True) -> Record:
    check = checked(ex, path, lambda response: object_of(ex.profile, response.body))
    response = await ex.get(path, params, cached=cached, check=check)
    return object_of(ex.profile, response.body)


async def fetch_one(
    ex: Exchange, collection: str, object_id: str, *, cached: bool = True
) -> Record:
    return await _get_object(ex, object_path(ex.profile, collection, object_id).path, (), cached)


async def fetch_me(ex: Exchange) -> Record:
    return await _get_object(ex, collection_path(ex.profile, "me").path)


def _wire_page(profile: Profile, page: int) -> str:
    # Pages are 1-based inside restloom; some upstreams count from 0.
    return str(page - 1 + profile.pagination.first_page)


async def fetch_page(
    ex: Exchange, query: ListQuery, page: int, size: int, *, cached: bool = True
) -> Page:
    """Page `page` (1-based) of `size` items of `query`'s list, shape-checked."""
    profile = ex.profile
    spec = profile.pagination
    extra = list_params(profile, query)
    target = collection_path(profile, query.collection, query.parent_id)
    params: Params = (
        *target.params,
        *extra,
        (spec.page_param, _wire_page(profile, page)),
        (spec.size_param, str(size)),
    )
    id_key = "user_id" if query.collection == "members" else "id"
    read = PageRead(ex, target.path, page, size, id_key)
    response = await ex.get(target.path, params, cached=cached, check=read.check)
    return read.page(response)


async def fetch_many(ex: Exchange, collection: str, ids: list[str]) -> list[Record | Exception]:
    """Objects by id, in the order asked; a missing id gets a NOT_FOUND error in its slot.

    Records the cross-request cache holds are not fetched again; the others are
    fetched and kept record by record, so that any later batch can use them. An id
    that is not one of this upstream's gets an `Unsupported` error and is never sent.
    """
    cached = await ex.cached_records(collection, ids)
    missing: list[str] = []
    fetched: dict[str, Record | Exception] = {}
    for i in dict.fromkeys(ids):
        if i in cached:
            continue
        if valid_id(ex.profile, i):
            missing.append(i)
        else:
            fetched[i] = Unsupported(f"{i[:80]!r} is not a valid id for this upstream", "id")
    fetched.update(zip(missing, await _fetch_many(ex, collection, missing), strict=True))
    found = {i: r for i, r in fetched.items() if not isinstance(r, Exception)}
    await ex.remember_records(collection, found)
    return [cached[i] if i in cached else fetched[i] for i in ids]


def batch_chunk(profile: Profile) -> int | None:
    """How many ids one batch lookup asks for at most; None: the upstream has none."""
    if profile.batch is None:
        return None
    # One page holds the whole chunk, so a chunk is never larger than a page.
    return min(profile.batch.max_ids, profile.pagination.max_size)


async def _fetch_many(ex: Exchange, collection: str, ids: list[str]) -> list[Record | Exception]:
    if not ids:
        return []
    step = batch_chunk(ex.profile)
    if step is None:
        return await _fetch_each(ex, collection, ids)
    found: dict[str, Record] = {}
    chunks = [ids[i : i + step] for i in range(0, len(ids), step)]
    for records in await together([_fetch_chunk(ex, collection, c) for c in chunks]):
        found.update((str(r.get("id")), r) for r in records)
    request_id = ex.caller.request_id
    return [found.get(i) or not_found(collection, i, request_id) for i in ids]


async def _fetch_chunk(ex: Exchange, collection: str, ids: list[str]) -> list[Record]:
    profile = ex.profile
    batch = profile.batch
    assert batch is not None
    spec = profile.pagination
    if batch.style is BatchStyle.REPEATED:
        lookup: Params = tuple((batch.param, i) for i in ids)
    else:
        lookup = ((batch.param, batch.separator.join(ids)),)
    params: Params = (
        *lookup,
        (spec.page_param, _wire_page(profile, 1)),
        (spec.size_param, str(len(ids))),
    )
    path = collection_path(profile, collection).path
    read = PageRead(ex, path, 1, len(ids), "id")
    # Not cached as a response: `fetch_many` keeps the records one by one instead.
    response = await ex.get(path, params, cached=False, check=read.check)
    return read.page(response).items


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
    check_fields(ex.profile, body)
    path = collection_path(ex.profile, collection).path
    response = await ex.write("POST", path, body, idempotency_key)
    return read_object(ex, path, response)


async def update(
    ex: Exchange, collection: str, object_id: str, body: Record, idempotency_key: str | None
) -> Record:
    """PATCH only what the caller gave; maps are merged, never dropped (see `merge_maps`)."""
    check_fields(ex.profile, body)
    path = object_path(ex.profile, collection, object_id).path
    replaced = [f for f in ex.profile.replace_on_patch if isinstance(body.get(f), dict)]
    if replaced:
        # Read past the cache: the merge must start from what the upstream holds now.
        current = await fetch_one(ex, collection, object_id, cached=False)
        body = {**body, **{f: merge_maps(current.get(f), body[f]) for f in replaced}}
    response = await ex.write("PATCH", path, body, idempotency_key)
    return read_object(ex, path, response)


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
    path = object_path(ex.profile, collection, object_id).path
    await ex.write("DELETE", path, None, idempotency_key)


async def update_me(ex: Exchange, body: Record, idempotency_key: str | None) -> Record:
    check_fields(ex.profile, body)
    path = collection_path(ex.profile, "me").path
    response = await ex.write("PATCH", path, body, idempotency_key)
    return read_object(ex, path, response)


def _loose_object(profile: Profile, body: object) -> Record:
    """An answer restloom only reads optional fields from (a membership, a test delivery)."""
    try:
        return object_of(profile, body, id_key=None)
    except ValueError:
        return {}


async def add_member(
    ex: Exchange, organization_id: str, user_id: str, role: str, idempotency_key: str | None
) -> Record:
    profile = ex.profile
    target = collection_path(profile, "members", organization_id)
    require_id(profile, user_id, "user_id")
    body: Record = {"user_id": wire_id(profile, user_id), "role": role}
    for name, value in target.params:
        # A filtered member list is a collection of its own: the parent goes in the body.
        body[name] = wire_id(profile, value)
    response = await ex.write("POST", target.path, body, idempotency_key)
    return _loose_object(profile, response.body)


# Pages of the member list searched for a membership's own id (filtered form only).
MAX_MEMBERSHIP_SCAN_PAGES = 10


async def remove_member(
    ex: Exchange, organization_id: str, user_id: str, idempotency_key: str | None
) -> None:
    profile = ex.profile
    if not members_are_filtered(profile):
        path = member_path(profile, organization_id, user_id).path
    else:
        if "membership" not in profile.paths:
            raise Unsupported(
                "removing a member is not supported by this upstream "
                "(its profile has no paths.membership)",
                "user_id",
            )
        require_id(profile, user_id, "user_id")
        membership_id = await _membership_id(ex, organization_id, user_id)
        path = membership_path(profile, membership_id).path
    await ex.write("DELETE", path, None, idempotency_key)


async def _membership_id(ex: Exchange, organization_id: str, user_id: str) -> str:
    """The id of `user_id`'s membership in a filtered member list, read past the cache."""
    size = ex.profile.pagination.max_size
    query = ListQuery.build("members", parent_id=organization_id)
    for number in range(1, MAX_MEMBERSHIP_SCAN_PAGES + 1):
        page = await fetch_page(ex, query, number, size, cached=False)
        for item in page.items:
            if str(item.get("user_id")) == user_id and valid_id(ex.profile, str(item.get("id"))):
                return str(item["id"])
        if number * size >= page.total or len(page.items) < size:
            break
    raise not_found("member", user_id, ex.caller.request_id)


async def send_webhook_test(ex: Exchange, webhook_id: str, idempotency_key: str | None) -> Record:
    path = object_path(ex.profile, "webhooks", webhook_id, action="test").path
    response = await ex.write("POST", path, None, idempotency_key)
    return _loose_object(ex.profile, response.body)


async def auth_action(
    ex: Exchange, action: str, body: Record | None, idempotency_key: str | None
) -> Record:
    """`login`, `refresh`, `logout` or `register`; token bodies come back bare."""
    path = auth_path(ex.profile, action).path
    # Logging in and registering is how a caller without a credential gets one.
    public = action in ("login", "register", "refresh")
    response = await ex.write("POST", path, body, idempotency_key, public=public)
    return response.body if isinstance(response.body, dict) else {}
