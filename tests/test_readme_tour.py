"""The README's tour runs as written against the demo's dataset: every query, no errors."""

import re
from pathlib import Path

import pytest

from restloom.config import Settings
from restloom.sim.config import SimConfig
from restloom.sim.server import SimServer
from tests.support import GatewayServer, GraphQLClient

README = Path(__file__).resolve().parent.parent / "README.md"
DEMO = SimConfig()  # what `restloom demo` serves


def tour_queries() -> list[str]:
    """The GraphQL blocks of "A short tour", one query per top-level `{ ... }`."""
    text = README.read_text()
    tour = text[text.index("## A short tour") : text.index("## Reference")]
    queries: list[str] = []
    for block in re.findall(r"```graphql\n(.*?)```", tour, re.S):
        lines = [line for line in block.splitlines() if not line.lstrip().startswith("#")]
        depth, current = 0, []
        for line in lines:
            if not line.strip() and depth == 0:
                continue
            current.append(line)
            depth += line.count("{") - line.count("}")
            if depth == 0 and current:
                queries.append("\n".join(current))
                current = []
    return queries


def test_the_tour_has_queries():
    assert len(tour_queries()) >= 7


@pytest.fixture(scope="module")
def queries() -> list[str]:
    return tour_queries()


async def test_every_tour_query_answers_without_errors(http, queries):
    async with SimServer(DEMO) as sim:
        # The demo's settings: the sim's documented base URL, its full key as service key.
        settings = Settings(upstream_url=sim.api_url, api_key=DEMO.full_key)
        async with GatewayServer(settings) as gateway:
            client = GraphQLClient(http, gateway.url)
            for query in queries:
                reply = await client.send(query)
                assert reply.status == 200, (query, reply.body)
                assert not reply.errors, (query, reply.errors)
                assert all(value is not None for value in reply.data.values()), query


def test_the_readme_and_the_example_file_list_every_setting():
    from restloom.config import Settings

    readme = README.read_text()
    table = readme[readme.index("## Settings") : readme.index("## Upstream profiles")]
    example = (README.parent / "restloom.example.toml").read_text()
    for name in Settings.model_fields:
        assert f"| `{name}` |" in table, f"README's settings table lacks `{name}`"
        if name != "profiles":  # a table of tables, shown as [profiles.NAME]
            assert re.search(rf"(?m)^#?\s*{name}\s*=", example), f"example lacks {name}"
