"""The cache store, its keys and versions, Cache-Control, and what a path names."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from restloom.upstream.cache import CacheStore, memory_store, redis_store
from restloom.upstream.profile import MOSSDESK
from restloom.upstream.readcache import CachePolicy, ReadCache, StoredResponse, ttl_for_response
from restloom.upstream.targets import Target, locate, related
from tests.redis_support import drop_namespace, require_redis

# Everything JSON can carry, including the values a careless codec gets wrong.
AWKWARD = {
    "unicode": 'Zoë 🚀 \u2028 \x00 "quoted"',
    "floats": [0.1, 1e300, -0.0, 2.5e-308, 123456789.123456789],
    "ints": [0, -1, 2**63 - 1, -(2**63)],
    "nested": {"empty_list": [], "empty_map": {}, "null": None, "bools": [True, False]},
    "numeric_string": "0012",
}


@dataclass
class Backend:
    store: CacheStore
    namespace: str


@pytest.fixture(params=["memory", "redis"])
async def backend(request) -> AsyncIterator[Backend]:
    namespace = f"restloom-test-{uuid.uuid4().hex[:12]}"
    url = await require_redis() if request.param == "redis" else None
    store = redis_store(url) if url else memory_store()
    yield Backend(store, namespace)
    await store.close()
    if url:
        await drop_namespace(url, namespace)


async def test_values_round_trip_exactly(backend):
    store, namespace = backend.store, backend.namespace
    key = f"{namespace}:roundtrip"
    await store.set_many([(key, AWKWARD)], ttl=30)
    [back] = await store.get_many([key])
    assert back == AWKWARD
    # Equal is not enough for floats: -0.0 == 0.0. Compare the exact representation.
    assert [repr(x) for x in back["floats"]] == [repr(x) for x in AWKWARD["floats"]]
    assert type(back["ints"][2]) is int


async def test_add_only_sets_an_absent_key(backend):
    store, namespace = backend.store, backend.namespace
    key = f"{namespace}:add"
    assert await store.add(key, "first", ttl=30)
    assert not await store.add(key, "second", ttl=30)
    assert await store.get_many([key]) == ["first"]


async def test_a_stored_response_round_trips_with_its_headers(backend):
    store, namespace = backend.store, backend.namespace
    cache = ReadCache(store, MOSSDESK, CachePolicy(default_ttl=30), namespace)
    view = cache.view("principal-a", None)
    response = StoredResponse(
        200, {"X-Total": "120", "Link": '<x>; rel="next"', "X-Request-Id": "r1"}, AWKWARD
    )
    await view.keep("/api/v1/contacts", (("page", "1"), ("per_page", "25")), response)
    # Same query, parameters in another order: the same entry.
    hit = await cache.view("principal-a", None).lookup(
        "/api/v1/contacts", (("per_page", "25"), ("page", "1"))
    )
    assert hit is not None and hit.body == AWKWARD
    assert hit.headers == {"X-Total": "120", "Link": '<x>; rel="next"'}  # no per-response ones
    # Another principal, or the same one impersonating someone, sees nothing.
    assert await cache.view("principal-b", None).lookup("/api/v1/contacts", ()) is None
    assert (
        await cache.view("principal-a", "usr_2").lookup(
            "/api/v1/contacts", (("page", "1"), ("per_page", "25"))
        )
        is None
    )


async def test_a_write_replaces_the_version_of_what_it_touched(backend):
    store, namespace = backend.store, backend.namespace
    cache = ReadCache(store, MOSSDESK, CachePolicy(default_ttl=30), namespace)
    members = "/api/v1/organizations/org_1/members"
    for path in ("/api/v1/contacts", "/api/v1/organizations", members):
        await cache.view("p", None).keep(path, (), StoredResponse(200, {}, {"path": path}))
    # Adding a member: the member lists and the organizations (member_count) are stale.
    await cache.invalidate(members, "p")
    fresh = cache.view("p", None)
    assert await fresh.lookup("/api/v1/contacts", ()) is not None
    assert await fresh.lookup("/api/v1/organizations", ()) is None
    assert await fresh.lookup(members, ()) is None


async def test_records_are_kept_one_by_one(backend):
    store, namespace = backend.store, backend.namespace
    cache = ReadCache(store, MOSSDESK, CachePolicy(ttls={"users": 30}), namespace)
    view = cache.view("p", None)
    await view.keep_records("users", {"usr_1": {"id": "usr_1"}, "usr_2": {"id": "usr_2"}})
    found = await cache.view("p", None).lookup_records("users", ["usr_2", "usr_3"])
    assert found == {"usr_2": {"id": "usr_2"}}
    # contacts have no TTL here: nothing is kept or looked up.
    await view.keep_records("contacts", {"cnt_1": {"id": "cnt_1"}})
    assert await cache.view("p", None).lookup_records("contacts", ["cnt_1"]) == {}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, 60.0),
        ("public, max-age=30", 30.0),
        ("max-age=600", 60.0),
        ("no-store", 0.0),
        ("private, max-age=60", 0.0),
        ("No-Cache", 0.0),
        ("max-age=soon", 0.0),
    ],
)
def test_cache_control_is_honoured(header, expected):
    headers = {"Cache-Control": header} if header else {}
    assert ttl_for_response(headers, 60.0, honour=True) == expected
    assert ttl_for_response(headers, 60.0, honour=False) == 60.0


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("/api/v1/contacts", Target("contacts")),
        ("/api/v1/contacts/cnt_1", Target("contacts", object_id="cnt_1")),
        ("/api/v1/users/me", Target("me")),
        ("/api/v1/users/usr_1", Target("users", object_id="usr_1")),
        ("/api/v1/organizations/org_1/members", Target("members", parent_id="org_1")),
        (
            "/api/v1/organizations/org_1/members/usr_2",
            Target("members", parent_id="org_1", object_id="usr_2"),
        ),
        ("/api/v1/webhooks/whk_1/test", Target("webhooks", object_id="whk_1", action="test")),
        ("/api/v1/auth/logout", Target("auth", object_id="logout")),
        ("/other/contacts", None),
    ],
)
def test_paths_name_their_collection(path, target):
    assert locate(MOSSDESK, path) == target


def test_related_collections_follow_path_nesting():
    assert related(MOSSDESK, "members") == {"members", "organizations"}
    assert related(MOSSDESK, "organizations") == {"members", "organizations"}
    assert related(MOSSDESK, "me") == {"me", "users"}
    assert related(MOSSDESK, "contacts") == {"contacts"}
