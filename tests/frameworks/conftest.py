"""Each framework runs once per session; each test gets its own proxy and gateway over it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from restloom.config import load_settings
from tests.frameworks.dataset import DRF_ADMIN_TOKEN as ADMIN_TOKEN
from tests.frameworks.servers import (
    REPO,
    RunningServer,
    install_json_server,
    start_drf,
    start_json_server,
)
from tests.recording_proxy import RecordingProxy
from tests.support import GatewayServer, GraphQLClient

EXAMPLES = REPO / "examples"


@pytest.fixture(scope="session")
def drf_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_drf(tmp_path_factory.mktemp("drf"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def json_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    node = install_json_server()
    server = start_json_server(node, tmp_path_factory.mktemp("json-server"))
    yield server
    server.stop()


@dataclass(frozen=True)
class Framework:
    """How the tests reach one framework directly, to check what the gateway did."""

    name: str
    server_fixture: str
    credential: dict[str, str]  # what a caller sends the gateway
    direct_auth: dict[str, str]  # what the framework itself wants
    prefix: str
    trailing_slash: bool

    def path(self, collection: str, object_id: object = None) -> str:
        path = f"{self.prefix}/{collection}" + (f"/{object_id}" if object_id is not None else "")
        return path + "/" if self.trailing_slash else path


DRF = Framework(
    name="drf",
    server_fixture="drf_server",
    credential={"X-API-Key": ADMIN_TOKEN},
    direct_auth={"Authorization": f"Token {ADMIN_TOKEN}"},
    prefix="/api",
    trailing_slash=True,
)
JSON_SERVER = Framework(
    name="json-server",
    server_fixture="json_server",
    credential={},
    direct_auth={},
    prefix="",
    trailing_slash=False,
)
FRAMEWORKS = {f.name: f for f in (DRF, JSON_SERVER)}


@dataclass
class Stack:
    framework: Framework
    server: RunningServer
    proxy: RecordingProxy
    client: GraphQLClient
    http: aiohttp.ClientSession

    async def direct(
        self, path: str, params: list[tuple[str, str]] | None = None
    ) -> tuple[int, Any, dict[str, str]]:
        """GET straight from the framework (not through the proxy): status, JSON, headers."""
        async with self.http.get(
            self.server.url + path, params=params, headers=self.framework.direct_auth
        ) as resp:
            body = await resp.json(content_type=None)
            return resp.status, body, dict(resp.headers)

    async def direct_list(self, collection: str, **params: str) -> list[dict[str, Any]]:
        """Every record of a collection, in the framework's own answer to `params`."""
        if self.framework is DRF:
            query = [("page_size", "100"), *params.items()]
            status, body, _ = await self.direct(self.framework.path(collection), query)
            assert status == 200 and body["count"] <= 100, body
            return body["results"]
        query = [("_limit", "1000"), *params.items()]
        status, body, _ = await self.direct(self.framework.path(collection), query)
        assert status == 200, body
        return body


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@asynccontextmanager
async def stack_for(
    http: aiohttp.ClientSession,
    framework: Framework,
    server: RunningServer,
    config: Path | None = None,
) -> AsyncIterator[Stack]:
    """A recording proxy in front of the framework, and a gateway in front of the proxy
    (configured by `config`, by default the framework's example file as shipped)."""
    async with RecordingProxy(server.url) as proxy:
        # Only the origin is changed: pointed at the proxy.
        config = config or EXAMPLES / f"{framework.name}.toml"
        settings = load_settings(config, upstream_url=proxy.url)
        async with GatewayServer(settings) as gateway:
            client = GraphQLClient(http, gateway.url, dict(framework.credential))
            yield Stack(framework, server, proxy, client, http)


@pytest.fixture(params=sorted(FRAMEWORKS))
async def stack(
    request: pytest.FixtureRequest, http: aiohttp.ClientSession
) -> AsyncIterator[Stack]:
    framework = FRAMEWORKS[request.param]
    server: RunningServer = request.getfixturevalue(framework.server_fixture)
    async with stack_for(http, framework, server) as stack:
        yield stack
