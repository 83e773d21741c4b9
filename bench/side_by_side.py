"""restloom against an idiomatic Apollo Server peer, side by side, on the same sim and queries.

    .venv/bin/python bench/side_by_side.py --duration 5 --rounds 3

Starts, as separate processes: two sims (one answering at once, one `--latency-ms`
late, default 20), restloom and the peer (bench/peer: Apollo Server 5,
@apollo/datasource-rest with its HTTP cache, dataloader) over each, and the HTTP floor
(bench/http_floor.py: a minimal ASGI app on the same uvicorn answering restloom's
bytes). Each query is run through autocannon (`-c CONNECTIONS -d DURATION`, installed
into bench/peer/node_modules with `npm ci`) against restloom and the peer in turn,
alternating which goes first, after one warm-up round that is not kept. Prints, per
query, the median over the kept rounds of req/s, p50 and p99 latency, server CPU per
request (utime + stime of the server's process tree from /proc, over the run) and
upstream calls per request (the sim's /__sim/stats), then the ratios.

For cold `contacts(first: 100)` it also loads the slow sim itself with the one GET that
query makes (the "upstream" row, its CPU the sim's): what the upstream alone takes at
the same concurrency, so that what restloom and the peer add to it is printed beside.

Scenarios:
- warm: caching on in both (restloom `cache_ttl = 60` and its response cache; the peer's
  HTTP cache with a 60 s TTL); every request after the first is a repeat.
- exec: restloom with the upstream pages cached but no response cache (it executes the
  query every time), against the same warm peer: the cost of executing a query.
- cold: no caching anywhere, the upstream `--latency-ms` late: every request goes upstream.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from processes import free_port

HERE = Path(__file__).parent
PEER = HERE / "peer"
AUTOCANNON = PEER / "node_modules" / "autocannon" / "autocannon.js"
KEY = "moss_k_demo_full"
CLOCK_TICK = os.sysconf("SC_CLK_TCK")

CONTACTS_100 = "{ contacts(first: 100) { edges { node { id firstName lastName email } } } }"
CONTACTS_1 = "{ contacts(first: 1) { edges { node { id firstName lastName email } } } }"
NESTED = (
    "{ organizations(first: 25) { edges { node { id name members(first: 10) "
    "{ edges { role node { id email } } } } } } }"
)


@dataclass(frozen=True)
class Scenario:
    name: str
    query: str
    restloom: str  # which restloom server: warm, exec or cold
    peer: str  # which peer server: warm or cold
    floor: bool = False  # also measure the HTTP floor with restloom's bytes
    # The query's one upstream GET (path and query below the slow sim), loaded on its own.
    upstream_get: str | None = None


SCENARIOS = [
    Scenario("warm contacts(first: 100)", CONTACTS_100, "warm", "warm", floor=True),
    Scenario("warm contacts(first: 1)", CONTACTS_1, "warm", "warm", floor=True),
    Scenario("exec contacts(first: 100), pages cached", CONTACTS_100, "exec", "warm"),
    Scenario(
        "cold contacts(first: 100)",
        CONTACTS_100,
        "cold",
        "cold",
        upstream_get="/api/v1/contacts?sort=created_at&order=desc&page=1&per_page=100",
    ),
    Scenario("cold organizations(25) > members(10) > user", NESTED, "cold", "cold"),
]


@dataclass
class Server:
    url: str
    pid: int
    sim_url: str  # the sim it reads from (for upstream call counts)


@dataclass
class Run:
    rps: float
    p50: float
    p99: float
    cpu_ms: float  # server CPU per request
    calls: float  # upstream calls per request
    errors: int  # non-2xx answers, timeouts and connection errors


@dataclass
class Results:
    runs: dict[tuple[str, str], list[Run]] = field(default_factory=dict)

    def add(self, scenario: str, who: str, run: Run) -> None:
        self.runs.setdefault((scenario, who), []).append(run)

    def median(self, scenario: str, who: str) -> Run | None:
        runs = self.runs.get((scenario, who))
        if not runs:
            return None
        return Run(
            *(statistics.median(getattr(r, f) for r in runs) for f in Run.__dataclass_fields__)
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=5, help="seconds per autocannon run")
    parser.add_argument("--rounds", type=int, default=3, help="kept rounds (plus one warm-up)")
    parser.add_argument("--connections", type=int, default=10, help="autocannon -c")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="cold upstream latency")
    parser.add_argument("--workers", type=int, default=1, help="restloom serve --workers")
    parser.add_argument(
        "--only", action="append", default=[], help="scenarios whose name contains this"
    )
    parser.add_argument(
        "--load",
        choices=("autocannon", "wrk"),
        default="autocannon",
        help="load generator: autocannon (npm; latency in whole ms) or wrk (Debian's `wrk`; "
        "latency in us, and leaner, so both servers get more of the machine)",
    )
    parser.add_argument(
        "--no-response-cache",
        action="store_true",
        help="restloom's warm server without its response cache",
    )
    args = parser.parse_args()
    scenarios = [s for s in SCENARIOS if not args.only or any(o in s.name for o in args.only)]
    install_node_packages()
    with ExitStack() as stack:
        servers = start_servers(stack, args)
        results = asyncio.run(measure(servers, scenarios, args))
    print_table(results, scenarios, args)


def install_node_packages() -> None:
    if not AUTOCANNON.exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PEER, check=True)


# --- processes ----------------------------------------------------------------------------


@contextmanager
def spawn(cmd: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=out, stderr=out)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def start_servers(stack: ExitStack, args: argparse.Namespace) -> dict[str, Server]:
    logs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="side_by_side_")))
    python = sys.executable
    sims: dict[str, str] = {}
    servers: dict[str, Server] = {}
    for name, latency in (("fast", 0.0), ("slow", args.latency_ms)):
        port = free_port()
        cmd = [python, "-m", "restloom.cli", "sim", "--port", str(port), "--rate-limit", "0"]
        sim = stack.enter_context(
            spawn([*cmd, "--latency-ms", str(latency)], {}, logs / f"sim_{name}")
        )
        sims[name] = f"http://127.0.0.1:{port}"
        servers[f"sim:{name}"] = Server(sims[name], sim.pid, sims[name])
    restloom_env = {
        "RESTLOOM_LOG_LEVEL": "warning",
        "RESTLOOM_STARTUP_CHECK": "false",
        "RESTLOOM_CURSOR_SECRET": "side-by-side-bench",
        "RESTLOOM_RATE_LIMIT": '"off"',
        "RESTLOOM_API_KEY": KEY,
    }
    warm_env = {"RESTLOOM_CACHE_TTL": "60", "RESTLOOM_RESPONSE_CACHE": "true"}
    if args.no_response_cache:
        warm_env["RESTLOOM_RESPONSE_CACHE"] = "false"
    restlooms = {
        "warm": ("fast", warm_env),
        "exec": ("fast", {"RESTLOOM_CACHE_TTL": "60", "RESTLOOM_RESPONSE_CACHE": "false"}),
        "cold": ("slow", {"RESTLOOM_CACHE_TTL": "0"}),
    }
    for name, (sim, env) in restlooms.items():
        port = free_port()
        cmd = [python, "-m", "restloom.cli", "serve", "--upstream", sims[sim] + "/api/v1"]
        cmd += ["--port", str(port), "--workers", str(args.workers)]
        proc = stack.enter_context(spawn(cmd, {**restloom_env, **env}, logs / f"restloom_{name}"))
        servers[f"restloom:{name}"] = Server(
            f"http://127.0.0.1:{port}/graphql", proc.pid, sims[sim]
        )
    for name, (sim, ttl) in {"warm": ("fast", "60"), "cold": ("slow", "0")}.items():
        port = free_port()
        env = {
            "UPSTREAM": sims[sim] + "/api/v1",
            "API_KEY": KEY,
            "PORT": str(port),
            "CACHE_TTL": ttl,
            "NODE_ENV": "production",
        }
        node = shutil.which("node") or "node"
        proc = stack.enter_context(
            spawn([node, str(PEER / "server.mjs")], env, logs / f"peer_{name}")
        )
        servers[f"peer:{name}"] = Server(f"http://127.0.0.1:{port}/", proc.pid, sims[sim])
    try:
        asyncio.run(wait_all([*sims.values(), *(s.url for s in servers.values())]))
    except RuntimeError:
        for log in sorted(logs.iterdir()):
            print(f"--- {log.name}\n{log.read_text(errors='replace')[-2000:]}", file=sys.stderr)
        raise
    return servers


async def wait_all(urls: list[str], patience: float = 60.0) -> None:
    """Until every server answers (a busy 2-core machine may take many seconds to start 8)."""
    deadline = time.monotonic() + patience
    async with aiohttp.ClientSession() as session:
        for url in urls:
            while True:
                try:
                    async with session.get(url) as resp:
                        if resp.status < 500:
                            break
                except aiohttp.ClientError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{url} did not come up")
                await asyncio.sleep(0.1)


def cpu_seconds(pid: int) -> float:
    """utime + stime of `pid` and its descendants (uvicorn workers are children)."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / CLOCK_TICK
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += cpu_seconds(int(child))
    except (FileNotFoundError, ProcessLookupError):
        pass
    return total


