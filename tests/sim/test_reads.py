"""Mossdesk reads: auth, envelope, paging, sorting, filters, batch lookup, errors."""

from __future__ import annotations

import re
import time
from datetime import datetime

import pytest

from restloom.sim import SimServer

from .conftest import FULL, READ, Api, all_rows, small_config

TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
COLLECTIONS = {
    "contacts": ("cnt", 60),
    "resources": ("res", 40),
    "users": ("usr", 30),
    "organizations": ("org", 8),
    "webhooks": ("whk", 5),
}


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


# ---------------------------------------------------------------------- auth


async def test_missing_and_wrong_credentials_are_401(api: Api):
    reply = await api.get("/contacts", auth=False)
    assert reply.status == 401
    assert reply.error["code"] == "UNAUTHORIZED"
    assert reply.error["message"]
    reply = await api.as_({"X-API-Key": "moss_k_nope"}).get("/contacts")
    assert reply.status == 401
    assert reply.error["code"] == "UNAUTHORIZED"
    reply = await api.as_({"Authorization": "Bearer nope"}).get("/contacts")
    assert reply.status == 401


async def test_keys_are_bound_to_the_first_two_users(api: Api, read_api: Api):
    users = await all_rows(api, "/users", sort="created_at", order="asc")
    me = (await api.get("/users/me")).data
    assert me == users[0]
    assert me["role"] == "admin"
    assert (await read_api.get("/users/me")).data == users[1]


# ---------------------------------------------------------------------- envelope


@pytest.mark.parametrize("name", sorted(COLLECTIONS))
async def test_list_envelope_and_records(api: Api, name: str):
    prefix, total = COLLECTIONS[name]
    reply = await api.get(f"/{name}")
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("application/json")
    assert reply.body["meta"] == {
        "page": 1,
        "per_page": 25,
        "total": total,
        "total_pages": -(-total // 25),
    }
    assert len(reply.data) == min(25, total)
    for row in reply.data:
        assert re.fullmatch(prefix + r"_[a-z0-9]{10}", row["id"])
        assert TS_RE.match(row["created_at"]) and TS_RE.match(row["updated_at"])
        assert row["updated_at"] >= row["created_at"]
        assert "secret" not in row and "password" not in row
    single = await api.get(f"/{name}/{reply.data[0]['id']}")
    assert single.status == 200
    assert single.body == {"data": reply.data[0]}


async def test_record_fields(api: Api):
    contact = (await api.get("/contacts")).data[0]
    assert set(contact) == {
        "id", "first_name", "last_name", "email", "phone", "company", "job_title",
        "created_at", "updated_at",
    }  # fmt: skip
    resource = (await api.get("/resources")).data[0]
    assert resource["type"] in ("standard", "premium", "enterprise")
    assert resource["status"] in ("active", "inactive", "archived")
    assert isinstance(resource["metadata"], dict)
    owner = await api.get(f"/users/{resource['owner_id']}")
    assert owner.status == 200
    user = (await api.get("/users")).data[0]
    assert set(user["profile"]) == {"first_name", "last_name", "avatar_url"}
    assert user["role"] in ("admin", "member", "viewer")
    org = (await api.get("/organizations")).data[0]
    assert {"name", "slug", "description", "member_count"} <= set(org)
    hook = (await api.get("/webhooks")).data[0]
    assert set(hook) == {"id", "url", "events", "active", "created_at", "updated_at"}
    orgs = await all_rows(api, "/organizations")
    assert len({o["slug"] for o in orgs}) == len(orgs)


async def test_timestamps_span_about_two_years(api: Api):
    rows = await all_rows(api, "/contacts")
    created = sorted(ts(r["created_at"]) for r in rows)
    assert (created[-1] - created[0]).days > 365


async def test_not_found(api: Api):
    reply = await api.get("/contacts/cnt_doesnotexist")
    assert reply.status == 404
    assert reply.body == {"error": {"code": "NOT_FOUND", "message": "Contact not found"}}
    for path, label in [
        ("/resources/x", "Resource"),
        ("/users/x", "User"),
        ("/organizations/x", "Organization"),
        ("/organizations/x/members", "Organization"),
        ("/webhooks/x", "Webhook"),
    ]:
        reply = await api.get(path)
        assert reply.status == 404
        assert reply.error["message"] == f"{label} not found"


# ---------------------------------------------------------------------- paging


async def test_pages_cover_everything_once(api: Api):
    seen: list[str] = []
    page = 1
    while True:
        reply = await api.get("/contacts", params={"per_page": 7, "page": page})
        assert reply.body["meta"]["total_pages"] == 9
        if not reply.data:
            break
        seen += [r["id"] for r in reply.data]
        page += 1
    assert page == 10
    assert len(seen) == len(set(seen)) == 60


async def test_page_past_the_end(api: Api):
    reply = await api.get("/contacts", params={"page": 99, "per_page": 10})
    assert reply.status == 200
    assert reply.body == {
        "data": [],
        "meta": {"page": 99, "per_page": 10, "total": 60, "total_pages": 6},
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"per_page": "0"}, "per_page"),
        ({"per_page": "251"}, "per_page"),
        ({"per_page": "ten"}, "per_page"),
        ({"page": "0"}, "page"),
        ({"page": "1.5"}, "page"),
        ({"sort": "phone"}, "sort"),
        ({"sort": "-phone"}, "sort"),
        ({"order": "up"}, "order"),
        ({"updated_after": "yesterday"}, "updated_after"),
    ],
)
async def test_validation_errors(api: Api, params: dict[str, str], field: str):
    reply = await api.get("/contacts", params=params)
    assert reply.status == 400
    assert reply.error["code"] == "VALIDATION_ERROR"
    assert reply.error["field"] == field
    assert reply.error["message"]


