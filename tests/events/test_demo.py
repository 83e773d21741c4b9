"""`restloom demo` as a process: a subscription sees the event of a mutation, because the
demo registered its receiver with the embedded sim."""

from __future__ import annotations

import aiohttp

from tests.events.wire import Subscriber
from tests.processes import restloom_demo

UPDATE = """
mutation($id: ID!, $name: String) {
  updateContact(input: {id: $id, firstName: $name}) { contact { databaseId } }
}
"""
CONTACT_EVENTS = """
subscription { events(targets: [CONTACT], actions: [UPDATE]) {
  id objectId node { ... on Contact { firstName } } } }
"""


async def test_demo_subscription_sees_a_mutation_from_another_client(
    http: aiohttp.ClientSession,
) -> None:
    async with restloom_demo(http) as demo:
        base = demo.url
        async with http.post(
            base + "/graphql", json={"query": "{ contacts(first: 1) { nodes { databaseId } } }"}
        ) as resp:
            cid = (await resp.json())["data"]["contacts"]["nodes"][0]["databaseId"]
        # No credential: the demo reads with its service key, as GraphiQL does.
        sub = await Subscriber.connect(http, base)
        await sub.subscribe(CONTACT_EVENTS)
        # Mutations until the subscription (listening some moments after subscribing)
        # is told of one; the event carries the contact as that mutation left it.
        for attempt in range(50):
            name = f"Live{attempt}"
            async with http.post(
                base + "/graphql", json={"query": UPDATE, "variables": {"id": cid, "name": name}}
            ) as resp:
                assert "errors" not in await resp.json()
            try:
                event = (await sub.event(wait=0.5))["events"]
            except TimeoutError:
                continue
            assert event["objectId"] == cid
            assert event["node"]["firstName"].startswith("Live")
            break
        else:
            raise AssertionError("no event reached the subscription")
        await sub.close()
    output = demo.output
    assert f"{base}/webhooks/mossdesk" in output
    assert "subscription {" in output
    assert "whsec_" not in output  # the secret is never printed
    assert "Traceback" not in output
