import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest

from restloom.config import Settings
from restloom.sim.config import SimConfig
from restloom.sim.server import SimServer
from tests.redis_support import drop_namespace, require_redis
from tests.support import GatewayServer, GraphQLClient, SimStats

# Small enough to start in milliseconds; 90 users keep every users batch under 100 ids.
TEST_DATASET = SimConfig(seed=7, contacts=120, resources=60, users=90, organizations=30, webhooks=6)
FULL_KEY = TEST_DATASET.full_key
READ_KEY = TEST_DATASET.read_key


@pytest.fixture
def sim_config() -> SimConfig:
    return TEST_DATASET


@pytest.fixture
async def sim(sim_config: SimConfig) -> AsyncIterator[SimServer]:
    async with SimServer(sim_config) as server:
        yield server


@pytest.fixture
def gateway_settings(sim: SimServer) -> Settings:
    return Settings(upstream_url=sim.url)


@pytest.fixture
async def gateway(gateway_settings: Settings) -> AsyncIterator[GatewayServer]:
    async with GatewayServer(gateway_settings) as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def client(http: aiohttp.ClientSession, gateway: GatewayServer) -> GraphQLClient:
    return GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})


@pytest.fixture
def stats(http: aiohttp.ClientSession, sim: SimServer) -> SimStats:
    return SimStats(http, sim.url)


@pytest.fixture
async def redis_url() -> str:
    """REDIS_URL if it answers; otherwise skip (fail under CI=true)."""
    return await require_redis()


@pytest.fixture
async def redis_namespace(redis_url: str) -> AsyncIterator[str]:
    """A key prefix of this test's own, deleted afterwards."""
    namespace = f"restloom-test-{uuid.uuid4().hex[:12]}"
    yield namespace
    await drop_namespace(redis_url, namespace)
