"""The graphql-http 1.23 server audit against a live gateway over the sim.

`pytest -s tests/http/test_audit.py` prints the score; a failure message carries it
too, with each miss (its id, name, reason, status, media type and body).
"""

from __future__ import annotations

import pytest

from tests.http.node_audit import install, installed_version, run_audit
from tests.support import GatewayServer, SimStats


@pytest.fixture(scope="session")
def node() -> str:
    return install()


async def test_graphql_http_audit(node: str, gateway: GatewayServer, stats: SimStats) -> None:
    assert installed_version().startswith("1.23."), installed_version()
    report = await run_audit(node, gateway.url + "/graphql")
    summary = report.summary()
    print("\n" + summary)
    assert report.total == 61, summary  # the audit this test was written against
    musts = [r for r in report.results if r["name"].startswith("MUST")]
    assert len(musts) == 13 and all(r["status"] == "ok" for r in musts), summary
    # Every SHOULD and MAY passes too: none of 1.23's audits contradicts the current draft
    # for what restloom can be observed to do (see the README's GraphQL over HTTP section).
    assert report.misses == [], summary
    # The audit's queries touch `__typename` and `__type` only: nothing reached the upstream.
    assert await stats.requests() == 0
