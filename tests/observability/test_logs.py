"""Log lines through a real gateway over the sim: one per request, one per upstream call at
debug, JSON when asked, and never a credential (whatever logger wrote the line).
"""

from __future__ import annotations

import json
import logging

import aiohttp
import pytest

from restloom.config import Settings
from restloom.observability.logs import AccessLogScrubber, JsonFormatter, formatter
from restloom.sim.server import SimServer
from tests.conftest import FULL_KEY
from tests.observability.process import ServeProcess
from tests.support import GatewayServer, GraphQLClient, SimStats

QUERY = "query Pair { viewer { email } contacts(first: 2) { nodes { id } } }"


def lines(caplog: pytest.LogCaptureFixture, logger: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == logger]


def fields(record: logging.LogRecord) -> dict[str, object]:
    return json.loads(JsonFormatter().format(record))


async def test_one_line_per_request_and_one_per_upstream_call_at_debug(
    caplog: pytest.LogCaptureFixture, client: GraphQLClient, stats: SimStats
) -> None:
    caplog.set_level(logging.DEBUG, logger="restloom")
    await stats.reset()
    reply = await client.send(QUERY)
    assert not reply.errors
    request_id = reply.headers["X-Request-Id"]
    sent = await stats.requests()

    (request,) = lines(caplog, "restloom.requests")
    assert request.levelno == logging.INFO
    line = fields(request)
    assert line["event"] == "graphql"
    assert line["operation"] == "Pair" and line["type"] == "query"
    assert line["outcome"] == "ok"
    assert line["upstream_calls"] == sent == 2
    assert line["request_id"] == request_id
    assert isinstance(line["ms"], float) and line["ms"] >= 0
    text = request.getMessage()
    assert text.startswith("graphql operation=Pair type=query outcome=ok ")
    assert "upstream_calls=2 " in text and f"request_id={request_id}" in text

    calls = lines(caplog, "restloom.upstream.calls")
    assert len(calls) == sent
    assert all(c.levelno == logging.DEBUG for c in calls)
    by_route = {fields(c)["route"]: fields(c) for c in calls}
    assert set(by_route) == {"/users/me", "/contacts"}
    contacts = by_route["/contacts"]
    assert contacts["method"] == "GET" and contacts["status"] == "200"
    assert contacts["attempt"] == 1 and contacts["cache"] == "none"
    assert contacts["request_id"] == request_id
    assert str(contacts["path"]).endswith("/contacts")  # the path, without its query


async def test_at_info_no_upstream_call_lines(
    caplog: pytest.LogCaptureFixture, client: GraphQLClient
) -> None:
    caplog.set_level(logging.INFO, logger="restloom")
    await client.data(QUERY)
    assert len(lines(caplog, "restloom.requests")) == 1
    assert lines(caplog, "restloom.upstream.calls") == []


async def test_outcomes_codes_retries_and_cache_in_the_lines(
    caplog: pytest.LogCaptureFixture,
    http: aiohttp.ClientSession,
    sim: SimServer,
    gateway_settings: Settings,
) -> None:
    caplog.set_level(logging.DEBUG, logger="restloom")
    cached = gateway_settings.model_copy(update={"cache_ttl": 60})
    async with GatewayServer(cached) as gateway:
        await outcomes_in_the_lines(
            http, sim, GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})
        )
    assert_outcomes(caplog)


async def outcomes_in_the_lines(
    http: aiohttp.ClientSession, sim: SimServer, client: GraphQLClient
) -> None:
    async with http.post(
        sim.url + "/__sim/faults",
        json={"mode": "error503", "count": 1, "method": "GET", "path_prefix": "/api/v1/users"},
    ) as resp:
        assert resp.status == 200
    await client.data(QUERY)  # /users/me: 503, then retried
    await client.data(QUERY)  # both from the cache
    partial = await client.send(
        'query Half { viewer { email } contact(id: "cnt_doesnotexist") { id } }'
    )
    assert partial.codes() == ["NOT_FOUND"]


def assert_outcomes(caplog: pytest.LogCaptureFixture) -> None:
    first, second, third = (fields(r) for r in lines(caplog, "restloom.requests"))
    assert first["retries"] == 1 and first["upstream_calls"] == 3
    assert second["upstream_calls"] == 0 and second["cache_hits"] == 2
    assert third["outcome"] == "partial" and third["codes"] == ["NOT_FOUND"]
    me = [fields(r) for r in lines(caplog, "restloom.upstream.calls")]
    me = [c for c in me if c["route"] == "/users/me"]
    assert [(c["status"], c["attempt"], c["cache"]) for c in me] == [
        ("503", 1, "miss"),
        ("200", 2, "miss"),
    ]


