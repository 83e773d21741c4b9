"""Node scripts for the GraphQL-over-HTTP tests, run from `node/`: the graphql-http
server audit (npm `graphql-http` 1.23) and real clients (graphql-request 7, Apollo
Client 3 and 4).

`npm ci` installs it from the committed lock file into `node/node_modules` (gitignored)
the first time it is needed. Without node or npm the audit skips, except under
`CI=true`, where it fails.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

NODE_DIR = Path(__file__).resolve().parent / "node"
SCRIPT = NODE_DIR / "audit.mjs"
CLIENTS_SCRIPT = NODE_DIR / "clients.mjs"
INSTALLED = NODE_DIR / "node_modules" / "graphql-http" / "package.json"
# Every package of the lock file's top level: a partial install is installed again.
PACKAGES = ("graphql-http", "graphql-request", "apollo3", "@apollo/client", "rxjs", "graphql")
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


def skip_or_fail(reason: str) -> NoReturn:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def install() -> str:
    """The path of node, with graphql-http installed; skips (fails under CI) otherwise."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        skip_or_fail("node and npm are needed for the graphql-http audit (not found on PATH)")
    if not all((NODE_DIR / "node_modules" / p / "package.json").exists() for p in PACKAGES):
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=NODE_DIR,
            capture_output=True,
            timeout=300,
        )
        if result.returncode != 0 or not INSTALLED.exists():
            skip_or_fail(f"npm ci in tests/http/node failed: {result.stderr.decode()[-2000:]}")
    return node


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
