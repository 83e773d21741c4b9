"""Pages past the end of a list, the three ways real upstreams answer them."""

from __future__ import annotations

import argparse

import aiohttp
import pytest

from restloom.sim import SimConfig, SimServer, add_cli_arguments, config_from_args
from tests.sim.conftest import FULL, SMALL

CONTACTS = SMALL["contacts"]  # 60: pages of 25 are 25, 25, 10


async def _page(session: aiohttp.ClientSession, sim: SimServer, path: str, page: int):
    params = {"page": str(page), "per_page": "25"}
    async with session.get(sim.api_url + path, params=params, headers={"X-API-Key": FULL}) as r:
        return r.status, await r.json()


async def _ids(session, sim, path, page):
    status, body = await _page(session, sim, path, page)
    assert status == 200, body
    return [row.get("id") or row.get("user_id") for row in body["data"]], body["meta"]["total"]


@pytest.mark.parametrize("mode", ["empty", "not_found", "last_page"])
async def test_each_mode_past_the_end(mode):
    async with SimServer(SimConfig(**SMALL, past_end=mode)) as sim, aiohttp.ClientSession() as s:
        last, total = await _ids(s, sim, "/contacts", 3)
        assert (len(last), total) == (10, CONTACTS)
        status, body = await _page(s, sim, "/contacts", 4)
        if mode == "empty":
            assert status == 200 and body["data"] == [] and body["meta"]["total"] == CONTACTS
        elif mode == "not_found":
            assert status == 404
            assert (body["error"]["code"], body["error"]["message"]) == (
                "NOT_FOUND",
                "Invalid page.",
            )
        else:
            assert status == 200
            assert [row["id"] for row in body["data"]] == last
            assert body["meta"]["total"] == CONTACTS


@pytest.mark.parametrize("mode", ["not_found", "last_page"])
async def test_page_one_and_member_lists(mode):
    config = SimConfig(**SMALL, past_end=mode)
    async with SimServer(config) as sim, aiohttp.ClientSession() as s:
        # Page 1 is never past the end, even of an empty list.
        empty = await _page_with(s, sim, "/contacts", {"search": "no-such-contact-zzz"})
        assert empty == (200, [])
        org = next(iter(sim.state.data.collections["organizations"].values()))
        path = f"/organizations/{org.id}/members"
        members, total = await _ids(s, sim, path, 1)
        assert total == len(members) < 25
        status, body = await _page(s, sim, path, 2)
        if mode == "not_found":
            assert status == 404
        else:
            assert [row["user_id"] for row in body["data"]] == members


async def _page_with(session, sim, path, params):
    query = {"page": "1", "per_page": "25", **params}
    async with session.get(sim.api_url + path, params=query, headers={"X-API-Key": FULL}) as r:
        return r.status, (await r.json())["data"]


def test_cli_flag_and_validation():
    parser = argparse.ArgumentParser()
    add_cli_arguments(parser)
    assert config_from_args(parser.parse_args([])).past_end == "empty"
    assert config_from_args(parser.parse_args(["--past-end", "not_found"])).past_end == "not_found"
    with pytest.raises(SystemExit):
        parser.parse_args(["--past-end", "sideways"])
    with pytest.raises(ValueError, match="--past-end"):
        SimConfig(past_end="sideways")
