"""The frameworks under test, each run once per session as a real process on loopback.

DRF runs under uvicorn in a child Python process (`drf/serve.py`); json-server
0.17 is installed from npm into `node/node_modules` by `tests.npm` (skipped without
node, failed under `CI=true`).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests import npm
from tests.frameworks import dataset
from tests.processes import free_port

REPO = Path(__file__).resolve().parents[2]
NODE_DIR = Path(__file__).resolve().parent / "node"
JSON_SERVER_CLI = "json-server/lib/cli/bin.js"  # under node_modules
JSON_SERVER_BIN = NODE_DIR / "node_modules" / JSON_SERVER_CLI
START_TIMEOUT = 30.0


@dataclass
class RunningServer:
    url: str  # origin, e.g. http://127.0.0.1:PORT
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_drf(workdir: Path) -> RunningServer:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.frameworks.drf.serve", str(workdir / "db.sqlite3")],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=open(workdir / "drf.log", "wb"),  # noqa: SIM115 - the child owns it
    )
    assert process.stdout is not None
    line = process.stdout.readline().decode().strip()
    if not line.isdigit():
        process.kill()
        raise RuntimeError(f"DRF server did not start: {(workdir / 'drf.log').read_text()[-2000:]}")
    server = RunningServer(f"http://127.0.0.1:{line}", process)
    _wait_until_answering(server, "/api/")
    return server


def install_json_server() -> str:
    """The path of node, with json-server installed from the committed lock file."""
    return npm.install(NODE_DIR, (JSON_SERVER_CLI,), "json-server")


def json_server_db() -> dict[str, list[dict[str, object]]]:
    """The shared dataset as json-server's db.json: flat records, `organizationId` keys."""
    return {
        "contacts": [
            {
                **vars(c),
                "created_at": dataset.iso(c.created_at),
                "updated_at": dataset.iso(c.updated_at),
            }
            for c in dataset.contacts()
        ],
        "users": [
            {
                "id": u.id,
                "username": u.username,
                "email": u.email,
                "role": u.role,
                "profile": {"first_name": u.first_name, "last_name": u.last_name},
                "created_at": dataset.iso(u.created_at),
                "updated_at": dataset.iso(u.created_at),
            }
            for u in dataset.users()
        ],
        "organizations": [
            {
                **vars(o),
                "created_at": dataset.iso(o.created_at),
                "updated_at": dataset.iso(o.created_at),
            }
            for o in dataset.organizations()
        ],
        # `organizationId` is json-server's foreign-key naming (it also nests on it).
        "members": [
            {
                "id": m.id,
                "organizationId": m.organization_id,
                "user_id": m.user_id,
                "role": m.role,
                "joined_at": dataset.iso(m.joined_at),
            }
            for m in dataset.memberships()
        ],
    }


def start_json_server(node: str, workdir: Path) -> RunningServer:
    db = workdir / "db.json"
    db.write_text(json.dumps(json_server_db(), indent=1))
    port = free_port()  # json-server takes a port number only
    process = subprocess.Popen(
        [
            node,
            str(JSON_SERVER_BIN),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--quiet",
            str(db),
        ],
        cwd=workdir,  # json-server serves ./public if present; the temp dir has none
        stdout=subprocess.DEVNULL,
        stderr=open(workdir / "json-server.log", "wb"),  # noqa: SIM115 - the child owns it
    )
    server = RunningServer(f"http://127.0.0.1:{port}", process)
    _wait_until_answering(server, "/contacts?_limit=1")
    return server


def _wait_until_answering(server: RunningServer, path: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.url}: process exited with {server.process.returncode}")
        try:
            with urllib.request.urlopen(server.url + path, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers (401 without a token is an answer)
        except OSError:
            time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"{server.url} did not answer within {START_TIMEOUT} s")