# --- measuring ----------------------------------------------------------------------------


async def post(session: aiohttp.ClientSession, url: str, query: str) -> bytes:
    body = {"query": query}
    async with session.post(url, json=body, headers={"X-API-Key": KEY}) as resp:
        data = await resp.read()
        if resp.status != 200 or b'"errors"' in data:
            raise RuntimeError(f"{url} answered {resp.status}: {data[:300]!r}")
        return data


async def sim_calls(session: aiohttp.ClientSession, sim_url: str) -> int:
    async with session.get(sim_url + "/__sim/stats") as resp:
        return int((await resp.json())["requests"])


async def measure(
    servers: dict[str, Server], scenarios: list[Scenario], args: argparse.Namespace
) -> Results:
    results = Results()
    floors: dict[str, Server] = {}
    with ExitStack() as stack:
        async with aiohttp.ClientSession() as session:
            for scenario in scenarios:
                # Both answer, and the same thing: the same edges in the same order.
                mine = await post(
                    session, servers[f"restloom:{scenario.restloom}"].url, scenario.query
                )
                theirs = await post(session, servers[f"peer:{scenario.peer}"].url, scenario.query)
                if json.loads(mine)["data"] != json.loads(theirs)["data"]:
                    raise RuntimeError(f"{scenario.name}: restloom and the peer answer differently")
                if scenario.floor:
                    floors[scenario.name] = start_floor(stack, mine)
            await wait_all([f.url for f in floors.values()])
            for number in range(args.rounds + 1):
                kept = number > 0
                print(f"round {number}{'' if kept else ' (warm-up, not kept)'}", flush=True)
                for scenario in scenarios:
                    whos = [f"restloom:{scenario.restloom}", f"peer:{scenario.peer}"]
                    if number % 2:
                        whos.reverse()
                    targets = [(w.split(":")[0], servers[w]) for w in whos]
                    if scenario.name in floors:
                        targets.append(("floor", floors[scenario.name]))
                    if scenario.upstream_get is not None:
                        sim = servers["sim:slow"]
                        targets.append(("upstream", sim_get(sim, scenario.upstream_get)))
                    for who, server in targets:
                        query = None if who == "upstream" else scenario.query
                        run = await load(session, server, query, args)
                        if kept:
                            results.add(scenario.name, who, run)
    return results


