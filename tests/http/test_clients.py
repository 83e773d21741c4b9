"""Real clients, configured as their users do by default, against a live gateway over
the sim: graphql-request 7 and Apollo Client 4 (Accept names
application/graphql-response+json) and Apollo Client 3 (Accept: */*, so
application/json). Each sees data, partial data, and GraphQL errors with their codes;
none of them sees a bare "status code 400".
"""

from __future__ import annotations

from typing import Any

import pytest

from restloom.config import Settings
from restloom.sim.server import SimServer
from tests.conftest import FULL_KEY
from tests.http.node_audit import install, run_clients
from tests.support import GatewayServer
from tests.test_response_cache import Gateway

CLIENTS = {
    # client: (the Accept header it sends, media type it gets, status of a validation error)
    "graphql-request 7": (
        "application/graphql-response+json, application/json",
        "application/graphql-response+json",
        400,
    ),
    "Apollo Client 3": ("*/*", "application/json", 200),
    "Apollo Client 4": (
        "application/graphql-response+json,application/json;q=0.9",
        "application/graphql-response+json",
        400,
    ),
}


@pytest.fixture(scope="session")
def node() -> str:
    return install()


async def test_real_clients_read_every_answer(node: str, gateway: GatewayServer) -> None:
    report: dict[str, Any] = await run_clients(node, gateway.url + "/graphql", FULL_KEY)
    assert sorted(report) == sorted(CLIENTS)
    for name, (accept, media_type, validation_status) in CLIENTS.items():
        seen = report[name]
        for case in seen.values():
            [exchange] = case["http"]
            assert exchange["accept"] == accept, (name, exchange)
            assert exchange["contentType"] == f"{media_type}; charset=utf-8", (name, exchange)
            assert "failure" not in case, (name, case)
        assert "@" in seen["success"]["data"]["viewer"]["email"], name
        assert seen["success"]["codes"] == [], name
        assert seen["validation"]["codes"] == ["GRAPHQL_VALIDATION_FAILED"], (name, seen)
        assert seen["validation"]["http"][0]["status"] == validation_status, name
        assert seen["partial"]["codes"] == ["NOT_FOUND"], (name, seen)
        assert seen["partial"]["data"]["contact"] is None, name
        assert "@" in seen["partial"]["data"]["viewer"]["email"], name
        assert seen["partial"]["http"][0]["status"] == 200, name


async def test_real_clients_see_the_same_answers_from_the_response_cache(
    node: str, sim: SimServer
) -> None:
    """A real client's repeat answered by the fast lane reads exactly what it read the first
    time, as do the clients whose repeats execute again."""
    settings = Settings(upstream_url=sim.url, cache_ttl=60, cursor_secret="test-cursor-secret")
    async with Gateway(settings) as gateway:
        url = gateway.url + "/graphql"
        first = await run_clients(node, url, FULL_KEY)
        responses = gateway.responses
        assert responses is not None and responses.hits == 0
        again = await run_clients(node, url, FULL_KEY)
        assert again == first
        # graphql-request's `success` query was fetched whole and kept; the Apollo clients
        # send their own text of it, which then reads the viewer from the read cache, and
        # such a response is not kept (its age is unknown). The other cases have errors.
        assert (responses.hits, responses.answered_early) == (1, 1)
