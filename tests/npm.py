"""npm packages the tests run under node.

Each lives in its own folder with a committed package.json and package-lock.json;
`npm ci` installs it into that folder's node_modules (gitignored) the first time a
test needs it. Without node or npm, or when the install fails, the test skips, except
under `CI=true`, where it fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import NoReturn

import pytest

REPO = Path(__file__).resolve().parents[1]
INSTALL_TIMEOUT = 300


def skip_or_fail(reason: str) -> NoReturn:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def require_node(purpose: str) -> tuple[str, str]:
    """Paths of node and npm; skips (fails under CI=true) when either is missing."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node and npm:
        return node, npm
    skip_or_fail(f"node and npm are needed for {purpose} (not found on PATH)")


def install(package_dir: Path, needs: tuple[str, ...], purpose: str) -> str:
    """The path of node, once `package_dir`'s lock file is installed.

    `needs` are paths under node_modules that a complete install has; `npm ci` runs
    only when one is missing, so a partial install is installed again.
    """
    node, npm = require_node(purpose)
    wanted = [package_dir / "node_modules" / need for need in needs]
    if all(path.exists() for path in wanted):
        return node
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=package_dir,
        capture_output=True,
        timeout=INSTALL_TIMEOUT,
    )
    if result.returncode != 0 or not all(path.exists() for path in wanted):
        where = package_dir.relative_to(REPO)
        skip_or_fail(f"npm ci in {where} failed: {result.stderr.decode()[-2000:]}")
    return node
