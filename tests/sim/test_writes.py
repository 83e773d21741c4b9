"""Mossdesk writes: create/patch/delete, validation, conflicts, scopes, impersonation, audit."""

from __future__ import annotations

import pytest

from .conftest import Api, all_rows

CREATE = {
    "contacts": {"first_name": "Jane", "last_name": "Smith", "email": "jane@acme.com"},
    "resources": {"name": "New Resource", "type": "standard"},
    "organizations": {"name": "My Organization", "slug": "my-org"},
    "webhooks": {"url": "https://your-app.com/webhook", "events": ["resource.created"]},
}


@pytest.mark.parametrize("name", sorted(CREATE))
async def test_create_get_patch_delete(api: Api, name: str):
    before = (await api.get(f"/{name}")).body["meta"]["total"]
    created = await api.post(f"/{name}", json=CREATE[name])
    assert created.status == 201, created.body
    record = created.data
    if name == "webhooks":
        # A secret the sim made is shown once, in the create answer only.
        assert record.pop("secret").startswith("whsec_")
    prefix = {"contacts": "cnt_", "resources": "res_", "organizations": "org_", "webhooks": "whk_"}
    assert record["id"].startswith(prefix[name])
    assert record["created_at"] == record["updated_at"]
    assert (await api.get(f"/{name}/{record['id']}")).data == record
    assert (await api.get(f"/{name}")).body["meta"]["total"] == before + 1
    # Newest first by default.
    assert (await api.get(f"/{name}")).data[0]["id"] == record["id"]

    field = next(iter(CREATE[name]))
    value = "https://other.example/hook" if name == "webhooks" else "Changed"
    patched = await api.patch(f"/{name}/{record['id']}", json={field: value})
    assert patched.status == 200, patched.body
    assert patched.data[field] == value
    untouched = {k: v for k, v in record.items() if k not in (field, "updated_at")}
    assert {k: v for k, v in patched.data.items() if k not in (field, "updated_at")} == untouched
    assert patched.data["updated_at"] >= record["updated_at"]

    deleted = await api.delete(f"/{name}/{record['id']}")
    assert deleted.status == 204
    assert deleted.raw == b""
    assert (await api.get(f"/{name}/{record['id']}")).status == 404
    assert (await api.delete(f"/{name}/{record['id']}")).status == 404
    assert (await api.patch(f"/{name}/{record['id']}", json={field: value})).status == 404


async def test_created_resource_defaults(api: Api):
    me = (await api.get("/users/me")).data
    res = (await api.post("/resources", json=CREATE["resources"])).data
    assert res["status"] == "active"
    assert res["metadata"] == {}
    assert res["owner_id"] == me["id"]
    assert res["description"] is None


async def test_patch_updates_timestamps_of_seeded_records(api: Api):
    contact = (await api.get("/contacts")).data[-1]
    patched = (await api.patch(f"/contacts/{contact['id']}", json={"job_title": "CEO"})).data
    assert patched["created_at"] == contact["created_at"]
    assert patched["updated_at"] > contact["updated_at"]
    # The sync filter sees the change.
    newer = await all_rows(api, "/contacts", updated_after=contact["updated_at"])
    assert contact["id"] in [r["id"] for r in newer]


async def test_metadata_patch_merges_and_null_removes(api: Api):
    res = (
        await api.post(
            "/resources",
            json={**CREATE["resources"], "metadata": {"a": "1", "b": 2, "drop": None}},
        )
    ).data
    assert res["metadata"] == {"a": "1", "b": 2}
    patched = await api.patch(f"/resources/{res['id']}", json={"metadata": {"b": None, "c": "x"}})
    assert patched.data["metadata"] == {"a": "1", "c": "x"}
    assert patched.data["name"] == res["name"]


async def test_optional_fields_accept_null(api: Api):
    contact = (await api.post("/contacts", json=CREATE["contacts"])).data
    patched = await api.patch(f"/contacts/{contact['id']}", json={"last_name": None})
    assert patched.status == 200
    assert patched.data["last_name"] is None
    reply = await api.patch(f"/contacts/{contact['id']}", json={"email": None})
    assert reply.status == 400
    assert reply.error["field"] == "email"


async def test_organization_creator_is_owner(api: Api):
    me = (await api.get("/users/me")).data
    org = (await api.post("/organizations", json=CREATE["organizations"])).data
    assert org["member_count"] == 1
    members = (await api.get(f"/organizations/{org['id']}/members")).data
    assert [(m["user_id"], m["role"]) for m in members] == [(me["id"], "owner")]
    await api.delete(f"/organizations/{org['id']}")
    assert (await api.get(f"/organizations/{org['id']}/members")).status == 404


