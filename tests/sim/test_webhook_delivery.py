"""The sim sends webhooks: signed per style, retried, disabled after N failures, never
inside the write's request. A real aiohttp receiver on loopback records every delivery."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web
from standardwebhooks import Webhook, WebhookVerificationError

from restloom.sim import SimConfig, SimServer
from restloom.sim.signing import moco_signature
from tests.sim.conftest import FULL, Api, small_config

MOCO_KEY = "moss_k_demo_full"
FAST = {"webhook_retry_base": 0.01, "webhook_retry_max": 0.05}


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class Receiver:
    """Records deliveries; ``/ok`` answers 204, ``/fail`` 500, ``/flaky`` fails
    ``flaky_failures`` times then answers 200, ``/hold`` answers once ``release`` is set."""

    url: str = ""
    got: list[Delivery] = field(default_factory=list)
    flaky_failures: int = 2
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def on(self, path: str) -> list[Delivery]:
        return [d for d in self.got if d.path == path]

    async def handle(self, request: web.Request) -> web.Response:
        path = request.match_info["name"]
        self.got.append(Delivery("/" + path, dict(request.headers), await request.read()))
        self.arrived.set()
        if path == "fail":
            return web.Response(status=500)
        if path == "flaky":
            failures = len(self.on("/flaky"))
            return web.Response(status=503 if failures <= self.flaky_failures else 200)
        if path == "hold":
            await self.release.wait()
        return web.Response(status=204)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/{name}", rec.handle)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    rec.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield rec
    rec.release.set()
    await runner.cleanup()


async def start_sim(**overrides: Any) -> SimServer:
    server = SimServer(small_config(**{**FAST, **overrides}))
    await server.start()
    return server


def api_for(sim: SimServer, session: aiohttp.ClientSession) -> Api:
    if sim.config.style == "moco":
        return Api(session, sim.api_url, {"Authorization": f"Token token={MOCO_KEY}"})
    return Api(session, sim.api_url, {"X-API-Key": FULL})


def control_for(sim: SimServer, session: aiohttp.ClientSession) -> Api:
    return Api(session, sim.url + "/__sim", {})


async def flush(control: Api) -> None:
    reply = await control.post("/deliveries/flush", params={"within": "20"})
    assert reply.status == 200, reply.body
    assert reply.body == {"pending": 0}


def data(reply: Any) -> Any:
    """A record from a mossdesk (enveloped) or moco (bare) answer."""
    body = reply.body
    return body["data"] if isinstance(body, dict) and "data" in body else body


async def hook(api: Api, url: str, events: list[str], **extra: Any) -> dict[str, Any]:
    reply = await api.post("/webhooks", json={"url": url, "events": events, **extra})
    assert reply.status == 201, reply.body
    return data(reply)


CONTACT = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}


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


def seeded_ids(sim: SimServer) -> set[str]:
    return {
        r.id
        for r in sim.state.data.collections["webhooks"].values()
        if not r.hidden.get("url_from_api")
    }


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


# ---------------------------------------------------------------------- retries, disabling


async def test_retries_reuse_the_event_id_then_stop(receiver, session):
    async with await start_sim(webhook_max_attempts=3) as sim:
        api, control = api_for(sim, session), control_for(sim, session)
        h = await hook(api, receiver.url + "/fail", ["contact.created"])
        await api.post("/contacts", json=CONTACT)
        await flush(control)

        got = receiver.on("/fail")
        assert len(got) == 3
        assert len({d.headers["webhook-id"] for d in got}) == 1
        for d in got:
            Webhook(h["secret"]).verify(d.body, d.headers)
        attempts = (await control.get("/deliveries")).body["deliveries"]
        assert [(a["attempt"], a["outcome"], a["status_code"]) for a in attempts] == [
            (1, "failed", 500),
            (2, "failed", 500),
            (3, "failed", 500),
        ]
        assert attempts[0]["retry_in"] > 0 and attempts[-1]["retry_in"] is None
        # Three failures, not the 500 that disable it: still active.
        assert data(await api.get(f"/webhooks/{h['id']}"))["active"] is True
        counts = (await control.get("/deliveries")).body["consecutive_failures"]
        assert counts == {h["id"]: 3}


async def test_a_retry_that_succeeds_resets_the_failure_count(receiver, session):
    async with await start_sim() as sim:
        api, control = api_for(sim, session), control_for(sim, session)
        h = await hook(api, receiver.url + "/flaky", ["contact.created"])
        await api.post("/contacts", json=CONTACT)
        await flush(control)
        got = receiver.on("/flaky")
        assert len(got) == receiver.flaky_failures + 1
        attempts = (await control.get("/deliveries", params={"hook_id": h["id"]})).body
        assert [a["outcome"] for a in attempts["deliveries"]] == ["failed", "failed", "delivered"]
        assert attempts["consecutive_failures"] == {}


async def test_a_hook_is_disabled_after_n_consecutive_failures(receiver, session):
    async with await start_sim(webhook_max_failures=4, webhook_max_attempts=3) as sim:
        api, control = api_for(sim, session), control_for(sim, session)
        failing = await hook(api, receiver.url + "/fail", ["contact.created"])
        watcher = await hook(api, receiver.url + "/ok", ["webhook.updated"])
        await api.post("/contacts", json=CONTACT)
        await flush(control)
        assert len(receiver.on("/fail")) == 3  # one event's three attempts: not yet disabled
        await api.post("/contacts", json=CONTACT)
        await flush(control)
        # The 4th consecutive failure (the next event's first attempt) disables the hook.
        assert len(receiver.on("/fail")) == 4
        assert data(await api.get(f"/webhooks/{failing['id']}"))["active"] is False
        attempts = (await control.get("/deliveries", params={"hook_id": failing["id"]})).body
        assert attempts["deliveries"][-1]["hook_disabled"] is True
        assert attempts["deliveries"][-1]["retry_in"] is None

        # The sim's change to the hook is an event too, with no actor.
        [notice] = receiver.on("/ok")
        payload = Webhook(watcher["secret"]).verify(notice.body, notice.headers)
        assert payload["type"] == "webhook.updated"
        assert payload["data"]["id"] == failing["id"]
        assert payload["data"]["object"]["active"] is False
        assert payload["data"]["actor_id"] is None

        await api.post("/contacts", json=CONTACT)
        await flush(control)
        assert len(receiver.on("/fail")) == 4  # disabled: nothing more


async def test_no_answer_within_the_timeout_is_a_failure(receiver, session):
    async with await start_sim(webhook_timeout=0.2, webhook_max_attempts=2) as sim:
        api, control = api_for(sim, session), control_for(sim, session)
        await hook(api, receiver.url + "/hold", ["contact.created"])
        await api.post("/contacts", json=CONTACT)
        await flush(control)
        assert len(receiver.on("/hold")) == 2
        attempts = (await control.get("/deliveries")).body["deliveries"]
        assert [(a["outcome"], a["status_code"]) for a in attempts] == [
            ("timeout", None),
            ("timeout", None),
        ]


async def test_an_unreachable_receiver_is_an_error_attempt(session):
    # A port nobody listens on: bind one, note it, close it.
    probe = web.AppRunner(web.Application(), handle_signals=False)
    await probe.setup()
    site = web.TCPSite(probe, "127.0.0.1", 0)
    await site.start()
    port = probe.addresses[0][1]
    await probe.cleanup()
    async with await start_sim(webhook_max_attempts=2) as sim:
        api, control = api_for(sim, session), control_for(sim, session)
        await hook(api, f"http://127.0.0.1:{port}/gone", ["contact.created"])
        await api.post("/contacts", json=CONTACT)
        await flush(control)
        attempts = (await control.get("/deliveries")).body["deliveries"]
        assert [(a["outcome"], a["error"]) for a in attempts] == [
            ("error", "ClientConnectorError"),
            ("error", "ClientConnectorError"),
        ]


# ---------------------------------------------------------------------- test events, blocking


async def test_test_event_reaches_the_hook_whatever_its_filter(receiver, session):
    async with await start_sim() as sim:
        api, control = api_for(sim, session), control_for(sim, session)
        h = await hook(api, receiver.url + "/ok", ["contact.created"])
        tested = await api.post(f"/webhooks/{h['id']}/test")
        assert tested.status == 202
        assert tested.data["event"] == "webhook.test"
        assert tested.data["queued"] is True
        await flush(control)
        [got] = receiver.got
        payload = Webhook(h["secret"]).verify(got.body, got.headers)
        assert payload["type"] == "webhook.test"
        assert payload["data"]["id"] == h["id"]
        assert got.headers["webhook-id"] == tested.data["event_id"]
        assert (await api.post("/webhooks/whk_nope/test")).status == 404
        # A seeded hook (made-up URL) is not called: nothing queued.
        seeded = next(iter(seeded_ids(sim)))
        assert (await api.post(f"/webhooks/{seeded}/test")).data["queued"] is False


async def test_no_delivery_holds_up_the_write(receiver, session):
    async with await start_sim() as sim:
        api, control = api_for(sim, session), control_for(sim, session)
        await hook(api, receiver.url + "/hold", ["contact.created"])
        # The receiver holds its answer until released; the write must answer anyway.
        created = await asyncio.wait_for(api.post("/contacts", json=CONTACT), timeout=30)
        assert created.status == 201
        await asyncio.wait_for(receiver.arrived.wait(), timeout=30)
        assert not receiver.release.is_set()
        assert (await control.get("/deliveries")).body["pending"] == 1
        receiver.release.set()
        await flush(control)
        [attempt] = (await control.get("/deliveries")).body["deliveries"]
        assert attempt["outcome"] == "delivered"


async def test_pending_deliveries_are_bounded(receiver, session):
    async with await start_sim(webhook_queue_limit=2) as sim:
        api, control = api_for(sim, session), control_for(sim, session)
        await hook(api, receiver.url + "/hold", ["contact.created"])
        for _ in range(3):
            assert (await api.post("/contacts", json=CONTACT)).status == 201
        log = (await control.get("/deliveries")).body
        assert log["pending"] == 2
        assert [a["outcome"] for a in log["deliveries"]] == ["dropped"]
        receiver.release.set()
        await flush(control)
        assert len(receiver.on("/hold")) == 2


async def test_flush_checks_its_input(session):
    async with await start_sim() as sim:
        control = control_for(sim, session)
        for bad in ("-1", "nan", "1e9", "soon"):
            reply = await control.post("/deliveries/flush", params={"within": bad})
            assert reply.status == 400
            assert reply.error["field"] == "within"
        assert (await control.delete("/deliveries")).status == 204


def test_options_are_validated():
    for bad in (
        {"webhook_max_failures": 0},
        {"webhook_max_attempts": 0},
        {"webhook_timeout": 0},
        {"webhook_retry_base": -1.0},
        {"webhook_queue_limit": True},
    ):
        with pytest.raises(ValueError, match="--webhook-"):
            SimConfig(**bad)


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


def basic_auth(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:anything".encode()).decode()


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


async def until(check: Any, within: float = 30.0) -> None:
    """Wait for a condition the test cannot await directly (a count, not a time)."""
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.01)


async def test_deliveries_run_concurrently(receiver, session):
    async with await start_sim() as sim:
        api, control = api_for(sim, session), control_for(sim, session)
        await hook(api, receiver.url + "/hold", ["contact.created"])
        await hook(api, receiver.url + "/hold", ["contact.created"])
        await api.post("/contacts", json=CONTACT)
        await api.post("/contacts", json=CONTACT)
        # All four are in the receiver's hands at once: none waits for another's answer.
        await until(lambda: len(receiver.on("/hold")) == 4)
        assert not receiver.release.is_set()
        receiver.release.set()
        await flush(control)
        outcomes = [a["outcome"] for a in (await control.get("/deliveries")).body["deliveries"]]
        assert outcomes == ["delivered"] * 4


async def test_stopping_the_sim_ends_pending_retries(receiver, session):
    sim = await start_sim(webhook_retry_base=60.0, webhook_retry_max=60.0)
    api = api_for(sim, session)
    await hook(api, receiver.url + "/fail", ["contact.created"])
    await api.post("/contacts", json=CONTACT)
    await until(lambda: len(receiver.on("/fail")) == 1)
    await until(lambda: sim.state.webhooks.log.snapshot() != [])
    assert sim.state.webhooks.pending == 1  # waiting a minute for its retry
    await sim.stop()
    assert sim.state.webhooks.pending == 0
    assert len(receiver.on("/fail")) == 1


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
