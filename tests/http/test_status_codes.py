"""Status codes and media types for both response types (GraphQL over HTTP, current
draft), against a real gateway over the sim.

application/json: 200 for every well-formed request, request errors included.
application/graphql-response+json: 4xx for request errors, which carry no `data`.
Either: 200 with `data` once execution started, whatever failed in it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from restloom.config import Settings
from restloom.frontdoor.negotiate import response_media_type
from restloom.sim.server import SimServer
from tests.conftest import FULL_KEY
from tests.http.support import APPLICATION_JSON, GRAPHQL_RESPONSE_JSON, exchange
from tests.support import GatewayServer, SimStats


@dataclass(frozen=True)
class Case:
    query: str
    variables: dict[str, Any] | None
    code: str | None  # the first error's code; None: no errors
    request_error: bool  # no `data`; 4xx with graphql-response+json
    status: int = 400  # with graphql-response+json, when a request error


CASES = {
    "success": Case("{ viewer { email } }", None, None, False),
    "parse failure": Case("{", None, "GRAPHQL_PARSE_FAILED", True),
    "validation failure": Case("{ nope }", None, "GRAPHQL_VALIDATION_FAILED", True),
    "unused variable (validation)": Case(
        "query Q($id: ID!) { __typename }", {"id": None}, "GRAPHQL_VALIDATION_FAILED", True
    ),
    "variable coercion failure": Case(
        "query Q($n: Int) { contacts(first: $n) { totalCount } }",
        {"n": "ten"},
        "BAD_USER_INPUT",
        True,
    ),
    "missing required variable": Case(
        "query Q($id: ID!) { contact(id: $id) { email } }", {}, "BAD_USER_INPUT", True
    ),
    "too deep": Case(
        "{ viewer { "
        + "organizations(first: 1) { nodes { members(first: 1) { nodes { " * 3
        + "email"
        + " } } } }" * 3
        + " } }",
        None,
        "QUERY_TOO_DEEP",
        True,
    ),
    "field error (partial data)": Case(
        '{ viewer { email } contact(id: "cnt_doesnotexist") { email } }',
        None,
        "NOT_FOUND",
        False,
    ),
}


@pytest.mark.parametrize("accept", [APPLICATION_JSON, GRAPHQL_RESPONSE_JSON])
@pytest.mark.parametrize("name", sorted(CASES))
async def test_status_and_media_type(
    http: aiohttp.ClientSession, gateway: GatewayServer, name: str, accept: str
) -> None:
    case = CASES[name]
    payload: dict[str, Any] = {"query": case.query}
    if case.variables is not None:
        payload["variables"] = case.variables
    reply = await exchange(
        http, gateway.url, json=payload, accept=accept, headers={"X-Request-Id": "st-1"}
    )
    assert reply.headers["Content-Type"] == f"{accept}; charset=utf-8"
    assert reply.headers["X-Request-Id"] == "st-1"
    body = reply.body
    if case.code is None:
        assert reply.status == 200
        assert "errors" not in body
        assert "@" in body["data"]["viewer"]["email"]
        return
    assert reply.codes()[0] == case.code, body
    assert body["errors"][0]["extensions"]["requestId"] == "st-1"
    if case.request_error:
        assert "data" not in body, body
        assert reply.status == (case.status if accept == GRAPHQL_RESPONSE_JSON else 200)
    else:
        assert reply.status == 200
        assert "@" in body["data"]["viewer"]["email"]  # the sibling survived
        assert body["data"]["contact"] is None


async def test_coercion_errors_name_the_variable(
    http: aiohttp.ClientSession, gateway: GatewayServer
) -> None:
    case = CASES["variable coercion failure"]
    reply = await exchange(
        http,
        gateway.url,
        json={"query": case.query, "variables": case.variables},
        accept=GRAPHQL_RESPONSE_JSON,
    )
    assert reply.status == 400
    assert reply.body["errors"][0]["extensions"]["variable"] == "n"
    # A validation error that mentions a variable is not mistaken for a coercion error.
    unused = CASES["unused variable (validation)"]
    reply = await exchange(
        http, gateway.url, json={"query": unused.query, "variables": unused.variables}
    )
    assert "variable" not in reply.body["errors"][0]["extensions"]


@pytest.fixture
async def service_gateway(sim: SimServer) -> AsyncIterator[GatewayServer]:
    async with GatewayServer(Settings(upstream_url=sim.url, api_key=FULL_KEY)) as gateway:
        yield gateway


@pytest.mark.parametrize(
    ("accept", "status"), [(APPLICATION_JSON, 200), (GRAPHQL_RESPONSE_JSON, 403)]
)
async def test_a_refusal_before_execution_is_403_in_graphql_response_json(
    http: aiohttp.ClientSession,
    service_gateway: GatewayServer,
    stats: SimStats,
    accept: str,
    status: int,
) -> None:
    # No credential of its own: restloom's service key may read, but not impersonate.
    await stats.reset()
    async with http.post(
        service_gateway.url + "/graphql",
        json={"query": "{ viewer { email } }"},
        headers={"Accept": accept, "X-Impersonate-User-Id": "usr_1"},
    ) as resp:
        body = await resp.json(content_type=None)
        assert resp.status == status
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert await stats.requests() == 0


async def test_upstream_failure_during_execution_is_200_with_data(
    http: aiohttp.ClientSession, gateway: GatewayServer, sim: SimServer
) -> None:
    async with http.post(
        sim.url + "/__sim/faults",
        json={"mode": "error500", "count": 1, "path_prefix": "/api/v1/users/me"},
    ) as resp:
        assert resp.status in (200, 201, 204)
    reply = await exchange(
        http,
        gateway.url,
        json={"query": "{ viewer { email } contacts(first: 1) { totalCount } }"},
        accept=GRAPHQL_RESPONSE_JSON,
    )
    assert reply.status == 200  # execution started: a partial result, not a request error
    assert reply.body["data"]["viewer"] is None
    assert reply.body["data"]["contacts"]["totalCount"] > 0
    assert reply.codes() == ["UPSTREAM_ERROR"]


NEGOTIATION = [
    (None, GRAPHQL_RESPONSE_JSON),  # the draft since the 2025 watershed
    ("", GRAPHQL_RESPONSE_JSON),
    ("*/*", APPLICATION_JSON),  # legacy clients' default
    ("application/*", APPLICATION_JSON),
    ("application/json", APPLICATION_JSON),
    ("application/graphql-response+json", GRAPHQL_RESPONSE_JSON),
    ("APPLICATION/GRAPHQL-RESPONSE+JSON; charset=utf-8", GRAPHQL_RESPONSE_JSON),
    ("application/graphql-response+json, application/json;q=0.9", GRAPHQL_RESPONSE_JSON),
    ("application/graphql-response+json, application/json", GRAPHQL_RESPONSE_JSON),
    ("application/json, application/graphql-response+json", APPLICATION_JSON),
    ("application/json;q=0.5, application/graphql-response+json;q=0.8", GRAPHQL_RESPONSE_JSON),
    ("application/graphql-response+json, */*", GRAPHQL_RESPONSE_JSON),
    ("application/graphql-response+json;q=0, */*", APPLICATION_JSON),
    ("text/html, */*;q=0.1", APPLICATION_JSON),
    ("application/json, text/plain, */*", APPLICATION_JSON),  # axios
    ("application/graphql-response+json;q=bogus, application/json", APPLICATION_JSON),
    ("text/html", None),
    ("application/json;q=0", None),
    ("nonsense", None),
]


@pytest.mark.parametrize(("accept", "chosen"), NEGOTIATION)
def test_negotiation(accept: str | None, chosen: str | None) -> None:
    assert response_media_type(accept) == chosen


@pytest.mark.parametrize(("accept", "chosen"), [n for n in NEGOTIATION if n[0] != ""])
async def test_negotiation_over_http(
    http: aiohttp.ClientSession, gateway: GatewayServer, accept: str | None, chosen: str | None
) -> None:
    reply = await exchange(http, gateway.url, json={"query": "{ __typename }"}, accept=accept)
    if chosen is None:
        assert reply.status == 406
    else:
        assert reply.status == 200
        assert reply.media_type == chosen
        assert reply.body["data"] == {"__typename": "Query"}
