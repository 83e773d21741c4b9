#!/bin/bash
# restloom's resident memory under load, sampled every 20 s: warm repeats of the
# 100-contact query (response cache) alternating with executed queries (a new `first`
# each time). Usage: bench/rss_under_load.sh [ROUNDS]   (20 s each; 30 = 10 minutes)
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
for i in $(seq 1 "$ROUNDS"); do
  if [ $((i % 2)) = 1 ]; then BODY="$WARM"; else
    BODY="{\"query\":\"query(\$n: Int) { contacts(first: \$n) { edges { node { id firstName } } } }\",\"variables\":{\"n\":$((i % 100 + 1))}}"
  fi
  bench/peer/node_modules/.bin/autocannon -c 10 -d 20 -m POST -H content-type=application/json \
    -b "$BODY" "http://127.0.0.1:$PORT/graphql" >/dev/null 2>&1
  echo "t=$((i * 20))s rss_kb=$(awk '/VmRSS/{print $2}' "/proc/$SRV/status")"
done