async def test_per_page_bounds_are_inclusive(api: Api):
    assert (await api.get("/contacts", params={"per_page": 250})).status == 200
    assert len((await api.get("/contacts", params={"per_page": 1})).data) == 1


async def test_unknown_params_are_ignored(api: Api):
    plain = await api.get("/contacts")
    extra = await api.get("/contacts", params={"colour": "blue", "filter[status]": "x"})
    assert extra.status == 200
    assert extra.raw == plain.raw


# ---------------------------------------------------------------------- sorting


def _keys(rows: list[dict], field: str) -> list:
    return [r[field] for r in rows]


async def test_default_sort_is_created_at_desc(api: Api):
    rows = await all_rows(api, "/contacts")
    created = _keys(rows, "created_at")
    assert created == sorted(created, reverse=True)


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/contacts", "first_name"),
        ("/contacts", "last_name"),
        ("/contacts", "email"),
        ("/contacts", "updated_at"),
        ("/resources", "name"),
        ("/users", "username"),
        ("/users", "email"),
        ("/organizations", "name"),
        ("/webhooks", "updated_at"),
    ],
)
async def test_sort_and_order_with_id_tie_break(api: Api, path: str, field: str):
    asc = await all_rows(api, path, sort=field, order="asc")
    assert [(r[field], r["id"]) for r in asc] == sorted((r[field], r["id"]) for r in asc)
    desc = await all_rows(api, path, sort=field, order="desc")
    minus = await all_rows(api, path, sort="-" + field)
    assert desc == minus
    # Descending by the field, but equal values still by id ascending.
    expected = sorted(asc, key=lambda r: r["id"])
    expected.sort(key=lambda r: r[field], reverse=True)
    assert desc == expected


async def test_ties_are_broken_by_id(api: Api):
    rows = await all_rows(api, "/contacts", sort="first_name", order="desc")
    by_name: dict[str, list[str]] = {}
    for r in rows:
        by_name.setdefault(r["first_name"], []).append(r["id"])
    assert any(len(ids) > 1 for ids in by_name.values()), "the seed should produce ties"
    for ids in by_name.values():
        assert ids == sorted(ids)


# ---------------------------------------------------------------------- filters


async def test_resource_filters(api: Api):
    everything = await all_rows(api, "/resources")
    for status in ("active", "inactive", "archived"):
        rows = await all_rows(api, "/resources", **{"filter[status]": status})
        assert rows == [r for r in everything if r["status"] == status]
    rows = await all_rows(
        api, "/resources", **{"filter[type]": "standard", "filter[status]": "active"}
    )
    assert rows and all(r["type"] == "standard" and r["status"] == "active" for r in rows)
    for field in ("filter[status]", "filter[type]"):
        reply = await api.get("/resources", params={field: "bogus"})
        assert reply.status == 400
        assert reply.error["field"] == field


