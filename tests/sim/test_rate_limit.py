"""Rate budget: sliding window per credential, 429 + headers, runtime config, arrival times."""

from __future__ import annotations

import asyncio
import time

from restloom.sim import SimServer, mask_credential

from .conftest import FULL, READ, Api, small_config


async def test_no_limit_no_headers(api: Api):
    reply = await api.get("/contacts")
    assert "X-RateLimit-Limit" not in reply.headers


async def test_limit_per_credential_with_headers(session):
    async with SimServer(small_config(rate_limit=3, rate_window=1.0)) as sim:
        api = Api(session, sim.api_url, {"X-API-Key": FULL})
        control = Api(session, sim.url + "/__sim", {})
        remaining = []
        for _ in range(3):
            reply = await api.get("/webhooks")
            assert reply.status == 200
            assert reply.headers["X-RateLimit-Limit"] == "3"
            remaining.append(reply.headers["X-RateLimit-Remaining"])
            reset = int(reply.headers["X-RateLimit-Reset"])
            assert time.time() <= reset <= time.time() + 2
        assert remaining == ["2", "1", "0"]
        limited = await api.get("/webhooks")
        assert limited.status == 429
        assert limited.error["code"] == "RATE_LIMITED"
        assert limited.error["message"]
        assert int(limited.headers["Retry-After"]) == 1
        assert limited.headers["X-RateLimit-Remaining"] == "0"
        # Another credential has its own budget.
        assert (await api.as_({"X-API-Key": READ}).get("/webhooks")).status == 200
        stats = (await control.get("/stats", params={"times": "1"})).body
        assert stats["rate_limited"] == 1
        assert stats["status"] == {"200": 4, "429": 1}
        times = stats["times"]
        assert len(times[mask_credential(FULL)]) == 4
        assert len(times[mask_credential(READ)]) == 1
        assert "times" not in (await control.get("/stats")).body


async def test_window_slides(session):
    async with SimServer(small_config(rate_limit=2, rate_window=1.0)) as sim:
        api = Api(session, sim.api_url, {"X-API-Key": FULL})
        start = time.monotonic()
        assert (await api.get("/webhooks")).status == 200  # t ~ 0
        await asyncio.sleep(0.5)
        assert (await api.get("/webhooks")).status == 200  # t ~ 0.5
        assert (await api.get("/webhooks")).status == 429
        await asyncio.sleep(max(0.0, 1.15 - (time.monotonic() - start)))
        # The first request left the window, the second has not.
        assert (await api.get("/webhooks")).status == 200
        assert (await api.get("/webhooks")).status == 429


async def test_runtime_config(api: Api, control: Api):
    assert (await control.get("/config")).body == {
        "rate_limit": 0,
        "rate_window": 15.0,
        "latency_ms": 0.0,
        "fail_rate": 0.0,
    }
    changed = await control.post("/config", json={"rate_limit": 2, "rate_window": 30})
    assert changed.body["rate_limit"] == 2
    assert [(await api.get("/webhooks")).status for _ in range(3)] == [200, 200, 429]
    await control.post("/config", json={"rate_limit": 0, "latency_ms": 120})
    start = time.monotonic()
    reply = await api.get("/webhooks")
    assert reply.status == 200
    assert "X-RateLimit-Limit" not in reply.headers
    assert time.monotonic() - start >= 0.12
    for body, field in [
        ({"rate_limit": -1}, "rate_limit"),
        ({"rate_window": 0}, "rate_window"),
        ({"latency_ms": "slow"}, "latency_ms"),
        ({"fail_rate": 2}, "fail_rate"),
        ({"burst": 3}, "burst"),
    ]:
        bad = await control.post("/config", json=body)
        assert bad.status == 400
        assert bad.error["field"] == field
    assert (await control.get("/config")).body["latency_ms"] == 120


async def test_rate_limited_requests_are_counted_on_arrival(session):
    async with SimServer(small_config(rate_limit=1, rate_window=10)) as sim:
        api = Api(session, sim.api_url, {"X-API-Key": FULL})
        control = Api(session, sim.url + "/__sim", {})
        await api.get("/contacts")
        await api.get("/contacts")
        await api.post("/contacts", json={"first_name": "x", "email": "x@example.com"})
        stats = (await control.get("/stats")).body
        assert stats["requests"] == 3
        assert stats["rate_limited"] == 2
        assert stats["by_route"] == {"GET /contacts": 2, "POST /contacts": 1}
        # The refused POST did nothing.
        assert len(sim.state.data.collections["contacts"]) == 60
