#!/bin/bash
# restloom's resident memory under load, sampled every 20 s. Rounds rotate through:
# warm repeats of the 100-contact query (answered by the response cache's fast lane),
# repeats of a query with a new `first` each round (executed once, then answered), and
# a query whose `search` is new on every request (sent by a small aiohttp client, since
# autocannon sends one body: every request executes, goes upstream and leaves a new
# read-cache and response-cache entry, so the caches' byte bound is what keeps memory flat).
# Usage: bench/rss_under_load.sh [ROUNDS]   (20 s each; 30 = 10 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-9}
[ -x bench/peer/node_modules/.bin/autocannon ] || (cd bench/peer && npm ci --no-audit --no-fund)
SIM_PORT=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PORT=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
.venv/bin/restloom sim --port "$SIM_PORT" --rate-limit 0 >/dev/null 2>&1 & SIM=$!
env RESTLOOM_STARTUP_CHECK=false RESTLOOM_API_KEY=moss_k_demo_full RESTLOOM_CURSOR_SECRET=bench \
  RESTLOOM_CACHE_TTL=60 RESTLOOM_RATE_LIMIT='"off"' RESTLOOM_LOG_LEVEL=warning \
  .venv/bin/restloom serve --upstream "http://127.0.0.1:$SIM_PORT/api/v1" --port "$PORT" >/dev/null 2>&1 & SRV=$!
trap 'kill $SRV $SIM 2>/dev/null' EXIT
until curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null; do sleep 0.2; done
WARM='{"query":"{ contacts(first: 100) { edges { node { id firstName lastName email } } } }"}'
distinct_searches() {  # $1: seconds; 10 clients, a new `search` on every request
  .venv/bin/python - "$PORT" "$1" <<'PY'
import asyncio, sys, time, uuid
import aiohttp
QUERY = "query($q: String) { contacts(first: 20, search: $q) { edges { node { id firstName } } } }"
async def client(session, url, until):
    while time.monotonic() < until:
        body = {"query": QUERY, "variables": {"q": uuid.uuid4().hex[:12]}}
        async with session.post(url, json=body) as resp:
            await resp.read()
async def main(port, seconds):
    until = time.monotonic() + seconds
    async with aiohttp.ClientSession() as session:
        url = f"http://127.0.0.1:{port}/graphql"
        await asyncio.gather(*(client(session, url, until) for _ in range(10)))
asyncio.run(main(sys.argv[1], float(sys.argv[2])))
PY
}
for i in $(seq 1 "$ROUNDS"); do
  case $((i % 3)) in
    1) BODY="$WARM" ;;
    2) BODY="{\"query\":\"query(\$n: Int) { contacts(first: \$n) { edges { node { id firstName } } } }\",\"variables\":{\"n\":$((i % 100 + 1))}}" ;;
    0) BODY="" ;;
  esac
  if [ -n "$BODY" ]; then
    bench/peer/node_modules/.bin/autocannon -c 10 -d 20 -m POST -H content-type=application/json \
      -b "$BODY" "http://127.0.0.1:$PORT/graphql" >/dev/null 2>&1
  else
    distinct_searches 20
  fi
  CALLS=$(curl -s "http://127.0.0.1:$SIM_PORT/__sim/stats" | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["requests"])')
  echo "t=$((i * 20))s rss_kb=$(awk '/VmRSS/{print $2}' "/proc/$SRV/status") upstream_calls=$CALLS"
done