# ---------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/contacts", {"email": "jane@acme.com"}, "first_name"),
        ("/contacts", {"first_name": "Jane"}, "email"),
        ("/contacts", {"first_name": "", "email": "jane@acme.com"}, "first_name"),
        ("/contacts", {"first_name": "Jane", "email": "not-an-email"}, "email"),
        ("/contacts", {"first_name": 5, "email": "jane@acme.com"}, "first_name"),
        ("/contacts", {"firstName": "Jane", "email": "jane@acme.com"}, "firstName"),
        ("/resources", {"type": "standard"}, "name"),
        ("/resources", {"name": "R"}, "type"),
        ("/resources", {"name": "R", "type": "gold"}, "type"),
        ("/resources", {"name": "R", "type": "standard", "status": "gone"}, "status"),
        ("/resources", {"name": "R", "type": "standard", "metadata": [1]}, "metadata"),
        ("/resources", {"name": "R", "type": "standard", "owner_id": "usr_nobody0000"}, "owner_id"),
        ("/organizations", {"slug": "x"}, "name"),
        ("/organizations", {"name": "X"}, "slug"),
        ("/organizations", {"name": "X", "slug": "Not A Slug"}, "slug"),
        ("/webhooks", {"events": ["resource.created"]}, "url"),
        ("/webhooks", {"url": "https://a.example/h"}, "events"),
        ("/webhooks", {"url": "ftp://a.example/h", "events": ["resource.created"]}, "url"),
        ("/webhooks", {"url": "https://a.example/h", "events": ["resource.exploded"]}, "events"),
        ("/webhooks", {"url": "https://a.example/h", "events": "resource.created"}, "events"),
        (
            "/webhooks",
            {"url": "https://a.example/h", "events": ["user.updated"], "active": 1},
            "active",
        ),
    ],
)
async def test_create_validation(api: Api, path: str, body: dict, field: str):
    reply = await api.post(path, json=body)
    assert reply.status == 400, reply.body
    assert reply.error["code"] == "VALIDATION_ERROR"
    assert reply.error["field"] == field


async def test_member_validation(api: Api):
    org = (await api.get("/organizations")).data[0]["id"]
    for body, field in [({"role": "member"}, "user_id"), ({"user_id": "usr_x"}, "role")]:
        reply = await api.post(f"/organizations/{org}/members", json=body)
        assert reply.status == 400
        assert reply.error["field"] == field
    users = await all_rows(api, "/users")
    reply = await api.post(
        f"/organizations/{org}/members", json={"user_id": users[0]["id"], "role": "boss"}
    )
    assert reply.status == 400
    assert reply.error["field"] == "role"


@pytest.mark.parametrize("raw", [b"{not json", b'{"first_name": "Jane",}', b"[1, 2]", b'"text"'])
async def test_malformed_bodies(api: Api, raw: bytes):
    reply = await api.post("/contacts", data=raw, headers={"Content-Type": "application/json"})
    assert reply.status == 400
    assert reply.error["code"] == "VALIDATION_ERROR"
    assert reply.error["field"] == "body"


# ---------------------------------------------------------------------- conflicts, 404


async def test_duplicate_slug_is_a_conflict(api: Api):
    existing = (await api.get("/organizations")).data[0]
    reply = await api.post("/organizations", json={"name": "Copy", "slug": existing["slug"]})
    assert reply.status == 409
    assert reply.error["code"] == "CONFLICT"
    other = (await api.post("/organizations", json={"name": "New", "slug": "fresh-slug"})).data
    reply = await api.patch(f"/organizations/{other['id']}", json={"slug": existing["slug"]})
    assert reply.status == 409
    # Re-sending its own slug is fine.
    same = await api.patch(f"/organizations/{other['id']}", json={"slug": "fresh-slug"})
    assert same.status == 200


async def test_members_add_and_remove(api: Api):
    org = (await api.get("/organizations")).data[0]
    members = await all_rows(api, f"/organizations/{org['id']}/members")
    current = {m["user_id"] for m in members}
    outsider, other = [u for u in await all_rows(api, "/users") if u["id"] not in current][:2]
    path = f"/organizations/{org['id']}/members"
    added = await api.post(path, json={"user_id": outsider["id"], "role": "admin"})
    assert added.status == 201
    assert added.data["user_id"] == outsider["id"]
    assert added.data["role"] == "admin"
    assert (await api.get(f"/organizations/{org['id']}")).data["member_count"] == len(members) + 1
    again = await api.post(path, json={"user_id": outsider["id"], "role": "member"})
    assert again.status == 409
    assert again.error["code"] == "CONFLICT"
    second_owner = await api.post(path, json={"user_id": other["id"], "role": "owner"})
    assert second_owner.status == 409
    ghost = await api.post(path, json={"user_id": "usr_ghost00000", "role": "member"})
    assert ghost.status == 404
    assert ghost.error["code"] == "NOT_FOUND"
    assert (await api.post("/organizations/org_nope/members", json={})).status == 404

    removed = await api.delete(f"{path}/{outsider['id']}")
    assert removed.status == 204
    assert (await api.delete(f"{path}/{outsider['id']}")).status == 404
    assert (await api.get(f"/organizations/{org['id']}")).data["member_count"] == len(members)
    owner = next(m for m in members if m["role"] == "owner")
    assert (await api.delete(f"{path}/{owner['user_id']}")).status == 409