def sim_get(sim: Server, path: str) -> Server:
    """The sim as the target of a GET of `path` (its own process's CPU, its own calls)."""
    return Server(sim.url + path, sim.pid, sim.sim_url)


def start_floor(stack: ExitStack, body: bytes) -> Server:
    logs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="floor_")))
    (logs / "body").write_bytes(body)
    port = free_port()
    cmd = [sys.executable, str(HERE / "http_floor.py"), "--port", str(port)]
    proc = stack.enter_context(spawn([*cmd, "--body-file", str(logs / "body")], {}, logs / "log"))
    return Server(f"http://127.0.0.1:{port}/graphql", proc.pid, "")


@dataclass(frozen=True)
class Load:
    """What one load generator run reported."""

    rps: float
    p50: float  # ms
    p99: float  # ms
    total: int  # requests answered
    errors: int  # non-2xx answers, timeouts and connection errors


async def load(
    session: aiohttp.ClientSession, server: Server, query: str | None, args: argparse.Namespace
) -> Run:
    """One load generator run: a POST of `query`, or a GET of the URL when it is None."""
    calls_before = await sim_calls(session, server.sim_url) if server.sim_url else 0
    cpu_before = cpu_seconds(server.pid)
    measured = await (run_wrk if args.load == "wrk" else run_autocannon)(server, query, args)
    cpu = cpu_seconds(server.pid) - cpu_before
    calls = (await sim_calls(session, server.sim_url) - calls_before) if server.sim_url else 0
    total = max(measured.total, 1)
    return Run(
        rps=measured.rps,
        p50=measured.p50,
        p99=measured.p99,
        cpu_ms=cpu * 1000 / total,
        calls=calls / total,
        errors=measured.errors,
    )