async def test_no_credential_in_any_log_line_at_debug(
    caplog: pytest.LogCaptureFixture,
    http: aiohttp.ClientSession,
    gateway: GatewayServer,
) -> None:
    """Every logger at debug (restloom, uvicorn, aiohttp, the sim), both formats."""
    caplog.set_level(logging.DEBUG)
    bearer = "Bearer tok_secret_9f8e7d6c5b4a"
    variables_secret = "hunter2-password-in-variables"
    for headers in (
        {"X-API-Key": FULL_KEY},
        {"X-API-Key": FULL_KEY, "Authorization": bearer},
        {"Authorization": bearer},
    ):
        client = GraphQLClient(http, gateway.url, headers)
        await client.send(QUERY)
        await client.send(
            'mutation L($p: String!) { login(input: {email: "a@b.c", password: $p}) { __typename } }',
            {"p": variables_secret},
        )
    # A GET carries its variables in the URL, which uvicorn's access line would print.
    async with http.get(
        gateway.url + "/graphql",
        params={
            "query": "query Q($p: String) { viewer { email } }",
            "variables": json.dumps({"p": variables_secret}),
        },
        headers={"X-API-Key": FULL_KEY, "Accept": "application/json"},
    ) as resp:
        await resp.read()

    logged = {r.name for r in caplog.records}
    assert {"restloom.requests", "restloom.upstream.calls"} <= logged, logged
    access = logging.getLogger("uvicorn.access")
    scrubber = AccessLogScrubber()
    for record in caplog.records:
        if record.name == access.name:
            scrubber.filter(record)
        for rendered in (formatter("text").format(record), formatter("json").format(record)):
            for secret in (FULL_KEY, bearer, "tok_secret_9f8e7d6c5b4a", variables_secret):
                assert secret not in rendered, (record.name, rendered)


def test_access_lines_lose_their_query_string() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/graphql?query=x&variables=%7B%22p%22%3A1%7D", "1.1", 200),
        None,
    )
    AccessLogScrubber().filter(record)
    assert record.getMessage() == '127.0.0.1:5 - "GET /graphql HTTP/1.1" 200'


def test_json_lines_are_one_object_per_line_for_any_logger() -> None:
    record = logging.LogRecord(
        "other.lib", logging.WARNING, __file__, 1, "two\nlines %s", ("x",), None
    )
    rendered = JsonFormatter().format(record)
    assert "\n" not in rendered
    line = json.loads(rendered)
    assert line["message"] == "two\nlines x"
    assert line["level"] == "warning" and line["logger"] == "other.lib"
    assert line["time"].endswith("Z")


async def test_serve_writes_json_lines_uvicorns_included(
    http: aiohttp.ClientSession, gateway_settings: Settings
) -> None:
    """The real CLI: RESTLOOM_LOG_FORMAT=json turns every stderr line into one JSON object."""
    env = {
        "RESTLOOM_LOG_FORMAT": "json",
        "RESTLOOM_CURSOR_SECRET": "test-cursor-secret",
        # uvicorn's access lines are off by default: on here, to see them as JSON too.
        "RESTLOOM_ACCESS_LOG": "true",
    }
    async with ServeProcess(str(gateway_settings.upstream_url), env) as serve:
        client = GraphQLClient(http, serve.url, {"X-API-Key": FULL_KEY})
        reply = await client.send(QUERY)
        assert not reply.errors
        async with http.get(
            serve.url + "/graphql",
            params={"query": "{ viewer { email } }", "variables": '{"secret": "in-the-url"}'},
            headers={"X-API-Key": FULL_KEY, "Accept": "application/json"},
        ) as resp:
            assert resp.status == 200
    output = [line for line in serve.stderr.splitlines() if line.strip()]
    parsed = [json.loads(line) for line in output]  # every line, or this raises
    requests = [line for line in parsed if line["logger"] == "restloom.requests"]
    assert [(r["operation"], r["outcome"]) for r in requests] == [("Pair", "ok"), (None, "ok")]
    assert requests[0]["request_id"] == reply.headers["X-Request-Id"]
    access = [line for line in parsed if line["logger"] == "uvicorn.access"]
    assert any("POST /graphql" in line["message"] for line in access), access
    assert any("GET /graphql HTTP" in line["message"] for line in access), access
    assert "in-the-url" not in serve.stderr and FULL_KEY not in serve.stderr
    assert any(line["logger"].startswith("uvicorn.error") for line in parsed)
