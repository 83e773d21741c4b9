"""Fault switch (/__sim/faults) and --fail-rate, seen through a real aiohttp client."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from restloom.sim import SimServer

from .conftest import FULL, Api, small_config

CONTACT = {"first_name": "Jane", "email": "jane@acme.com"}


async def _total(api: Api) -> int:
    return (await api.get("/contacts")).body["meta"]["total"]


async def test_drop_closes_before_doing_anything(api: Api, control: Api):
    armed = await control.post("/faults", json={"mode": "drop", "count": 1, "method": "POST"})
    assert armed.status == 200
    assert armed.body["faults"][0]["mode"] == "drop"
    # A GET does not match the armed POST fault.
    assert (await api.get("/contacts")).status == 200
    with pytest.raises((aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)):
        await api.post("/contacts", json=CONTACT)
    assert await _total(api) == 60
    assert (await api.post("/contacts", json=CONTACT)).status == 201
    stats = (await control.get("/stats")).body
    assert stats["faults"] == {"drop": 1}
    assert (await control.get("/faults")).body["faults"] == []


async def test_drop_after_commit_then_retry_with_the_same_key(api: Api, control: Api):
    await control.post(
        "/faults",
        json={"mode": "drop_after_commit", "count": 1, "path_prefix": "/api/v1/contacts"},
    )
    key = {"Idempotency-Key": "retry-me"}
    with pytest.raises((aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)):
        await api.post("/contacts", json=CONTACT, headers=key)
    assert await _total(api) == 61  # the write happened
    retry = await api.post("/contacts", json=CONTACT, headers=key)
    assert retry.status == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert await _total(api) == 61
    audit = (await control.get("/audit")).body["entries"]
    assert [(e["status"], e["replayed"]) for e in audit] == [(201, False), (201, True)]


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_error_modes(api: Api, control: Api, status: int):
    await control.post("/faults", json={"mode": f"error{status}", "count": 2})
    for _ in range(2):
        reply = await api.post("/contacts", json=CONTACT)
        assert reply.status == status
        assert reply.body == {
            "error": {"code": "INTERNAL_ERROR", "message": "Internal server error"}
        }
        assert reply.headers["X-Request-Id"]
    assert (await api.get("/contacts")).status == 200
    assert await _total(api) == 60
    assert (await control.get("/stats")).body["status"][str(status)] == 2


async def test_timeout_holds_the_answer_until_the_client_leaves(api: Api, control: Api, session):
    await control.post("/faults", json={"mode": "timeout", "count": 1, "seconds": 30})
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        async with session.post(
            api.base + "/contacts",
            json=CONTACT,
            headers={"X-API-Key": FULL},
            timeout=aiohttp.ClientTimeout(total=0.3),
        ):
            pass
    assert time.monotonic() - start < 5
    await asyncio.sleep(0.2)
    assert await _total(api) == 60  # the client left: nothing was done


async def test_short_timeout_then_normal_answer(api: Api, control: Api):
    await control.post("/faults", json={"mode": "timeout", "seconds": 0.2})
    start = time.monotonic()
    reply = await api.get("/webhooks")
    assert reply.status == 200
    assert time.monotonic() - start >= 0.2


async def test_clear_and_bad_fault_bodies(api: Api, control: Api):
    await control.post("/faults", json={"mode": "error500", "count": 5})
    cleared = await control.delete("/faults")
    assert cleared.body["faults"] == []
    assert (await api.get("/contacts")).status == 200
    for body, field in [
        ({"mode": "explode"}, "mode"),
        ({"mode": "drop", "count": 0}, "count"),
        ({"mode": "drop", "path_prefix": "contacts"}, "path_prefix"),
    ]:
        reply = await control.post("/faults", json=body)
        assert reply.status == 400
        assert reply.error["field"] == field


async def test_fail_rate_mixes_errors_timeouts_and_drops(session):
    async with SimServer(small_config(fail_rate=0.5, fault_timeout=2.0, seed=3)) as sim:
        outcomes: list[str] = []
        timeout = aiohttp.ClientTimeout(total=0.2)
        # A fresh connection per request, so one drop cannot spoil the next request.
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as fresh:
            for _ in range(40):
                try:
                    async with fresh.get(
                        sim.api_url + "/webhooks", headers={"X-API-Key": FULL}, timeout=timeout
                    ) as resp:
                        outcomes.append(str(resp.status))
                except TimeoutError:
                    outcomes.append("timeout")
                except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
                    outcomes.append("drop")
        kinds = set(outcomes)
        assert kinds == {"200", "500", "timeout", "drop"}, outcomes
        assert 10 <= outcomes.count("200") <= 30
        stats = (await Api(session, sim.url + "/__sim", {}).get("/stats")).body
        # aiohttp retries a GET once after a disconnect, so count arrivals, not calls:
        # every arrival was either faulted or answered 200.
        assert stats["requests"] == sum(stats["faults"].values()) + outcomes.count("200")
