"""Profiles beyond the built-ins: MOCO custom properties, and upstreams described in TOML only."""

import dataclasses
import subprocess
import sys
from pathlib import Path

from restloom.config import load_settings
from restloom.sim.server import SimServer
from restloom.upstream.profile import profile_from_table
from tests.conformance.test_styles import stack
from tests.conftest import FULL_KEY, TEST_DATASET
from tests.support import GatewayServer, GraphQLClient, SimStats

CONTACT = "query($id: ID!) { contact(id: $id) { customProperties } }"
UPDATE = """mutation($id: ID!, $props: JSON) {
  updateContact(input: {id: $id, customProperties: $props}) { contact { customProperties } }
}"""


async def test_moco_custom_properties_are_merged_not_lost(http):
    async with stack(http, "moco") as (client, stats):
        contact = (await client.data("{ contacts(first: 1) { nodes { id databaseId } } }"))[
            "contacts"
        ]["nodes"][0]
        before = (await client.data(CONTACT, {"id": contact["id"]}))["contact"]["customProperties"]
        assert len(before) >= 2
        await stats.reset()
        added = await client.data(UPDATE, {"id": contact["id"], "props": {"Tier": "gold"}})
        assert added["updateContact"]["contact"]["customProperties"] == {**before, "Tier": "gold"}
        # The merge costs one read of the current properties before the PATCH.
        assert (await stats.read())["by_route"] == {
            "GET /contacts/{id}": 1,
            "PATCH /contacts/{id}": 1,
        }

        first_key = next(iter(before))
        removed = await client.data(UPDATE, {"id": contact["id"], "props": {first_key: None}})
        expected = {k: v for k, v in {**before, "Tier": "gold"}.items() if k != first_key}
        assert removed["updateContact"]["contact"]["customProperties"] == expected

        untouched = await client.data(
            'mutation($id: ID!) { updateContact(input: {id: $id, company: "Other"}) { contact { customProperties } } }',
            {"id": contact["id"]},
        )
        assert untouched["updateContact"]["contact"]["customProperties"] == expected


RENAMED_TOML = """
profile = "people-api"

[profiles.people-api]
extends = "mossdesk"
prefix = "/rest/v2"

[profiles.people-api.paths]
contacts = "/people"
users = "/staff"
me = "/staff/me"

[profiles.people-api.pagination]
page_param = "p"
size_param = "size"

[profiles.people-api.sort]
param = "order_by"
order_param = "dir"

[profiles.people-api.batch]
param = "only"
"""


async def test_profile_written_in_toml_fronts_a_renamed_upstream(http, tmp_path):
    sim_config = dataclasses.replace(
        TEST_DATASET,
        prefix="/rest/v2",
        paths={"contacts": "/people", "users": "/staff"},
        params={
            "page": "p",
            "per_page": "size",
            "sort": "order_by",
            "order": "dir",
            "filter[id]": "only",
        },
    )
    config_file = tmp_path / "restloom.toml"
    config_file.write_text(RENAMED_TOML)
    async with SimServer(sim_config) as sim:
        settings = load_settings(config_file, upstream_url=sim.url)
        assert settings.upstream_profile().paths["contacts"] == "/people"
        async with GatewayServer(settings) as gateway:
            client = GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})
            stats = SimStats(http, sim.url)
            query = """query($a: String) { viewer { email }
                contacts(first: 30, after: $a, orderBy: {field: EMAIL, direction: ASC}) {
                  totalCount nodes { email } pageInfo { endCursor } } }"""
            one = (await client.data(query))["contacts"]
            two = (await client.data(query, {"a": one["pageInfo"]["endCursor"]}))["contacts"]
            assert one["totalCount"] == TEST_DATASET.contacts
            emails = [n["email"] for n in one["nodes"] + two["nodes"]]
            assert len(emails) == 60 and emails == sorted(emails) and len(set(emails)) == 60
            await stats.reset()
            nested = await client.data(
                "{ organizations(first: 5) { nodes { members(first: 5) { edges { node { email } } } } } }"
            )
            assert all(
                e["node"]["email"]
                for o in nested["organizations"]["nodes"]
                for e in o["members"]["edges"]
            )
            assert (await stats.read())["by_route"].get("GET /staff") == 1


SCRATCH_TOML = """
profile = "flat"

[profiles.flat]
prefix = "/v1"
item_key = ""
id_type = "string"

[profiles.flat.auth]
scheme = "basic"

[profiles.flat.pagination]
style = "body"
page_param = "page"
size_param = "limit"
default_size = 25
max_size = 100
items_key = "data"
total_path = "total"

[profiles.flat.sort]
style = "signed"
param = "sort"

[profiles.flat.errors]
code_path = "error"
message_path = "message"
field_path = "details.field"

[profiles.flat.batch]
param = "ids"
max_ids = 100
"""


async def test_profile_written_from_scratch_fronts_the_template_style(http, tmp_path):
    config_file = tmp_path / "restloom.toml"
    config_file.write_text(SCRATCH_TOML)
    async with SimServer(dataclasses.replace(TEST_DATASET, style="template", rate_limit=0)) as sim:
        settings = load_settings(config_file, upstream_url=sim.url)
        async with GatewayServer(settings) as gateway:
            client = GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})
            reply = await client.send(
                '{ contacts(last: 3) { totalCount nodes { email } } missing: contact(id: "cnt_nope") { email } }'
            )
    assert reply.data["contacts"]["totalCount"] == TEST_DATASET.contacts
    assert len(reply.data["contacts"]["nodes"]) == 3
    assert reply.codes() == ["NOT_FOUND"]


def test_invalid_profile_stops_start_up_naming_the_field(tmp_path):
    config_file = tmp_path / "restloom.toml"
    config_file.write_text(
        'profile = "broken"\nupstream_url = "http://127.0.0.1:1"\n'
        '[profiles.broken]\nextends = "moco"\n[profiles.broken.pagination]\nstyle = "cursor"\n'
    )
    result = subprocess.run(
        [sys.executable, "-m", "restloom.cli", "serve", "--config", str(config_file)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "profiles.broken.pagination.style" in result.stderr
    assert "Traceback" not in result.stderr
    config_file.write_text(
        'profile = "x"\nupstream_url = "http://h"\n[profiles.x]\nextends = "nope"\n'
    )
    result = subprocess.run(
        [sys.executable, "-m", "restloom.cli", "serve", "--config", str(config_file)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "profiles.x.extends" in result.stderr


def test_example_toml_is_valid():
    example = Path(__file__).resolve().parents[2] / "restloom.example.toml"
    settings = load_settings(example)
    assert settings.upstream_profile().name == settings.profile
    assert settings.profiles, "the example shows how to write a profile"
    for name, table in settings.profiles.items():
        assert profile_from_table(name, table).name == name
