"""Fixtures: a small sim on a free loopback port and a thin JSON client for it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
import pytest
from multidict import CIMultiDictProxy

from restloom.sim import SimConfig, SimServer

FULL = "moss_k_demo_full"
READ = "moss_k_demo_read"
SMALL = {"contacts": 60, "resources": 40, "users": 30, "organizations": 8, "webhooks": 5}


@dataclass
class Reply:
    status: int
    headers: CIMultiDictProxy[str]
    raw: bytes

    @property
    def body(self) -> Any:
        return orjson.loads(self.raw) if self.raw else None

    @property
    def data(self) -> Any:
        return self.body["data"]

    @property
    def error(self) -> dict[str, Any]:
        return self.body["error"]


class Api:
    """Requests against ``base`` with a default credential header."""

    def __init__(self, session: aiohttp.ClientSession, base: str, headers: dict[str, str]) -> None:
        self.session = session
        self.base = base
        self.headers = headers

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        params: Any = None,
        auth: bool = True,
    ) -> Reply:
        sent = dict(self.headers) if auth else {}
        sent.update(headers or {})
        body = orjson.dumps(json) if json is not None else data
        if json is not None:
            sent.setdefault("Content-Type", "application/json")
        async with self.session.request(
            method, self.base + path, data=body, headers=sent, params=params
        ) as resp:
            return Reply(resp.status, resp.headers, await resp.read())

    async def get(self, path: str, **kw: Any) -> Reply:
        return await self.request("GET", path, **kw)

    async def post(self, path: str, **kw: Any) -> Reply:
        return await self.request("POST", path, **kw)

    async def patch(self, path: str, **kw: Any) -> Reply:
        return await self.request("PATCH", path, **kw)

    async def delete(self, path: str, **kw: Any) -> Reply:
        return await self.request("DELETE", path, **kw)

    def as_(self, headers: dict[str, str]) -> Api:
        return Api(self.session, self.base, headers)


async def all_rows(api: Api, path: str, **params: Any) -> list[dict[str, Any]]:
    reply = await api.get(path, params={"per_page": 250, **params})
    assert reply.status == 200, reply.body
    assert reply.body["meta"]["total"] <= 250
    return reply.data


def small_config(**overrides: Any) -> SimConfig:
    return SimConfig(**{**SMALL, **overrides})


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with SimServer(small_config()) as server:
        yield server


@pytest.fixture
def api(sim: SimServer, session: aiohttp.ClientSession) -> Api:
    return Api(session, sim.api_url, {"X-API-Key": FULL})


@pytest.fixture
def read_api(sim: SimServer, session: aiohttp.ClientSession) -> Api:
    return Api(session, sim.api_url, {"X-API-Key": READ})


@pytest.fixture
def control(sim: SimServer, session: aiohttp.ClientSession) -> Api:
    """Client for the /__sim control endpoints."""
    return Api(session, sim.url + "/__sim", {})
