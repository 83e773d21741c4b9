"""The start-up check: is the upstream there, is the base URL right, does the service key work?

`serve` runs it once in the background after start: it never stops the gateway
(the upstream may come up later), it logs one plain line per finding, and
`/readyz` shows the same findings, so a wrong base URL is not a silent "ready".
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

from restloom.upstream.client import Caller, UpstreamClient
from restloom.upstream.errors import FailureKind, UpstreamError

log = logging.getLogger("restloom.startup")

PROBE_TIMEOUT = 5.0


class Level(StrEnum):
    OK = "ok"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Finding:
    level: Level
    message: str


def shown_url(url: str) -> str:
    """The URL without user info, which may hold a password."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


async def check_upstream(client: UpstreamClient) -> list[Finding]:
    """Probe the list route with the service credential (or none) and say what it means."""
    base = shown_url(client.base_url)
    path = client.profile.path("contacts")
    caller = Caller(credential=None, request_id="startup-probe")
    # An upstream without auth (`auth.scheme = "none"`) needs no key from anyone.
    has_key = client.service_credential is not None or client.profile.auth.scheme == "none"
    params = ((client.profile.pagination.size_param, "1"),)
    try:
        await client.send(caller, "GET", path, params, public=True, time_limit=PROBE_TIMEOUT)
    except UpstreamError as error:
        return [_explain(error, base, path, has_key, client.profile.name)]
    findings = [Finding(Level.OK, f"upstream {base} answered GET {path}")]
    if not has_key:
        findings.append(
            Finding(
                Level.OK,
                "no service credential (api_key): every caller must send its own",
            )
        )
    return findings


def _explain(error: UpstreamError, base: str, path: str, has_key: bool, profile: str) -> Finding:
    answered = f"upstream {base} answered {error.status} for GET {path}"
    if error.kind in (FailureKind.UNAVAILABLE, FailureKind.TIMEOUT):
        return Finding(
            Level.ERROR, f"upstream {base} is unreachable ({error.message}): is it running?"
        )
    if error.kind is FailureKind.REDIRECT:
        return Finding(
            Level.ERROR,
            f"upstream {base} redirected GET {path}: restloom never follows redirects; "
            "is the base URL right (scheme, host, trailing path)?",
        )
    if error.kind is FailureKind.INVALID_RESPONSE:
        return Finding(
            Level.ERROR,
            f"upstream {base} answered GET {path} in a shape the {profile} profile does not "
            f"describe ({error.message}): is the profile right?",
        )
    if error.status == 404:
        return Finding(Level.ERROR, f"{answered}: is the base URL right?")
    if error.status in (401, 403):
        if has_key:
            return Finding(Level.ERROR, f"{answered}: the service credential (api_key) is refused")
        return Finding(
            Level.OK,
            f"{answered} without a credential; no api_key is set, so every caller must "
            "send its own",
        )
    if error.status is not None and error.status >= 500:
        return Finding(Level.WARNING, f"{answered}: the upstream is failing")
    return Finding(Level.WARNING, f"{answered}: {error.message}")


def log_findings(findings: list[Finding]) -> None:
    for finding in findings:
        level = {
            Level.OK: logging.INFO,
            Level.WARNING: logging.WARNING,
            Level.ERROR: logging.ERROR,
        }[finding.level]
        log.log(level, "%s", finding.message)


# While the last check found a problem, /readyz checks again at most this often.
RECHECK_INTERVAL = 5.0


@dataclass
class UpstreamCheck:
    """The latest findings, re-checked (throttled) while they say something is wrong."""

    findings: list[Finding] = field(default_factory=list)
    checked_at: float | None = None
    checked: asyncio.Event = field(default_factory=asyncio.Event)  # set after the first run
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def failing(self) -> bool:
        return any(f.level is Level.ERROR for f in self.findings)

    async def run(self, client: UpstreamClient) -> None:
        async with self._lock:
            try:
                self.findings = await check_upstream(client)
            except Exception as exc:  # a bug here must not hide the gateway's own state
                log.exception("the start-up check of the upstream failed")
                self.findings = [Finding(Level.WARNING, f"start-up check failed: {exc!r}")]
            finally:
                self.checked_at = time.monotonic()
                self.checked.set()
        log_findings(self.findings)

    async def skip(self) -> None:
        """`startup_check = false`: no findings, and /readyz does not look for any."""
        self.checked.set()

    async def refresh(self, client: UpstreamClient) -> None:
        """Check again when the last check failed and is old enough: the upstream may be up."""
        if self.checked_at is None or not self.failing or self._lock.locked():
            return
        if time.monotonic() - self.checked_at >= RECHECK_INTERVAL:
            await self.run(client)

    def report(self) -> list[dict[str, str]]:
        return [{"level": f.level.value, "message": f.message} for f in self.findings]
