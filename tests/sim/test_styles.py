"""The moco and template styles, and the rename options, over the same dataset."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import aiohttp
import orjson
import pytest

from restloom.sim import SimServer

from .conftest import FULL, READ, Api, small_config

MOCO_AUTH = {"Authorization": f"Token token={FULL}"}


def basic(key: str, secret: str = "anything") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()}


@pytest.fixture
async def moco(session: aiohttp.ClientSession) -> AsyncIterator[Api]:
    async with SimServer(small_config(style="moco", rate_limit=0)) as sim:
        yield Api(session, sim.api_url, MOCO_AUTH)


@pytest.fixture
async def template(session: aiohttp.ClientSession) -> AsyncIterator[Api]:
    async with SimServer(small_config(style="template")) as sim:
        yield Api(session, sim.api_url, basic(FULL))


async def _moco_all(api: Api, path: str, **params: str) -> list[dict]:
    reply = await api.get(path, params={"per_page": "100", **params})
    assert reply.status == 200, reply.body
    return reply.body


# ---------------------------------------------------------------------- moco


async def test_moco_auth(moco: Api):
    assert (await moco.get("/contacts")).status == 200
    assert (
        await moco.as_({"Authorization": f'Token token="{READ}"'}).get("/users/me")
    ).status == 200
    for headers in ({}, {"X-API-Key": FULL}, {"Authorization": "Token token=nope"}):
        reply = await moco.as_(headers).get("/contacts")
        assert reply.status == 401
        assert set(reply.body) == {"message"}


async def test_moco_header_pagination(moco: Api, session: aiohttp.ClientSession):
    first = await moco.get("/contacts", params={"per_page": "25"})
    assert isinstance(first.body, list)
    assert len(first.body) == 25
    assert (first.headers["X-Page"], first.headers["X-Per-Page"], first.headers["X-Total"]) == (
        "1",
        "25",
        "60",
    )
    seen = [c["id"] for c in first.body]
    link = first.headers["Link"]
    while link:
        assert link.endswith('>; rel="next"')
        url = link[1 : link.index(">")]
        async with session.get(url, headers=MOCO_AUTH) as resp:
            seen += [c["id"] for c in await resp.json()]
            link = resp.headers.get("Link", "")
    assert sorted(seen) == list(range(1, 61))
    default = await moco.get("/contacts")
    assert default.headers["X-Per-Page"] == "100"
    assert "Link" not in default.headers
    past = await moco.get("/contacts", params={"page": "9"})
    assert past.body == []
    too_big = await moco.get("/contacts", params={"per_page": "101"})
    assert too_big.status == 422
    assert too_big.body == {"message": too_big.body["message"], "field": "per_page"}


async def test_moco_integer_ids_and_bare_objects(moco: Api):
    contacts = await _moco_all(moco, "/contacts")
    # Default order is ascending creation, which is id order.
    assert [c["id"] for c in contacts] == list(range(1, 61))
    single = await moco.get("/contacts/7")
    assert single.body == contacts[6]
    missing = await moco.get("/contacts/999")
    assert missing.status == 404
    assert missing.body == {"message": "Contact not found"}
    assert (await moco.get("/contacts/cnt_abc")).status == 404
    resource = (await moco.get("/resources/1")).body
    assert isinstance(resource["owner_id"], int)
    assert (await moco.get(f"/users/{resource['owner_id']}")).status == 200
    members = (await moco.get("/organizations/1/members")).body
    assert all(isinstance(m["user_id"], int) for m in members)
    me = (await moco.get("/users/me")).body
    assert me["id"] == 1
    assert me["role"] == "admin"


async def test_moco_sort_filters_and_no_batch_lookup(moco: Api):
    rows = await _moco_all(moco, "/contacts", sort_by="first_name desc")
    assert [r["first_name"] for r in rows] == sorted((r["first_name"] for r in rows), reverse=True)
    asc = await _moco_all(moco, "/contacts", sort_by="last_name")
    assert [r["last_name"] for r in asc] == sorted(r["last_name"] for r in asc)
    for bad in ("phone", "first_name sideways", "-first_name"):
        reply = await moco.get("/contacts", params={"sort_by": bad})
        assert reply.status == 422
        assert reply.body["field"] == "sort_by"
    resources = await _moco_all(moco, "/resources")
    active = await _moco_all(moco, "/resources", status="active")
    assert active == [r for r in resources if r["status"] == "active"]
    assert (await moco.get("/resources", params={"status": "nope"})).status == 422
    admins = await _moco_all(moco, "/users", role="admin")
    assert admins and all(u["role"] == "admin" for u in admins)
    pivot = sorted(r["updated_at"] for r in resources)[20]
    newer = await _moco_all(moco, "/resources", updated_after=pivot)
    assert newer == [r for r in resources if r["updated_at"] > pivot]
    assert len(await _moco_all(moco, "/contacts", **{"filter[id]": "1,2"})) == 60


async def test_moco_custom_properties_are_replaced_on_write(moco: Api):
    contact = (await moco.get("/contacts/3")).body
    assert set(contact["custom_properties"]) == {"Line of business", "UID"}
    assert "custom_properties" in (await moco.get("/organizations/1")).body
    assert "custom_properties" in (await moco.get("/resources/1")).body
    assert "custom_properties" not in (await moco.get("/users/1")).body
    # Not sending custom_properties leaves them alone...
    kept = await moco.patch("/contacts/3", json={"job_title": "CTO"})
    assert kept.body["custom_properties"] == contact["custom_properties"]
    # ...sending some removes the others, as MOCO documents.
    replaced = await moco.request("PUT", "/contacts/3", json={"custom_properties": {"UID": "1"}})
    assert replaced.status == 200
    assert replaced.body["custom_properties"] == {"UID": "1"}
    assert replaced.body["job_title"] == "CTO"
    created = await moco.post(
        "/contacts",
        json={"first_name": "A", "email": "a@b.co", "custom_properties": {"Tags": ["x", "y"]}},
    )
    assert created.status == 201
    assert created.body["id"] == 61
    assert created.body["custom_properties"] == {"Tags": ["x", "y"]}
    bad = await moco.patch("/contacts/3", json={"custom_properties": {"UID": 5}})
    assert bad.status == 422
    assert bad.body["field"] == "custom_properties"


async def test_moco_writes_with_integer_references(moco: Api, session: aiohttp.ClientSession):
    res = await moco.post("/resources", json={"name": "R", "type": "premium", "owner_id": 4})
    assert res.status == 201
    assert res.body["owner_id"] == 4
    wrong_type = await moco.post(
        "/resources", json={"name": "R", "type": "premium", "owner_id": "4"}
    )
    assert wrong_type.status == 422
    assert wrong_type.body["field"] == "owner_id"
    members = (await moco.get("/organizations/2/members")).body
    outsider = next(n for n in range(1, 31) if n not in {m["user_id"] for m in members})
    added = await moco.post(
        "/organizations/2/members", json={"user_id": outsider, "role": "member"}
    )
    assert added.status == 201
    assert added.body["user_id"] == outsider
    assert (await moco.delete(f"/organizations/2/members/{outsider}")).status == 204
    ghost = await moco.post("/organizations/2/members", json={"user_id": 999, "role": "member"})
    assert ghost.status == 404
    assert ghost.body == {"message": "User not found"}
    read = moco.as_({"Authorization": f"Token token={READ}"})
    denied = await read.post("/contacts", json={})
    assert denied.status == 403
    assert set(denied.body) == {"message"}


async def test_moco_impersonation_uses_integer_ids(moco: Api, session: aiohttp.ClientSession):
    me = await moco.get("/users/me", headers={"X-IMPERSONATE-USER-ID": "5"})
    assert me.body["id"] == 5
    created = await moco.post(
        "/resources",
        json={"name": "R", "type": "standard"},
        headers={"X-IMPERSONATE-USER-ID": "5"},
    )
    assert created.body["owner_id"] == 5
    bad = await moco.get("/users/me", headers={"X-IMPERSONATE-USER-ID": "usr_x"})
    assert bad.status == 422
    assert bad.body["field"] == "X-IMPERSONATE-USER-ID"
    control = Api(session, moco.base.removesuffix("/api/v1") + "/__sim", {})
    entry = (await control.get("/audit")).body["entries"][-1]
    assert (entry["actor_user_id"], entry["principal_user_id"]) == (5, 1)


async def test_moco_default_rate_limit(session: aiohttp.ClientSession):
    async with SimServer(small_config(style="moco")) as sim:
        api = Api(session, sim.api_url, MOCO_AUTH)
        replies = [await api.get("/webhooks") for _ in range(16)]
        assert [r.status for r in replies] == [200] * 15 + [429]
        assert "X-RateLimit-Limit" not in replies[0].headers
        assert set(replies[-1].body) == {"message"}
        assert 1 <= int(replies[-1].headers["Retry-After"]) <= 15


# ---------------------------------------------------------------------- template


async def test_template_auth(template: Api, session: aiohttp.ClientSession):
    assert (await template.get("/contacts")).status == 200
    assert (await template.as_(basic(READ, "")).get("/users/me")).status == 200
    for headers in ({}, basic("nope"), {"Authorization": "Basic !!!"}, {"X-API-Key": FULL}):
        reply = await template.as_(headers).get("/contacts")
        assert reply.status == 401
        assert reply.body["error"] == "unauthorized"
        assert reply.body["message"]
    email = (await template.get("/users/me")).body["email"]
    tokens = await template.post(
        "/auth/login", json={"email": email, "password": "password"}, auth=False
    )
    bearer = template.as_({"Authorization": f"Bearer {tokens.body['access_token']}"})
    assert (await bearer.get("/users/me")).body["email"] == email


async def test_template_lists(template: Api):
    reply = await template.get("/contacts")
    assert set(reply.body) == {"data", "total", "page", "limit"}
    assert (reply.body["total"], reply.body["page"], reply.body["limit"]) == (60, 1, 25)
    assert len(reply.body["data"]) == 25
    everything = (await template.get("/contacts", params={"limit": "100"})).body["data"]
    assert [c["created_at"] for c in everything] == sorted(
        (c["created_at"] for c in everything), reverse=True
    )
    asc = (await template.get("/contacts", params={"limit": "100", "sort": "email"})).body["data"]
    assert [c["email"] for c in asc] == sorted(c["email"] for c in asc)
    desc = (await template.get("/contacts", params={"limit": "100", "sort": "-email"})).body["data"]
    assert [c["email"] for c in desc] == sorted((c["email"] for c in desc), reverse=True)
    page3 = await template.get("/contacts", params={"page": "3", "limit": "25"})
    assert len(page3.body["data"]) == 10
    bad = await template.get("/contacts", params={"limit": "101"})
    assert bad.status == 422
    assert bad.body["error"] == "validation_failed"
    assert bad.body["details"] == {"field": "limit", "code": "invalid"}
    wanted = [everything[0]["id"], everything[9]["id"]]
    batch = await template.get("/contacts", params={"ids": ",".join(wanted)})
    assert sorted(c["id"] for c in batch.body["data"]) == sorted(wanted)
    active = await template.get("/resources", params={"filter[status]": "active", "limit": "100"})
    assert all(r["status"] == "active" for r in active.body["data"])


async def test_template_single_errors_and_writes(template: Api):
    contact = (await template.get("/contacts")).body["data"][0]
    single = await template.get(f"/contacts/{contact['id']}")
    assert single.body == contact
    missing = await template.get("/contacts/cnt_missing000")
    assert missing.status == 404
    assert missing.body == {"error": "not_found", "message": "Contact not found"}
    required = await template.post("/contacts", json={"email": "a@b.co"})
    assert required.status == 422
    assert required.body["details"] == {"field": "first_name", "code": "required"}
    org = (await template.get("/organizations")).body["data"][0]
    dup = await template.post("/organizations", json={"name": "x", "slug": org["slug"]})
    assert dup.status == 409
    assert dup.body["error"] == "conflict"
    created = await template.post("/contacts", json={"first_name": "A", "email": "a@b.co"})
    assert created.status == 201
    assert created.body["first_name"] == "A"
    hook = (await template.get("/webhooks")).body["data"][0]
    tested = await template.post(f"/webhooks/{hook['id']}/test")
    # Queued, not sent: a seeded hook's URL is made up (tests/sim/test_webhook_delivery.py).
    assert tested.status == 202
    assert tested.body["event"] == "webhook.test"
    assert tested.body["queued"] is False
    denied = await template.as_(basic(READ)).delete(f"/contacts/{contact['id']}")
    assert denied.status == 403
    assert denied.body["error"] == "forbidden"


async def test_template_rate_headers_on_every_response(template: Api):
    ok = await template.get("/contacts")
    assert ok.headers["X-RateLimit-Limit"] == "100"
    assert ok.headers["X-RateLimit-Remaining"] == "99"
    assert int(ok.headers["X-RateLimit-Reset"]) > 0
    missing = await template.get("/contacts/nope")
    assert missing.headers["X-RateLimit-Remaining"] == "98"
    assert template.base.endswith("/v1") and not template.base.endswith("/api/v1")


# ---------------------------------------------------------------------- renames


async def test_renamed_prefix_paths_and_params(session: aiohttp.ClientSession):
    config = small_config(
        prefix="/rest",
        paths={"contacts": "/people", "organizations": "/teams"},
        params={"page": "p", "per_page": "size", "sort": "order_by", "filter[id]": "only"},
    )
    async with SimServer(config) as sim:
        assert sim.api_url == sim.url + "/rest"
        api = Api(session, sim.api_url, {"X-API-Key": FULL})
        reply = await api.get("/people", params={"p": "2", "size": "5", "order_by": "-first_name"})
        assert reply.status == 200
        assert reply.body["meta"] == {"page": 2, "per_page": 5, "total": 60, "total_pages": 12}
        names = [c["first_name"] for c in reply.data]
        assert names == sorted(names, reverse=True)
        # The original names are now just unknown parameters.
        plain = await api.get("/people", params={"page": "2", "per_page": "5"})
        assert plain.body["meta"]["page"] == 1
        bad = await api.get("/people", params={"size": "0"})
        assert bad.status == 400
        assert bad.error["field"] == "size"
        ids = [c["id"] for c in reply.data[:2]]
        assert len((await api.get("/people", params={"only": ",".join(ids)})).data) == 2
        team = (await api.get("/teams")).data[0]
        assert (await api.get(f"/teams/{team['id']}/members")).status == 200
        assert (await api.get("/contacts")).status == 404
        async with session.get(sim.url + "/api/v1/people", headers={"X-API-Key": FULL}) as resp:
            assert resp.status == 404
        stats = (await Api(session, sim.url + "/__sim", {}).get("/stats")).body
        assert stats["by_route"]["GET /people"] == 4
        assert stats["by_route"]["GET /teams/{id}/members"] == 1


async def test_moco_link_uses_the_renamed_page_param(session: aiohttp.ClientSession):
    config = small_config(style="moco", rate_limit=0, params={"page": "pg"}, prefix="")
    async with SimServer(config) as sim:
        assert sim.api_url == sim.url
        api = Api(session, sim.api_url, MOCO_AUTH)
        reply = await api.get("/contacts", params={"per_page": "10", "pg": "2"})
        assert reply.headers["X-Page"] == "2"
        assert "pg=3" in reply.headers["Link"]
        assert (await api.get("/__sim/stats")).status == 200


async def test_styles_share_the_dataset(session: aiohttp.ClientSession):
    async with (
        SimServer(small_config()) as moss,
        SimServer(small_config(style="moco", rate_limit=0)) as moco_sim,
    ):
        a = Api(session, moss.api_url, {"X-API-Key": FULL})
        b = Api(session, moco_sim.api_url, MOCO_AUTH)
        first = (await a.get("/contacts", params={"sort": "created_at", "order": "asc"})).data[0]
        other = (await b.get("/contacts/1")).body
        strip = {"id", "custom_properties"}
        assert {k: v for k, v in first.items() if k not in strip} == {
            k: v for k, v in other.items() if k not in strip
        }
        assert orjson.dumps(first["created_at"]) == orjson.dumps(other["created_at"])
