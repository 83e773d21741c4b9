"""`/metrics` through a real gateway over the sim: counters that move, bounded labels, access.

Counts are compared with the sim's own request counter, never with timings.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from restloom.config import Settings
from restloom.observability.metrics import OperationNames
from restloom.observability.routes import route_of
from restloom.sim.server import SimServer
from restloom.upstream.profile import BUILTIN_PROFILES
from tests.conftest import FULL_KEY
from tests.support import GatewayServer, GraphQLClient, SimStats

FEW = "query Few { contacts(first: 3) { nodes { id } } }"
MISSING = 'query Missing { contact(id: "cnt_doesnotexist") { id } }'
MIXED = (
    'query Mixed { a: contact(id: "cnt_doesnotexist") { id } contacts(first: 1) { totalCount } }'
)

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(http: aiohttp.ClientSession, url: str, token: str | None = None) -> Samples:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with http.get(url + "/metrics", headers=headers) as resp:
        assert resp.status == 200, await resp.text()
        assert resp.headers["Content-Type"].startswith("text/plain")
        text = await resp.text()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


async def scrape_since(
    http: aiohttp.ClientSession, url: str, before: Samples, token: str | None = None
) -> Samples:
    """What moved since `before` (counters; the gauges as they are now).

    The gateway's start-up check of the upstream is an upstream call too: tests
    compare against a scrape taken after start-up instead of against zero.
    """
    after = await scrape(http, url, token)
    return {
        key: v - before.get(key, 0.0) if not key[0].startswith("restloom_upstream_breaker") else v
        for key, v in after.items()
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum over every series of `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


@pytest.fixture
async def metered(sim: SimServer, request: Any) -> AsyncIterator[GatewayServer]:
    extra = getattr(request, "param", {})
    async with GatewayServer(Settings(upstream_url=sim.url, metrics=True, **extra)) as server:
        yield server


def gql(http: aiohttp.ClientSession, server: GatewayServer) -> GraphQLClient:
    return GraphQLClient(http, server.url, {"X-API-Key": FULL_KEY})


async def test_requests_by_operation_and_outcome_and_upstream_calls_by_route(
    http: aiohttp.ClientSession, metered: GatewayServer, stats: SimStats
) -> None:
    client = gql(http, metered)
    before = await scrape(http, metered.url)
    await stats.reset()
    await client.data(FEW)
    await client.data(FEW)
    await client.data("{ viewer { email } }")
    missing = await client.send(MISSING)
    assert missing.codes() == ["NOT_FOUND"]
    mixed = await client.send(MIXED)
    assert mixed.codes() == ["NOT_FOUND"] and mixed.data["contacts"]["totalCount"] > 0
    sent = await stats.requests()

    samples = await scrape_since(http, metered.url, before)
    requests = "restloom_graphql_requests_total"
    assert value(samples, requests, operation="Few", outcome="ok") == 2
    assert value(samples, requests, operation="(anonymous)", outcome="ok") == 1
    assert value(samples, requests, operation="Missing", outcome="error") == 1
    assert value(samples, requests, operation="Mixed", outcome="partial") == 1
    duration = "restloom_graphql_request_duration_seconds_count"
    assert value(samples, duration, operation="Few") == 2

    # Every call the sim counted, and no other, is in the upstream counters.
    assert total(samples, "restloom_upstream_calls_total") == sent
    assert total(samples, "restloom_upstream_call_duration_seconds_count") == sent
    calls = "restloom_upstream_calls_total"
    # Lookups by id are batched list reads (filter[id]): they are /contacts calls too.
    assert value(samples, calls, method="GET", route="/contacts", status="200") == sent - 1
    assert value(samples, calls, method="GET", route="/users/me", status="200") == 1
    # Routes are templates: no id ever becomes a label value.
    assert not any("cnt_" in v for (_, labels) in samples for _, v in labels)
    # Nothing was cached, retried or held back.
    assert total(samples, "restloom_cache_hits_total") == 0
    assert total(samples, "restloom_upstream_retries_total") == 0
    assert value(samples, "restloom_upstream_breaker_state", state="closed") == 1
    assert value(samples, "restloom_upstream_breaker_state", state="open") == 0


async def test_metrics_are_off_by_default(
    http: aiohttp.ClientSession, client: GraphQLClient, gateway: GatewayServer
) -> None:
    await client.data(FEW)
    async with http.get(gateway.url + "/metrics") as resp:
        assert resp.status == 404


@pytest.mark.parametrize("metered", [{"metrics_token": "s3cret-token"}], indirect=True)
async def test_metrics_token_is_required_when_set(
    http: aiohttp.ClientSession, metered: GatewayServer
) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-token"}):
        async with http.get(metered.url + "/metrics", headers=headers) as resp:
            assert resp.status == 401
            assert resp.headers["WWW-Authenticate"].startswith("Bearer")
            body = await resp.json()
            assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    samples = await scrape(http, metered.url, token="s3cret-token")
    assert value(samples, "restloom_upstream_breaker_state", state="closed") == 1


@pytest.mark.parametrize("metered", [{"max_metric_operations": 3}], indirect=True)
async def test_operation_names_are_bounded(
    http: aiohttp.ClientSession, metered: GatewayServer
) -> None:
    client = gql(http, metered)
    for index in range(5):
        await client.data(f"query Op{index} {{ viewer {{ email }} }}")
    long_name = "L" * 65
    await client.data(f"query {long_name} {{ viewer {{ email }} }}")
    # A name the document does not define: an error, and not a label of its own.
    payload = {"query": "query Op0 { viewer { email } }", "operationName": "evil\nname{x}"}
    async with http.post(
        metered.url + "/graphql", json=payload, headers={"X-API-Key": FULL_KEY}
    ) as resp:
        await resp.read()

    samples = await scrape(http, metered.url)
    names = {
        dict(labels)["operation"]
        for (name, labels) in samples
        if name == "restloom_graphql_requests_total"
    }
    assert names == {"Op0", "Op1", "Op2", "(other)"}
    assert value(samples, "restloom_graphql_requests_total", operation="(other)", outcome="ok") == 3
    assert total(samples, "restloom_graphql_requests_total", operation="(other)") == 4


@pytest.mark.parametrize("metered", [{"cache_ttl": 60}], indirect=True)
async def test_cache_hits_and_misses(
    http: aiohttp.ClientSession, metered: GatewayServer, stats: SimStats
) -> None:
    client = gql(http, metered)
    query = '{ contacts(first: 2) { nodes { id } } contact(id: "cnt_0a1b2c3d4e") { id } }'
    before = await scrape(http, metered.url)
    await stats.reset()
    await client.data(query)
    first = await stats.requests()
    assert first >= 2
    samples = await scrape_since(http, metered.url, before)
    # Every GET the first run sent was for a route with a TTL: a miss each.
    assert value(samples, "restloom_cache_misses_total") == first
    assert value(samples, "restloom_cache_hits_total") == 0

    await client.data(query)
    assert await stats.requests() == first  # all from the cache
    samples = await scrape_since(http, metered.url, before)
    assert value(samples, "restloom_cache_misses_total") == first
    assert value(samples, "restloom_cache_hits_total") >= 2


async def arm(http: aiohttp.ClientSession, sim: SimServer, **fault: Any) -> None:
    async with http.post(sim.url + "/__sim/faults", json=fault) as resp:
        assert resp.status == 200, await resp.text()


async def test_retries_are_counted_by_route(
    http: aiohttp.ClientSession, sim: SimServer, metered: GatewayServer, stats: SimStats
) -> None:
    client = gql(http, metered)
    before = await scrape(http, metered.url)
    await stats.reset()
    await arm(http, sim, mode="error503", count=1, method="GET", path_prefix="/api/v1/contacts")
    await client.data(FEW)
    assert await stats.requests() == 2  # the 503 and its retry
    samples = await scrape_since(http, metered.url, before)
    calls = "restloom_upstream_calls_total"
    assert value(samples, calls, method="GET", route="/contacts", status="503") == 1
    assert value(samples, calls, method="GET", route="/contacts", status="200") == 1
    assert value(samples, "restloom_upstream_retries_total", method="GET", route="/contacts") == 1


@pytest.mark.parametrize(
    "metered", [{"breaker_failures": 1, "read_retries": 0, "breaker_cooldown": 60}], indirect=True
)
async def test_breaker_state_is_read_at_scrape_time(
    http: aiohttp.ClientSession, sim: SimServer, metered: GatewayServer
) -> None:
    client = gql(http, metered)
    before = await scrape(http, metered.url)
    await arm(http, sim, mode="error503", count=1, method="GET")
    reply = await client.send(FEW)
    assert reply.codes() == ["UPSTREAM_UNAVAILABLE"]
    samples = await scrape_since(http, metered.url, before)
    assert value(samples, "restloom_upstream_breaker_state", state="open") == 1
    assert value(samples, "restloom_upstream_breaker_state", state="closed") == 0
    assert value(samples, "restloom_upstream_breaker_consecutive_failures") == 1
    assert value(samples, "restloom_upstream_calls_total", method="GET", route="/contacts",
                 status="503") == 1  # fmt: skip


@pytest.mark.parametrize(
    "metered", [{"rate_limit": {"requests": 1, "per_seconds": 1}}], indirect=True
)
async def test_rate_budget_waits_are_counted(
    http: aiohttp.ClientSession, metered: GatewayServer, stats: SimStats
) -> None:
    client = gql(http, metered)
    await stats.reset()
    await client.data("{ viewer { email } }")
    await client.data("{ viewer { email } }")  # its call waits for the next slot
    assert await stats.requests() == 2
    samples = await scrape(http, metered.url)
    assert value(samples, "restloom_rate_budget_waits_total") == 1
    assert value(samples, "restloom_rate_budget_wait_seconds_total") > 0
    assert value(samples, "restloom_rate_budget_refusals_total") == 0


@pytest.mark.parametrize(
    "metered",
    [{"rate_limit": {"requests": 1, "per_seconds": 30}, "request_deadline": 2}],
    indirect=True,
)
async def test_rate_budget_refusals_are_counted(
    http: aiohttp.ClientSession, metered: GatewayServer, stats: SimStats
) -> None:
    client = gql(http, metered)
    await stats.reset()
    await client.data("{ viewer { email } }")
    refused = await client.send("{ viewer { email } }")  # next slot is ~31 s away
    assert refused.codes() == ["RATE_LIMITED"]
    assert await stats.requests() == 1
    samples = await scrape(http, metered.url)
    assert value(samples, "restloom_rate_budget_refusals_total") == 1
    assert value(samples, "restloom_graphql_requests_total", operation="(anonymous)",
                 outcome="error") == 1  # fmt: skip


async def test_two_apps_in_one_process_keep_their_own_metrics(
    http: aiohttp.ClientSession, sim: SimServer
) -> None:
    settings = Settings(upstream_url=sim.url, metrics=True)
    async with GatewayServer(settings) as one, GatewayServer(settings) as two:
        await gql(http, one).data(FEW)
        first = await scrape(http, one.url)
        second = await scrape(http, two.url)
    assert value(first, "restloom_graphql_requests_total", operation="Few", outcome="ok") == 1
    assert total(second, "restloom_graphql_requests_total") == 0


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/api/v1/contacts", "/contacts"),
        ("/api/v1/contacts/cnt_0a1b2c3d4e", "/contacts/{id}"),
        ("/api/v1/organizations/org_1/members", "/organizations/{id}/members"),
        ("/api/v1/organizations/org_1/members/usr_2", "/organizations/{id}/members/{member_id}"),
        ("/api/v1/users/me", "/users/me"),
        ("/api/v1/webhooks/wh_1/test", "/webhooks/{id}/test"),
        ("/api/v1/auth/login", "/auth/login"),
        ("/api/v1/webhooks/wh_1/Weird%20Action", "/webhooks/{id}/{action}"),
        ("/elsewhere/cnt_1", "(other)"),
        ("/api/v1/contacts/a/b/c", "(other)"),
    ],
)
def test_routes_are_the_profiles_templates(path: str, route: str) -> None:
    assert route_of(BUILTIN_PROFILES["mossdesk"], path) == route


def test_operation_names_keep_the_first_valid_ones() -> None:
    names = OperationNames(limit=2)
    assert names.label(None) == "(anonymous)"
    assert names.label("A") == "A"
    assert names.label("bad name") == "(other)"
    assert names.label("x" * 65) == "(other)"
    assert names.label("B") == "B"
    assert names.label("C") == "(other)"
    assert names.label("A") == "A"  # still its own series