async def test_webhook_secret_is_never_returned_and_test_endpoint(api: Api):
    hook = await api.post("/webhooks", json={**CREATE["webhooks"], "secret": "shh"})
    assert hook.status == 201
    assert "secret" not in hook.data
    assert b"shh" not in hook.raw
    tested = await api.post(f"/webhooks/{hook.data['id']}/test")
    # Queued for delivery; tests/sim/test_webhook_delivery.py follows deliveries to a receiver.
    assert tested.status == 202
    assert tested.data["event"] == "webhook.test"
    assert tested.data["event_id"].startswith("evt_")
    assert tested.data["queued"] is True
    assert (await api.post("/webhooks/whk_nope/test")).status == 404


async def test_patch_me(api: Api, read_api: Api):
    me = (await api.get("/users/me")).data
    reply = await api.patch(
        "/users/me", json={"profile": {"first_name": "Janet"}, "username": "janet.x"}
    )
    assert reply.status == 200, reply.body
    assert reply.data["profile"] == {**me["profile"], "first_name": "Janet"}
    assert reply.data["username"] == "janet.x"
    assert (await api.get(f"/users/{me['id']}")).data == reply.data
    other = (await read_api.get("/users/me")).data
    taken = await api.patch("/users/me", json={"email": other["email"]})
    assert taken.status == 409
    bad = await api.patch("/users/me", json={"profile": {"nickname": "J"}})
    assert bad.status == 400
    assert bad.error["field"] == "profile.nickname"
    assert (await api.patch("/users/me", json={"role": "admin"})).status == 400


# ---------------------------------------------------------------------- scopes


WRITES = [
    ("POST", "/contacts"),
    ("PATCH", "/contacts/{contact}"),
    ("DELETE", "/contacts/{contact}"),
    ("POST", "/resources"),
    ("PATCH", "/resources/{resource}"),
    ("DELETE", "/resources/{resource}"),
    ("POST", "/organizations"),
    ("PATCH", "/organizations/{org}"),
    ("DELETE", "/organizations/{org}"),
    ("POST", "/organizations/{org}/members"),
    ("DELETE", "/organizations/{org}/members/{user}"),
    ("POST", "/webhooks"),
    ("PATCH", "/webhooks/{hook}"),
    ("DELETE", "/webhooks/{hook}"),
    ("POST", "/webhooks/{hook}/test"),
    ("PATCH", "/users/me"),
]


@pytest.mark.parametrize(("method", "template"), WRITES)
async def test_read_key_gets_403_before_validation(api: Api, read_api: Api, method, template):
    org = (await api.get("/organizations")).data[0]["id"]
    ids = {
        "contact": (await api.get("/contacts")).data[0]["id"],
        "resource": (await api.get("/resources")).data[0]["id"],
        "org": org,
        "user": (await api.get(f"/organizations/{org}/members")).data[1]["user_id"],
        "hook": (await api.get("/webhooks")).data[0]["id"],
    }
    reply = await read_api.request(method, template.format(**ids), json={"bogus": True})
    assert reply.status == 403
    assert reply.error["code"] == "FORBIDDEN"


# ---------------------------------------------------------------------- impersonation, audit


async def test_impersonation(api: Api, read_api: Api, control: Api):
    users = await all_rows(api, "/users", sort="created_at", order="asc")
    target = users[5]
    as_target = {"X-IMPERSONATE-USER-ID": target["id"], "X-Request-Id": "req-imp-1"}
    assert (await api.get("/users/me", headers=as_target)).data == target
    created = await api.post("/resources", json=CREATE["resources"], headers=as_target)
    assert created.data["owner_id"] == target["id"]

    denied = await read_api.get("/users/me", headers={"X-IMPERSONATE-USER-ID": target["id"]})
    assert denied.status == 403
    unknown = await api.get("/users/me", headers={"X-IMPERSONATE-USER-ID": "usr_nobody0000"})
    assert unknown.status == 400
    assert unknown.error["code"] == "VALIDATION_ERROR"
    assert unknown.error["field"] == "X-IMPERSONATE-USER-ID"

    entries = (await control.get("/audit")).body["entries"]
    entry = next(e for e in entries if e["request_id"] == "req-imp-1")
    assert entry["method"] == "POST"
    assert entry["path"] == "/api/v1/resources"
    assert entry["actor_user_id"] == target["id"]
    assert entry["principal_user_id"] == users[0]["id"]
    assert entry["status"] == 201
    assert entry["idempotency_key"] is None
    assert entry["credential"].startswith("moss_k_d") and "demo_full" not in entry["credential"]
    assert all(e["method"] != "GET" for e in entries)
    assert (await control.delete("/audit")).status == 204
    assert (await control.get("/audit")).body == {"entries": []}
