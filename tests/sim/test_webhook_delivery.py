"""The sim's webhook deliveries: retried, then given up; a failing hook disabled after N;
concurrent, bounded, never inside the write's request; test events. A real aiohttp
receiver on loopback records every delivery."""

from __future__ import annotations

import argparse
import asyncio

import pytest
from aiohttp import web
from standardwebhooks import Webhook

from restloom.sim import SimConfig
from restloom.sim.config import add_cli_arguments, config_from_args
from tests.sim.webhook_receiver import (
    CONTACT,
    api_for,
    control_for,
    data,
    flush,
    hook,
    receiver,
    seeded_ids,
    start_sim,
    until,
)

__all__ = ["receiver"]  # the fixture, used by name


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
        assert failing["secret"].split("_", 1)[1].encode() not in notice.body

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


def test_cli_flags_reach_the_config():
    parser = argparse.ArgumentParser()
    add_cli_arguments(parser)
    ns = parser.parse_args(
        ["--webhook-timeout", "2.5", "--webhook-max-failures", "7", "--webhook-retry-base", "0"]
    )
    config = config_from_args(ns)
    assert (config.webhook_timeout, config.webhook_max_failures) == (2.5, 7)
    assert (config.webhook_retry_base, config.webhook_max_attempts) == (0.0, 8)
    with pytest.raises(ValueError, match="--webhook-timeout"):
        config_from_args(parser.parse_args(["--webhook-timeout", "0"]))
    with pytest.raises(SystemExit):
        parser.parse_args(["--webhook-queue-limit", "0"])