async def output_of(cmd: list[str]) -> str:
    proc = await asyncio.create_subprocess_exec(
        *cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    out, _ = await proc.communicate()
    return out.decode()


async def run_autocannon(server: Server, query: str | None, args: argparse.Namespace) -> Load:
    cmd = ["node", str(AUTOCANNON), "-c", str(args.connections), "-d", str(args.duration)]
    cmd += ["-H", f"x-api-key={KEY}"]
    if query is not None:
        body = json.dumps({"query": query})
        cmd += ["-m", "POST", "-H", "content-type=application/json", "-b", body]
    cmd += ["--json", server.url]
    report: dict[str, Any] = json.loads(await output_of(cmd))
    return Load(
        rps=float(report["requests"]["average"]),
        p50=float(report["latency"]["p50"]),
        p99=float(report["latency"]["p99"]),
        total=int(report["requests"]["total"]),
        errors=int(report["non2xx"]) + int(report["errors"]) + int(report["timeouts"]),
    )


async def run_wrk(server: Server, query: str | None, args: argparse.Namespace) -> Load:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("--load wrk needs wrk (Debian: apt-get install wrk)")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        if query is not None:
            body = json.dumps(json.dumps({"query": query}))
            script.write(WRK_POST.format(body=body))
        script.write(WRK_SCRIPT.format(key=KEY))
    try:
        cmd = [wrk, "-t1", f"-c{args.connections}", f"-d{args.duration}s", "--latency"]
        out = await output_of([*cmd, "-s", script.name, server.url])
    finally:
        os.unlink(script.name)
    return parse_wrk(out)


# A POST of the query (without it, a GET of the URL); wrk's `done` prints the exact count
# and errors for parse_wrk.
WRK_POST = """
wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
"""
WRK_SCRIPT = """
wrk.headers["X-API-Key"] = "{key}"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("restloom-bench %d %d %f %f\\n", summary.requests,
    e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50.0) / 1000, latency:percentile(99.0) / 1000))
end
"""


def parse_wrk(out: str) -> Load:
    """`Requests/sec` and the script's own line: requests, errors, p50 and p99 in ms."""
    rps = next(
        float(line.split()[1]) for line in out.splitlines() if line.startswith("Requests/sec")
    )
    fields = next(line.split() for line in out.splitlines() if line.startswith("restloom-bench"))
    return Load(rps, float(fields[3]), float(fields[4]), int(fields[1]), int(fields[2]))


# --- the table ----------------------------------------------------------------------------


def print_table(results: Results, scenarios: list[Scenario], args: argparse.Namespace) -> None:
    print(
        f"\n{args.load} -c {args.connections} -d {args.duration}, median of {args.rounds} kept "
        f"rounds; cold upstream latency {args.latency_ms:g} ms; restloom workers {args.workers}\n"
    )
    head = "| query | server | req/s | p50 ms | p99 ms | CPU ms/req | upstream calls/req | errors |"
    print(head)
    print("|---" * 8 + "|")
    for scenario in scenarios:
        for who in ("restloom", "peer", "floor", "upstream"):
            run = results.median(scenario.name, who)
            if run is not None:
                print(
                    f"| {scenario.name} | {who} | {run.rps:,.0f} | {run.p50:.1f} | {run.p99:.1f} "
                    f"| {run.cpu_ms:.2f} | {run.calls:.2f} | {run.errors:.0f} |"
                )
    print(
        "\n| query | req/s restloom/peer | p50 restloom/peer | CPU/req restloom/peer "
        "| req/s restloom/floor | p99/p50 restloom | p99/p50 floor "
        "| p50 over the upstream's, restloom / peer |"
    )
    print("|---" * 8 + "|")
    for scenario in scenarios:
        mine = results.median(scenario.name, "restloom")
        theirs = results.median(scenario.name, "peer")
        floor = results.median(scenario.name, "floor")
        if mine is None or theirs is None:
            continue
        to_floor = f"{mine.rps / floor.rps:.2f}" if floor is not None and floor.rps else "-"
        # The spread of one server's latencies (issue 11: p99 <= 3x p50 under warm load);
        # the floor's shows what the stack and machine give with no GraphQL at all.
        floor_tail = ratio(floor.p99, floor.p50) if floor is not None else "-"
        # What each adds to the upstream's own time (issue 11: within 5 ms of the ideal).
        upstream = results.median(scenario.name, "upstream")
        added = (
            f"{mine.p50 - upstream.p50:+.1f} / {theirs.p50 - upstream.p50:+.1f} ms"
            if upstream is not None
            else "-"
        )
        print(
            f"| {scenario.name} | {ratio(mine.rps, theirs.rps)} | {ratio(mine.p50, theirs.p50)} "
            f"| {ratio(mine.cpu_ms, theirs.cpu_ms)} | {to_floor} "
            f"| {ratio(mine.p99, mine.p50)} | {floor_tail} | {added} |"
        )


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "-"


if __name__ == "__main__":
    main()
