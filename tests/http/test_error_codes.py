"""Error codes that say whose fault it is, against real servers on loopback.

- an upstream 5xx other than 502-504 is UPSTREAM_ERROR with the status, never
  INTERNAL_ERROR, and its body is not passed on;
- INTERNAL_ERROR is a fault of restloom's own: masked, and logged once with its
  traceback and the request id;
- about 1,000 identical sibling fields: QUERY_TOO_COMPLEX, not "Validation aborted.".
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from restloom.config import Settings
from restloom.graphql import cost
from restloom.graphql.users import User
from restloom.sim.server import SimServer
from tests.http.support import APPLICATION_JSON, GRAPHQL_RESPONSE_JSON, exchange
from tests.loopback import Listener
from tests.support import GatewayServer, SimStats

SECRET = "db-primary.internal:5432 stack trace"


class FailingUpstream(Listener):
    """Answers every request with one status and a body that must not reach clients."""

    def __init__(self, status: int) -> None:
        super().__init__()
        self.status = status
        self.calls = 0
        self.app.router.add_route("*", "/{tail:.*}", self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        self.calls += 1
        body = {"error": {"code": "NOT_IMPLEMENTED", "message": SECRET}}
        return web.json_response(body, status=self.status)


@pytest.mark.parametrize("status", [500, 501, 505, 599])
async def test_an_upstream_5xx_is_upstream_error(http: aiohttp.ClientSession, status: int) -> None:
    async with (
        FailingUpstream(status) as upstream,
        GatewayServer(Settings(upstream_url=upstream.url, read_retries=0)) as gateway,
    ):
        reply = await exchange(
            http,
            gateway.url,
            json={"query": "{ viewer { email } }"},
            accept=GRAPHQL_RESPONSE_JSON,
            headers={"X-Request-Id": "up-5xx"},
        )
    assert reply.status == 200  # execution ran: a field error, with data
    assert reply.body["data"] == {"viewer": None}
    [error] = reply.body["errors"]
    assert error["extensions"]["code"] == "UPSTREAM_ERROR"
    assert error["extensions"]["status"] == status
    assert error["extensions"]["requestId"] == "up-5xx"
    assert error["message"] == "The upstream service failed"
    assert SECRET not in reply.raw.decode()
    assert "upstreamCode" not in error["extensions"]
    assert upstream.calls >= 1


def _internal_records(caplog: pytest.LogCaptureFixture) -> list[Any]:
    return [r for r in caplog.records if r.levelname == "ERROR" and r.name == "restloom.errors"]


async def test_a_bug_in_a_resolver_is_internal_error_logged_once(
    http: aiohttp.ClientSession,
    gateway: GatewayServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(record: Any) -> User:
        raise KeyError(SECRET)

    monkeypatch.setattr(User, "from_record", staticmethod(broken))
    with caplog.at_level("ERROR", logger="restloom.errors"):
        reply = await exchange(
            http,
            gateway.url,
            json={"query": "{ viewer { email } __typename }"},
            accept=GRAPHQL_RESPONSE_JSON,
            headers={"X-Request-Id": "bug-resolver"},
        )
    assert reply.status == 200
    assert reply.body["data"] == {"viewer": None, "__typename": "Query"}
    [error] = reply.body["errors"]
    assert error["extensions"]["code"] == "INTERNAL_ERROR"
    assert error["message"] == "Internal server error"
    assert SECRET not in reply.raw.decode()
    [record] = _internal_records(caplog)
    assert "bug-resolver" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[0] is KeyError


@pytest.mark.parametrize(
    ("accept", "status"), [(APPLICATION_JSON, 200), (GRAPHQL_RESPONSE_JSON, 500)]
)
async def test_a_bug_before_execution_is_internal_error_logged_once(
    http: aiohttp.ClientSession,
    gateway: GatewayServer,
    stats: SimStats,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    accept: str,
    status: int,
) -> None:
    # A fault inside an extension hook (the cost prediction) ends the operation before the
    # error formatter runs: the HTTP answer still masks it, codes it and logs it once.
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError(SECRET)

    monkeypatch.setattr(cost, "predict", broken)
    await stats.reset()
    with caplog.at_level("ERROR", logger="restloom.errors"):
        reply = await exchange(
            http,
            gateway.url,
            json={"query": "{ viewer { email } }"},
            accept=accept,
            headers={"X-Request-Id": "bug-hook"},
        )
    assert reply.status == status
    assert "data" not in reply.body  # nothing was executed
    assert reply.codes() == ["INTERNAL_ERROR"]
    assert reply.body["errors"][0]["message"] == "Internal server error"
    assert SECRET not in reply.raw.decode()
    [record] = _internal_records(caplog)
    assert "bug-hook" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError
    assert await stats.requests() == 0


def siblings(count: int) -> str:
    return "{ viewer { " + " ".join(["email"] * count) + " } }"


@pytest.fixture
async def roomy_gateway(sim: SimServer) -> AsyncIterator[GatewayServer]:
    settings = Settings(upstream_url=sim.url, max_tokens=5000, max_query_chars=40000)
    async with GatewayServer(settings) as gateway:
        yield gateway


@pytest.mark.parametrize(
    ("accept", "status"), [(APPLICATION_JSON, 200), (GRAPHQL_RESPONSE_JSON, 400)]
)
async def test_a_thousand_identical_siblings_are_query_too_complex(
    http: aiohttp.ClientSession,
    gateway: GatewayServer,
    roomy_gateway: GatewayServer,
    stats: SimStats,
    accept: str,
    status: int,
) -> None:
    await stats.reset()
    # 995 fields: exactly the default limit of 1,000 tokens; 4,995 with the limit raised.
    for server, count in ((gateway, 995), (roomy_gateway, 4995)):
        reply = await exchange(http, server.url, json={"query": siblings(count)}, accept=accept)
        assert reply.status == status, reply.body
        assert "data" not in reply.body
        assert reply.codes() == ["QUERY_TOO_COMPLEX"]
        message = reply.body["errors"][0]["message"]
        assert "Validation aborted" not in message
        assert "same name" in message
    assert await stats.requests() == 0


async def test_identical_siblings_below_graphql_cores_budget_are_served(
    http: aiohttp.ClientSession, gateway: GatewayServer
) -> None:
    # graphql-core compares same-named fields pairwise; about 700 fit in its budget.
    reply = await exchange(http, gateway.url, json={"query": siblings(700)})
    assert reply.status == 200
    assert "errors" not in reply.body
    assert "@" in reply.body["data"]["viewer"]["email"]
