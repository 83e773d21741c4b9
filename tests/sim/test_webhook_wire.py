"""The sim's webhooks on the wire: which writes send which events, signed per style
(Standard Webhooks checked with the `standardwebhooks` library, MOCO by hand), secrets.
A real aiohttp receiver on loopback records every delivery."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from restloom.config import Settings
from restloom.sim.signing import moco_signature
from tests.sim.conftest import FULL, Api
from tests.sim.webhook_receiver import (
    CONTACT,
    api_for,
    basic_auth,
    control_for,
    data,
    flush,
    hook,
    receiver,
    seeded_ids,
    start_sim,
)
from tests.support import GatewayServer, GraphQLClient

__all__ = ["receiver"]  # the fixture, used by name


# ---------------------------------------------------------------------- mossdesk style


async def test_standard_webhooks_signature_body_and_event_id(receiver, session):
    async with await start_sim() as sim:
        api, control = api_for(sim, session), control_for(sim, session)
        h = await hook(api, receiver.url + "/ok", ["contact.created"])
        secret = h["secret"]
        assert secret.startswith("whsec_")
        # Shown once: no later answer carries it.
        assert "secret" not in data(await api.get(f"/webhooks/{h['id']}"))
        listed = (await api.get("/webhooks", params={"per_page": 250})).data
        assert all("secret" not in row for row in listed)

        created = await api.post("/contacts", json=CONTACT)
        assert created.status == 201
        await flush(control)

        [got] = receiver.on("/ok")
        payload = Webhook(secret).verify(got.body, got.headers)
        assert payload["type"] == "contact.created"
        assert payload["data"]["id"] == created.data["id"]
        assert payload["data"]["object"] == created.data
        assert payload["data"]["updated_at"] == created.data["updated_at"]
        info = (await control.get("/info")).body
        assert payload["data"]["actor_id"] == info["full_key_user_id"]
        assert got.headers["Content-Type"] == "application/json"
        with pytest.raises(WebhookVerificationError):
            Webhook("whsec_" + "A" * 32).verify(got.body, got.headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(got.body.replace(b"Ada", b"Eve"), got.headers)

        log = (await control.get("/deliveries")).body
        [attempt] = log["deliveries"]
        assert attempt["event_id"] == got.headers["webhook-id"]
        assert attempt["hook_id"] == h["id"]
        assert (attempt["outcome"], attempt["status_code"], attempt["attempt"]) == (
            "delivered",
            204,
            1,
        )


async def test_a_secret_the_caller_chose_signs_and_is_never_echoed(receiver, session):
    async with await start_sim() as sim:
        api, control = api_for(sim, session), control_for(sim, session)
        h = await hook(api, receiver.url + "/ok", ["contact.updated"], secret="your_secret")
        assert "secret" not in h
        contact = (await api.post("/contacts", json=CONTACT)).data
        assert (
            await api.patch(f"/contacts/{contact['id']}", json={"first_name": "A"})
        ).status == 200
        await flush(control)
        [got] = receiver.got
        # A secret without whsec_ keys the HMAC with its UTF-8 bytes.
        assert Webhook(b"your_secret").verify(got.body, got.headers)["type"] == "contact.updated"

        bad = await api.post(
            "/webhooks",
            json={"url": receiver.url, "events": ["contact.created"], "secret": "whsec_%%"},
        )
        assert bad.status == 400
        assert bad.error["field"] == "secret"
        long_url = receiver.url + "/" + "x" * 2100
        too_long = await api.post(
            "/webhooks", json={"url": long_url, "events": ["contact.created"]}
        )
        assert too_long.status == 400
        assert too_long.error["field"] == "url"


async def test_only_subscribed_events_reach_a_hook(receiver, session):
    async with await start_sim() as sim:
        api, control = api_for(sim, session), control_for(sim, session)
        await hook(api, receiver.url + "/ok", ["resource.created", "contact.deleted"])
        updates = await hook(api, receiver.url + "/fail", ["contact.updated"])
        # An inactive hook gets nothing.
        await hook(api, receiver.url + "/flaky", ["contact.created"], active=False)
        contact = (await api.post("/contacts", json=CONTACT)).data
        await api.patch(f"/contacts/{contact['id']}", json={"last_name": "King"})
        resource = (await api.post("/resources", json={"name": "Disk", "type": "standard"})).data
        assert (await api.delete(f"/contacts/{contact['id']}")).status == 204
        # Turn the failing hook off so its retries stop before the flush.
        await api.patch(f"/webhooks/{updates['id']}", json={"active": False})
        await flush(control)

        types = sorted(d.json["type"] for d in receiver.on("/ok"))
        assert types == ["contact.deleted", "resource.created"]
        deleted = next(d.json for d in receiver.on("/ok") if d.json["type"] == "contact.deleted")
        assert deleted["data"]["id"] == contact["id"]
        assert deleted["data"]["object"] is None
        created = next(d.json for d in receiver.on("/ok") if d.json["type"] == "resource.created")
        assert created["data"]["object"]["id"] == resource["id"]
        assert [d.json["type"] for d in receiver.on("/fail")][:1] == ["contact.updated"]
        assert receiver.on("/flaky") == []
        # Seeded hooks point at made-up domains and are never called.
        hooked = {a["hook_id"] for a in (await control.get("/deliveries")).body["deliveries"]}
        assert hooked and hooked.isdisjoint(seeded_ids(sim))


async def test_members_emit_member_and_organization_events(receiver, session):
    async with await start_sim() as sim:
        api, control = api_for(sim, session), control_for(sim, session)
        await hook(
            api, receiver.url + "/ok", ["member.added", "member.removed", "organization.updated"]
        )
        org = (await api.get("/organizations")).data[0]
        members = (await api.get(f"/organizations/{org['id']}/members")).data
        inside = {m["user_id"] for m in members}
        users = (await api.get("/users", params={"per_page": 250})).data
        outsider = next(u for u in users if u["id"] not in inside)
        path = f"/organizations/{org['id']}/members"
        added = await api.post(path, json={"user_id": outsider["id"], "role": "member"})
        assert added.status == 201
        assert (await api.delete(f"{path}/{outsider['id']}")).status == 204
        await flush(control)

        by_type: dict[str, list[Any]] = {}
        for d in receiver.got:
            by_type.setdefault(d.json["type"], []).append(d.json["data"])
        assert sorted((t, len(v)) for t, v in by_type.items()) == [
            ("member.added", 1),
            ("member.removed", 1),
            ("organization.updated", 2),
        ]
        [joined] = by_type["member.added"]
        assert joined["id"] == outsider["id"]
        assert joined["organization_id"] == org["id"]
        assert joined["object"] == added.data
        [left] = by_type["member.removed"]
        assert (left["id"], left["organization_id"], left["object"]) == (
            outsider["id"],
            org["id"],
            None,
        )


# ---------------------------------------------------------------------- moco style


async def test_moco_headers_and_hex_signature(receiver, session):
    secret = "1d608b9d72219b90ff2393a1d3ee0ac0"
    async with await start_sim(style="moco") as sim:
        api, control = api_for(sim, session), control_for(sim, session)
        made = await hook(api, receiver.url + "/other", ["contact.created"])
        assert len(made["secret"]) == 32 and int(made["secret"], 16) >= 0
        await hook(api, receiver.url + "/ok", ["contact.updated", "contact.deleted"], secret=secret)
        contact = data(await api.post("/contacts", json=CONTACT))
        updated = await api.request("PUT", f"/contacts/{contact['id']}", json={"first_name": "A"})
        assert updated.status == 200
        assert (await api.delete(f"/contacts/{contact['id']}")).status == 204
        await flush(control)

        info = (await control.get("/info")).body
        update, delete = sorted(receiver.on("/ok"), key=lambda d: d.headers["X-Moco-Event"])[::-1]
        for got, event in ((update, "update"), (delete, "delete")):
            assert got.headers["X-Moco-Target"] == "Contact"
            assert got.headers["X-Moco-Event"] == event
            assert got.headers["X-Moco-Timestamp"].isdigit()
            assert len(got.headers["X-Moco-Timestamp"]) == 13  # milliseconds
            assert got.headers["X-Moco-User-Id"] == str(info["full_key_user_id"])
            expected = hmac.new(secret.encode(), got.body, hashlib.sha256).hexdigest()
            assert hmac.compare_digest(got.headers["X-Moco-Signature"], expected)
        assert update.json == updated.body
        assert delete.json == {"id": contact["id"]}
        [other] = receiver.on("/other")
        assert other.headers["X-Moco-Event"] == "create"
        expected = hmac.new(made["secret"].encode(), other.body, hashlib.sha256).hexdigest()
        assert other.headers["X-Moco-Signature"] == expected

        bad = await api.post(
            "/webhooks", json={"url": receiver.url, "events": ["contact.created"], "secret": "shh"}
        )
        assert bad.status == 422


def test_moco_signature_matches_the_documented_example():
    # Seed 002's OpenSSL, Ruby and Node examples all print this digest.
    payload = b'{id: 111, description: "a description"}'
    digest = moco_signature("1d608b9d72219b90ff2393a1d3ee0ac0", payload)
    assert digest == "09f9ebc0adeb597cb7cb37fd72b20be0caeca6bd9fb67416b663606bd7f89183"


async def test_moco_test_event(receiver, session):
    async with await start_sim(style="moco") as sim:
        api, control = api_for(sim, session), control_for(sim, session)
        h = await hook(api, receiver.url + "/ok", ["contact.created"], active=False)
        tested = await api.post(f"/webhooks/{h['id']}/test")
        assert tested.status == 202
        assert tested.body["queued"] is True
        await flush(control)
        [got] = receiver.got
        assert (got.headers["X-Moco-Target"], got.headers["X-Moco-Event"]) == ("WebHook", "test")
        assert got.json["id"] == h["id"]
        assert got.headers["X-Moco-Signature"] == moco_signature(h["secret"], got.body)


# ---------------------------------------------------------------------- who writes, how often


async def test_template_style_signs_standard_webhooks(receiver, session):
    async with await start_sim(style="template") as sim:
        api = Api(session, sim.api_url, {"Authorization": basic_auth(FULL)})
        control = control_for(sim, session)
        h = await hook(api, receiver.url + "/ok", ["resource.created"])
        made = await api.post("/resources", json={"name": "Disk", "type": "standard"})
        assert made.status == 201, made.body
        await flush(control)
        [got] = receiver.got
        payload = Webhook(h["secret"]).verify(got.body, got.headers)
        assert (payload["type"], payload["data"]["object"]) == ("resource.created", made.body)


async def test_an_idempotent_replay_emits_no_second_event(receiver, session):
    async with await start_sim() as sim:
        api, control = api_for(sim, session), control_for(sim, session)
        await hook(api, receiver.url + "/ok", ["contact.created"])
        once = {"Idempotency-Key": "create-ada-1"}
        first = await api.post("/contacts", json=CONTACT, headers=once)
        again = await api.post("/contacts", json=CONTACT, headers=once)
        assert again.headers.get("Idempotent-Replayed") == "true"
        assert again.data == first.data
        await flush(control)
        assert len(receiver.got) == 1


async def test_the_actor_is_the_impersonated_user(receiver, session):
    async with await start_sim(style="moco") as sim:
        api, control = api_for(sim, session), control_for(sim, session)
        await hook(api, receiver.url + "/ok", ["contact.created"])
        info = (await control.get("/info")).body
        someone = info["read_key_user_id"]
        made = await api.post(
            "/contacts", json=CONTACT, headers={"X-IMPERSONATE-USER-ID": str(someone)}
        )
        assert made.status == 201
        await flush(control)
        [got] = receiver.got
        assert got.headers["X-Moco-User-Id"] == str(someone)
        assert got.headers["X-Moco-User-Id"] != str(info["full_key_user_id"])


async def test_patch_rotates_the_secret_and_gives_a_seeded_hook_a_url(receiver, session):
    async with await start_sim() as sim:
        api, control = api_for(sim, session), control_for(sim, session)
        seeded = next(iter(seeded_ids(sim)))
        new_secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
        patched = await api.patch(
            f"/webhooks/{seeded}",
            json={
                "url": receiver.url + "/ok",
                "events": ["contact.created"],
                "active": True,
                "secret": new_secret,
            },
        )
        assert patched.status == 200, patched.body
        assert "secret" not in patched.data
        await api.post("/contacts", json=CONTACT)
        await flush(control)
        [got] = receiver.got
        assert Webhook(new_secret).verify(got.body, got.headers)["type"] == "contact.created"


async def test_a_write_through_restloom_is_an_api_write_too(receiver, session):
    secret = "whsec_" + base64.b64encode(b"r" * 24).decode()
    async with await start_sim() as sim, GatewayServer(Settings(upstream_url=sim.url)) as gw:
        control = control_for(sim, session)
        client = GraphQLClient(session, gw.url, {"X-API-Key": FULL})
        made = await client.data(
            "mutation($input: CreateWebhookInput!) { createWebhook(input: $input) "
            "{ webhook { databaseId } } }",
            {
                "input": {
                    "url": receiver.url + "/ok",
                    "events": ["contact.created"],
                    "secret": secret,
                }
            },
        )
        created = await client.data(
            'mutation { createContact(input: {firstName: "Ada", email: "ada@example.com"}) '
            "{ contact { databaseId } } }"
        )
        await flush(control)
        [got] = receiver.got
        payload = Webhook(secret).verify(got.body, got.headers)
        assert payload["type"] == "contact.created"
        assert payload["data"]["id"] == created["createContact"]["contact"]["databaseId"]
        hooked = {a["hook_id"] for a in (await control.get("/deliveries")).body["deliveries"]}
        assert hooked == {made["createWebhook"]["webhook"]["databaseId"]}
