"""`restloom serve` options for throughput: workers, the access log, frozen start-up garbage.

Workers and the access log run the real CLI as a child process over the sim; upstream
calls are counted by the sim.
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Iterator

import aiohttp
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from restloom.config import ConfigError, Settings
from restloom.serving import (
    WORKER_SETTINGS,
    YOUNG_COLLECTION_THRESHOLD,
    app_from_environment,
    for_workers,
    settings_for_workers,
)
from restloom.sim.server import SimServer
from tests.conftest import FULL_KEY
from tests.observability.process import ServeProcess
from tests.support import GraphQLClient, SimStats

QUERY = "{ contacts(first: 3) { nodes { databaseId } } }"
BASE_ENV = {"RESTLOOM_CURSOR_SECRET": "test-cursor-secret", "RESTLOOM_STARTUP_CHECK": "false"}


@pytest.fixture
def unfrozen() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def revealed(settings: Settings) -> dict[str, object]:
    return {
        name: value.get_secret_value() if isinstance(value, SecretStr) else value
        for name, value in settings
    }


def test_workers_get_the_parents_settings_secrets_included(sim: SimServer) -> None:
    settings = Settings(
        upstream_url=sim.url,
        api_key="service-key",
        cursor_secret="cursor-key",
        cache_ttls={"contacts": 30},
        rate_limit="off",
        redis_url="redis://:pw@127.0.0.1:6379/3",
        workers=3,
    )
    copied = Settings.model_validate_json(settings_for_workers(settings))
    assert revealed(copied) == revealed(settings)


def test_the_worker_factory_builds_the_app_and_freezes_start_up_garbage(
    sim: SimServer, monkeypatch: pytest.MonkeyPatch, unfrozen: None
) -> None:
    settings = Settings(upstream_url=sim.url, cursor_secret="cursor-key", cache_ttl=5)
    monkeypatch.setenv(WORKER_SETTINGS, settings_for_workers(settings))
    gc.unfreeze()
    app = app_from_environment()
    assert isinstance(app, Starlette)
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == YOUNG_COLLECTION_THRESHOLD


async def test_two_workers_serve_with_a_cache_each(
    sim: SimServer, http: aiohttp.ClientSession, stats: SimStats
) -> None:
    env = {**BASE_ENV, "RESTLOOM_CACHE_TTL": "60", "RESTLOOM_LOG_FORMAT": "json"}
    async with ServeProcess(sim.url, env, args=("--workers", "2")) as serve:
        client = GraphQLClient(http, serve.url, {"X-API-Key": FULL_KEY})
        await stats.reset()
        answers = [await client.data(QUERY) for _ in range(30)]
        calls = await stats.requests()
    assert all(a == answers[0] for a in answers) and len(answers[0]["contacts"]["nodes"]) == 3
    lines = [json.loads(line) for line in serve.stderr.splitlines() if line.strip()]
    workers = {
        m.group(1)
        for line in lines
        if (m := re.match(r"Started server process \[(\d+)\]", line.get("message", "")))
    }
    assert len(workers) == 2
    # Each worker keeps its own memory cache: at most one upstream call per worker.
    assert 1 <= calls <= 2


@pytest.mark.parametrize("access_log", ["true", "false"])
async def test_the_access_log_can_be_turned_off(
    sim: SimServer, http: aiohttp.ClientSession, access_log: str
) -> None:
    env = {**BASE_ENV, "RESTLOOM_LOG_FORMAT": "json", "RESTLOOM_ACCESS_LOG": access_log}
    async with ServeProcess(sim.url, env) as serve:
        await GraphQLClient(http, serve.url, {"X-API-Key": FULL_KEY}).data(QUERY)
    lines = [json.loads(line) for line in serve.stderr.splitlines() if line.strip()]
    assert [line["logger"] for line in lines].count("restloom.requests") == 1
    access = [line["message"] for line in lines if line["logger"] == "uvicorn.access"]
    if access_log == "true":
        assert any("POST /graphql" in message for message in access), access
    else:
        assert access == []


def test_workers_share_one_drawn_cursor_key_and_redis_needs_a_configured_one(
    sim: SimServer,
) -> None:
    drawn = for_workers(Settings(upstream_url=sim.url, workers=2))
    assert drawn.cursor_secret is not None and len(drawn.cursor_secret.get_secret_value()) >= 32
    given = Settings(upstream_url=sim.url, workers=2, cursor_secret="mine")
    assert for_workers(given) is given
    with pytest.raises(ConfigError, match="cursor_secret"):
        for_workers(Settings(upstream_url=sim.url, workers=2, redis_url="redis://127.0.0.1"))


async def test_a_cursor_from_one_worker_works_on_the_other(
    sim: SimServer, http: aiohttp.ClientSession
) -> None:
    env = {"RESTLOOM_STARTUP_CHECK": "false"}  # no cursor_secret: the parent draws one
    page = "query($after: String) { contacts(first: 2, after: $after) { pageInfo { endCursor } } }"
    async with ServeProcess(sim.url, env, args=("--workers", "2")) as serve:
        client = GraphQLClient(http, serve.url, {"X-API-Key": FULL_KEY})
        cursor = (await client.data(page))["contacts"]["pageInfo"]["endCursor"]
        replies = [await client.send(page, {"after": cursor}) for _ in range(20)]
    assert [r.errors for r in replies] == [[]] * 20
    started = re.findall(r"Started server process \[(\d+)\]", serve.stderr)
    assert len(set(started)) == 2
