"""Walks that stay exact while the list changes under them.

Between two pages of a walk over the 120 test contacts, contacts are created and
deleted straight on the sim (before the walk's position, after it, and the cursor's
own item). Every contact that was there for the whole walk must be seen exactly
once, and nothing twice; upstream requests are counted per page.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from restloom.config import Settings
from restloom.sim.server import SimServer
from tests.conftest import FULL_KEY, TEST_DATASET
from tests.support import GatewayServer, GraphQLClient, SimStats, upstream_list

PAGE = 10
# Per page after the first: the window itself (1), plus, when the cursor's item moved out
# of it, at most 3 requests of its neighbourhood and 2 for the realigned window.
MAX_REQUESTS_PER_PAGE = 6

WALK = """query($first: Int, $after: String, $last: Int, $before: String, $order: ContactOrder) {
  contacts(first: $first, after: $after, last: $last, before: $before, orderBy: $order) {
    edges { node { databaseId } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


@dataclass
class Changes:
    """What happened to the list during a walk, and what the walk saw."""

    initial: set[str]
    deleted: set[str] = field(default_factory=set)
    inserted: set[str] = field(default_factory=set)
    seen: list[str] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)

    def check(self) -> None:
        assert len(self.seen) == len(set(self.seen)), "an item was seen twice"
        missed = self.initial - self.deleted - set(self.seen)
        assert not missed, f"{len(missed)} items present for the whole walk were skipped"


async def current_ids(http: aiohttp.ClientSession, sim: SimServer, **params: str) -> list[str]:
    return [r["id"] for r in await upstream_list(http, sim.url, "/contacts", FULL_KEY, **params)]


def insert_next_to(sim: SimServer, neighbour_id: str, n: int) -> str:
    """A new contact with `neighbour_id`'s created_at: it lands right beside it."""
    data = sim.state.data
    neighbour = data.get("contacts", neighbour_id)
    assert neighbour is not None
    fields = {**neighbour.fields, "email": f"walk-insert-{n}@example.test"}
    return data.insert("contacts", fields, neighbour.created_at).id


async def change_list(
    http, sim, changes: Changes, rng: random.Random, cursor_id: str, step: int
) -> None:
    """Two inserts and a delete before the cursor's item, one of each after it, and
    every third step the cursor's item itself deleted."""
    order = await current_ids(http, sim)
    at = order.index(cursor_id)
    before, after = order[:at], order[at + 1 :]
    for n, neighbour in enumerate(rng.sample(before, 2) + rng.sample(after, 1) if after else []):
        changes.inserted.add(insert_next_to(sim, neighbour, step * 10 + n))
    doomed = rng.sample(before, 1) + (rng.sample(after, 1) if after else [])
    if step % 3 == 2:
        doomed.append(cursor_id)
    for contact_id in doomed:
        sim.state.data.delete("contacts", contact_id)
        changes.deleted.add(contact_id)


async def page(client: GraphQLClient, stats: SimStats, changes: Changes, **variables: Any):
    await stats.reset()
    conn = (await client.data(WALK, variables))["contacts"]
    changes.requests.append(await stats.requests())
    return conn, [edge["node"]["databaseId"] for edge in conn["edges"]]


async def test_forward_walk_with_writes_between_pages(client, http, sim, stats):
    changes = Changes(initial=set(await current_ids(http, sim)))
    rng = random.Random(1)
    after, step = None, 0
    while True:
        conn, ids = await page(client, stats, changes, first=PAGE, after=after)
        changes.seen += ids
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
        await change_list(http, sim, changes, rng, ids[-1], step)
        step += 1
    changes.check()
    assert step >= 10 and len(changes.deleted) >= 20 and len(changes.inserted) >= 20
    assert max(changes.requests) <= MAX_REQUESTS_PER_PAGE, changes.requests
    print(f"\nforward walk with writes: requests per page {changes.requests}")


async def test_backward_walk_with_writes_between_pages(client, http, sim, stats):
    changes = Changes(initial=set(await current_ids(http, sim)))
    rng = random.Random(2)
    before, step = None, 0
    while True:
        conn, ids = await page(client, stats, changes, last=PAGE, before=before)
        changes.seen = ids + changes.seen
        if not conn["pageInfo"]["hasPreviousPage"]:
            break
        before = conn["pageInfo"]["startCursor"]
        await change_list(http, sim, changes, rng, ids[0], step)
        step += 1
    changes.check()
    assert step >= 10 and len(changes.deleted) >= 15
    assert max(changes.requests) <= MAX_REQUESTS_PER_PAGE, changes.requests
    print(f"\nbackward walk with writes: requests per page {changes.requests}")


async def test_unchanged_list_costs_one_request_per_page(client, http, sim, stats):
    expected = await current_ids(http, sim)
    for direction in ("forward", "backward"):
        changes = Changes(initial=set(expected))
        cursor = None
        while True:
            if direction == "forward":
                conn, ids = await page(client, stats, changes, first=PAGE, after=cursor)
                changes.seen += ids
                more, cursor = conn["pageInfo"]["hasNextPage"], conn["pageInfo"]["endCursor"]
            else:
                conn, ids = await page(client, stats, changes, last=PAGE, before=cursor)
                changes.seen = ids + changes.seen
                more = conn["pageInfo"]["hasPreviousPage"]
                cursor = conn["pageInfo"]["startCursor"]
            if not more:
                break
        assert changes.seen == expected
        # `last` without `before` learns the total first (2); every other page is 1.
        first_cost = 1 if direction == "forward" else 2
        assert changes.requests == [first_cost] + [1] * (len(changes.requests) - 1)


async def test_cursor_item_moved_by_its_own_update(client, http, sim, stats):
    """Ordered by updatedAt: the cursor's item is updated and jumps to the top. The walk
    goes on from where the item was, not from the top."""
    order = {"field": "UPDATED_AT", "direction": "DESC"}
    params = {"sort": "updated_at", "order": "desc"}
    changes = Changes(initial=set(await current_ids(http, sim, **params)))
    after, step = None, 0
    while True:
        conn, ids = await page(client, stats, changes, first=PAGE, after=after, order=order)
        changes.seen += ids
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
        if step % 2 == 0:
            url = f"{sim.url}/api/v1/contacts/{ids[-1]}"
            body = {"company": f"Moved {step}"}
            async with http.patch(url, json=body, headers={"X-API-Key": FULL_KEY}) as resp:
                assert resp.status == 200, await resp.text()
            # At the top (with the ones moved before it within the same second).
            assert ids[-1] in (await current_ids(http, sim, **params))[: step // 2 + 1]
        step += 1
    changes.check()
    assert max(changes.requests) <= MAX_REQUESTS_PER_PAGE, changes.requests


async def test_cursor_item_deleted_with_shifts_before_it(client, http, sim, stats):
    """The cursor's item is gone and three items came before it, one left: its old
    offset is 2 off. Its remembered sort value and id still place the walk exactly."""
    first, ids = await page(client, stats, Changes(set()), first=40)
    cursor_id = ids[-1]
    for n, neighbour in enumerate(ids[:3]):
        insert_next_to(sim, neighbour, 900 + n)
    sim.state.data.delete("contacts", ids[5])
    sim.state.data.delete("contacts", cursor_id)
    expected = await current_ids(http, sim)
    at = expected.index(ids[-2]) + 1  # the item after the deleted cursor item
    changes = Changes(set())
    _, rest = await page(client, stats, changes, first=PAGE, after=first["pageInfo"]["endCursor"])
    assert rest == expected[at : at + PAGE]


async def test_moco_walk_with_integer_ids_and_deleted_cursor_items(http):
    """MOCO ids are integers (ties ordered numerically): the cursor's item deleted on
    every page, with an insert before it, still gives every other contact once."""
    config = dataclasses.replace(TEST_DATASET, style="moco", rate_limit=0)
    async with SimServer(config) as sim:
        settings = Settings(upstream_url=sim.url, profile="moco", rate_limit="off")
        async with GatewayServer(settings) as gateway:
            client = GraphQLClient(http, gateway.url, {"X-API-Key": FULL_KEY})
            stats = SimStats(http, sim.url)
            data = sim.state.data
            changes = Changes(initial={str(r.num) for r in data.collections["contacts"].values()})
            after, step = None, 0
            while True:
                conn, ids = await page(client, stats, changes, first=PAGE, after=after)
                changes.seen += ids
                if not conn["pageInfo"]["hasNextPage"]:
                    break
                after = conn["pageInfo"]["endCursor"]
                cursor_id = data.by_num["contacts"][int(ids[-1])]
                earlier = data.by_num["contacts"][int(ids[0])]
                changes.inserted.add(
                    str(data.get("contacts", insert_next_to(sim, earlier, step)).num)
                )
                data.delete("contacts", cursor_id)
                changes.deleted.add(ids[-1])
                step += 1
            changes.check()
            assert step >= 10
            assert max(changes.requests) <= MAX_REQUESTS_PER_PAGE, changes.requests
