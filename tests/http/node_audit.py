"""Node scripts for the GraphQL-over-HTTP tests, run from `node/`: the graphql-http
server audit (npm `graphql-http` 1.23) and real clients (graphql-request 7, Apollo
Client 3 and 4).

`tests.npm` installs them from the committed lock file into `node/node_modules` the
first time they are needed (skipped without node, failed under `CI=true`).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests import npm

NODE_DIR = Path(__file__).resolve().parent / "node"
SCRIPT = NODE_DIR / "audit.mjs"
CLIENTS_SCRIPT = NODE_DIR / "clients.mjs"
INSTALLED = NODE_DIR / "node_modules" / "graphql-http" / "package.json"
# Every package of the lock file's top level: a partial install is installed again.
PACKAGES = tuple(
    f"{name}/package.json"
    for name in ("graphql-http", "graphql-request", "apollo3", "@apollo/client", "rxjs", "graphql")
)
AUDIT_TIMEOUT = 120.0


@dataclass(frozen=True)
class AuditReport:
    total: int
    ok: int
    results: list[dict[str, Any]]

    @property
    def misses(self) -> list[dict[str, Any]]:
        return [r for r in self.results if r["status"] != "ok"]

    def summary(self) -> str:
        lines = [f"graphql-http audit: {self.ok}/{self.total} pass"]
        for miss in self.misses:
            lines.append(
                f"  {miss['status']} {miss['id']} {miss['name']}: {miss['reason']} "
                f"(HTTP {miss.get('httpStatus')}, {miss.get('contentType')}) "
                f"{(miss.get('body') or '')[:200]}"
            )
        return "\n".join(lines)


def install() -> str:
    """The path of node, with the packages installed; skips (fails under CI) otherwise."""
    return npm.install(NODE_DIR, PACKAGES, "the graphql-http audit and clients")


def installed_version() -> str:
    return str(json.loads(INSTALLED.read_text())["version"])


async def run_script(node: str, *args: str) -> Any:
    """Run a node script; its stdout is one JSON document."""
    process = await asyncio.create_subprocess_exec(
        node, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), AUDIT_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, err.decode()[-2000:]
    return json.loads(out)


async def run_audit(node: str, url: str) -> AuditReport:
    report = await run_script(node, str(SCRIPT), url)
    return AuditReport(report["total"], report["ok"], report["results"])


async def run_clients(node: str, url: str, api_key: str) -> dict[str, Any]:
    report: dict[str, Any] = await run_script(node, str(CLIENTS_SCRIPT), url, api_key)
    return report