async def test_users_role_filter(api: Api):
    everything = await all_rows(api, "/users")
    admins = await all_rows(api, "/users", role="admin")
    assert admins == [u for u in everything if u["role"] == "admin"]
    reply = await api.get("/users", params={"role": "king"})
    assert reply.status == 400
    assert reply.error["field"] == "role"


async def test_contact_search(api: Api):
    everything = await all_rows(api, "/contacts")
    company = everything[0]["company"].split()[0]
    rows = await all_rows(api, "/contacts", search=company.upper())
    fields = ("first_name", "last_name", "email", "company")
    expected = [r for r in everything if any(company.lower() in r[f].lower() for f in fields)]
    assert rows == expected
    assert rows
    assert await all_rows(api, "/contacts", search="zzzzqqq") == []


async def test_user_search_covers_profile_names(api: Api):
    everything = await all_rows(api, "/users")
    name = everything[3]["profile"]["last_name"]
    rows = await all_rows(api, "/users", search=name.lower())
    assert everything[3] in rows
    for r in rows:
        haystack = " ".join(
            [r["email"], r["username"], r["profile"]["first_name"], r["profile"]["last_name"]]
        ).lower()
        assert name.lower() in haystack


@pytest.mark.parametrize(
    "path", ["/contacts", "/resources", "/users", "/organizations", "/webhooks"]
)
async def test_updated_after_is_strict(api: Api, path: str):
    everything = await all_rows(api, path)
    stamps = sorted(r["updated_at"] for r in everything)
    pivot = stamps[len(stamps) // 2]
    rows = await all_rows(api, path, updated_after=pivot)
    assert rows == [r for r in everything if r["updated_at"] > pivot]
    assert all(r["updated_at"] != pivot for r in rows)
    # Offsets are understood too.
    shifted = ts(pivot).astimezone().isoformat()
    assert await all_rows(api, path, updated_after=shifted) == rows


async def test_batch_lookup(api: Api):
    everything = await all_rows(api, "/contacts")
    wanted = [everything[5]["id"], everything[1]["id"], everything[40]["id"]]
    reply = await api.get("/contacts", params={"filter[id]": ",".join([*wanted, "cnt_unknown000"])})
    assert reply.status == 200
    assert sorted(r["id"] for r in reply.data) == sorted(wanted)
    assert reply.body["meta"] == {"page": 1, "per_page": 25, "total": 3, "total_pages": 1}
    paged = await api.get(
        "/contacts", params={"filter[id]": ",".join(wanted), "per_page": 2, "page": 2}
    )
    assert len(paged.data) == 1
    assert paged.body["meta"]["total_pages"] == 2
    too_many = ",".join(f"cnt_{i:010d}" for i in range(101))
    reply = await api.get("/contacts", params={"filter[id]": too_many})
    assert reply.status == 400
    assert reply.error["field"] == "filter[id]"
    users = await all_rows(api, "/users")
    reply = await api.get("/users", params={"filter[id]": users[0]["id"]})
    assert reply.data == [users[0]]


# ---------------------------------------------------------------------- members


async def test_members(api: Api):
    orgs = await all_rows(api, "/organizations")
    user_ids = {u["id"] for u in await all_rows(api, "/users")}
    for org in orgs:
        members = await all_rows(api, f"/organizations/{org['id']}/members")
        assert 5 <= len(members) <= 30
        assert len(members) == org["member_count"]
        assert [m["role"] for m in members].count("owner") == 1
        assert all(set(m) == {"user_id", "role", "joined_at"} for m in members)
        assert {m["user_id"] for m in members} <= user_ids
        assert [(m["joined_at"], m["user_id"]) for m in members] == sorted(
            (m["joined_at"], m["user_id"]) for m in members
        )
    org_id = orgs[0]["id"]
    members = await all_rows(api, f"/organizations/{org_id}/members")
    desc = await all_rows(api, f"/organizations/{org_id}/members", sort="joined_at", order="desc")
    assert [m["joined_at"] for m in desc] == sorted((m["joined_at"] for m in members), reverse=True)
    pivot = sorted(m["joined_at"] for m in members)[len(members) // 2]
    later = await all_rows(api, f"/organizations/{org_id}/members", updated_after=pivot)
    assert later == [m for m in members if m["joined_at"] > pivot]
    some = [members[0]["user_id"], members[-1]["user_id"]]
    batch = await all_rows(
        api, f"/organizations/{org_id}/members", **{"filter[id]": ",".join(some)}
    )
    assert sorted(m["user_id"] for m in batch) == sorted(some)
    bad = await api.get(f"/organizations/{org_id}/members", params={"sort": "role"})
    assert bad.status == 400
    assert bad.error["field"] == "sort"


async def test_members_are_clamped_to_the_number_of_users(session):
    async with SimServer(small_config(users=3, organizations=4)) as sim:
        api = Api(session, sim.api_url, {"X-API-Key": FULL})
        for org in await all_rows(api, "/organizations"):
            members = await all_rows(api, f"/organizations/{org['id']}/members")
            assert len(members) == 3


# ---------------------------------------------------------------------- tracing, stats


async def test_request_id_is_echoed_or_generated(api: Api):
    reply = await api.get("/contacts", headers={"X-Request-Id": "req-abc-123"})
    assert reply.headers["X-Request-Id"] == "req-abc-123"
    a = (await api.get("/contacts")).headers["X-Request-Id"]
    b = (await api.get("/nowhere", auth=False)).headers["X-Request-Id"]
    assert a and b and a != b


async def test_stats_count_api_requests_and_reset(api: Api, control: Api):
    contact = (await api.get("/contacts")).data[0]
    await api.get(f"/contacts/{contact['id']}")
    await api.get("/contacts/cnt_missing")
    await api.get("/contacts", auth=False)
    await api.as_({"X-API-Key": READ}).get("/users/me")
    stats = (await control.get("/stats")).body
    assert stats["requests"] == 5
    assert stats["by_path"] == {
        "GET /api/v1/contacts": 2,
        f"GET /api/v1/contacts/{contact['id']}": 1,
        "GET /api/v1/contacts/cnt_missing": 1,
        "GET /api/v1/users/me": 1,
    }
    assert stats["by_route"] == {"GET /contacts": 2, "GET /contacts/{id}": 2, "GET /users/me": 1}
    assert stats["status"] == {"200": 3, "401": 1, "404": 1}
    assert stats["rate_limited"] == 0
    creds = stats["by_credential"]
    assert sum(creds.values()) == 5
    assert creds["anonymous"] == 1
    assert sorted(creds.values()) == [1, 1, 3]
    assert all(FULL not in k and READ not in k for k in creds)
    assert any(k.startswith(FULL[:8]) for k in creds)
    reset = await control.post("/stats/reset")
    assert reset.status == 200
    assert (await control.get("/stats")).body["requests"] == 0


# ---------------------------------------------------------------------- determinism, latency


async def test_same_seed_gives_byte_identical_responses(session):
    paths = ["/contacts?per_page=100", "/users?sort=email", "/organizations", "/resources?page=2"]

    async def fetch(seed: int) -> list[bytes]:
        async with SimServer(small_config(seed=seed)) as sim:
            api = Api(session, sim.api_url, {"X-API-Key": FULL})
            out = [(await api.get(p)).raw for p in paths]
            orgs = (await api.get("/organizations")).data
            out.append((await api.get(f"/organizations/{orgs[0]['id']}/members")).raw)
            return out

    first, second, other = await fetch(7), await fetch(7), await fetch(8)
    assert first == second
    assert first[0] != other[0]


async def test_latency(session):
    async with SimServer(small_config(latency_ms=150)) as sim:
        api = Api(session, sim.api_url, {"X-API-Key": FULL})
        start = time.monotonic()
        assert (await api.get("/webhooks")).status == 200
        assert time.monotonic() - start >= 0.15


async def test_request_log(api: Api, control: Api):
    users = (await api.get("/users")).data
    await api.get(
        "/contacts",
        params={"per_page": "3"},
        headers={"X-Request-Id": "trace-1", "X-IMPERSONATE-USER-ID": users[4]["id"]},
    )
    await api.post("/contacts", json={"first_name": "x"}, headers={"Idempotency-Key": "k9"})
    log = (await control.get("/requests")).body["requests"]
    assert [(e["method"], e["route"], e["status"]) for e in log] == [
        ("GET", "/users", 200),
        ("GET", "/contacts", 200),
        ("POST", "/contacts", 400),
    ]
    assert log[1]["request_id"] == "trace-1"
    assert log[1]["query"] == "per_page=3"
    assert log[1]["impersonate_user_id"] == users[4]["id"]
    assert log[2]["idempotency_key"] == "k9"
    await control.post("/stats/reset")
    assert (await control.get("/requests")).body == {"requests": []}
