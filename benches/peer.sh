#!/usr/bin/env bash
# Side-by-side throughput of quotabench, wrk and oha against the same loopback target,
# same connections and duration. Prints each tool's requests/s and the ratios.
#
#   benches/peer.sh                     # nginx serving a quota JSON, 32 connections, 10 s
#   TARGET=fake benches/peer.sh         # the standalone bundled fake instead
#   CONNECTIONS=64 DURATION=5 benches/peer.sh
#
# Installs what it lacks: wrk and nginx-light (apt), oha (cargo install). Loopback only.
set -euo pipefail

CONNECTIONS=${CONNECTIONS:-32}
DURATION=${DURATION:-10}
TARGET=${TARGET:-nginx}
PORT=${PORT:-18080}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/target/peak/quotabench
URL_PATH=/data/core/hygiene/quota

need() { command -v "$1" >/dev/null 2>&1; }
need wrk || apt-get install -y wrk >/dev/null
need oha || cargo install oha --locked >/dev/null
(cd "$ROOT" && cargo build --profile peak --quiet)

WORK=$(mktemp -d)
PID=
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

case "$TARGET" in
  nginx)
    need nginx || apt-get install -y nginx-light >/dev/null
    cat > "$WORK/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$PORT;
    location = $URL_PATH {
      default_type application/json;
      return 200 '{"quotas":[{"name":"datasetExpirationQuota","description":"d","consumed":12,"quota":50},{"name":"dailyConsumerDeleteIdentitiesQuota","description":"d","consumed":0,"quota":600000},{"name":"monthlyConsumerDeleteIdentitiesQuota","description":"d","consumed":841,"quota":600000},{"name":"monthlyUpdatedFieldIdentitiesQuota","description":"d","consumed":0,"quota":0}]}';
    }
  }
}
NGINX
    nginx -c "$WORK/nginx.conf" -p "$WORK" &
    PID=$!
    ;;
  fake)
    "$BIN" fake --listen "127.0.0.1:$PORT" > "$WORK/fake.log" &
    PID=$!
    ;;
  *) echo "TARGET must be nginx or fake" >&2; exit 2 ;;
esac
for _ in $(seq 50); do
  curl -s -o /dev/null "http://127.0.0.1:$PORT$URL_PATH" -H 'authorization: Bearer b' -H 'x-api-key: k' -H 'x-gw-ims-org-id: o' && break
  sleep 0.1
done
URL="http://127.0.0.1:$PORT$URL_PATH"
HDR=(-H 'authorization: Bearer bench' -H 'x-api-key: bench' -H 'x-gw-ims-org-id: quotabench-org')

wrk_rps=$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" "${HDR[@]}" "$URL" | awk '/Requests\/sec/ {print $2}')
oha_rps=$(oha -c "$CONNECTIONS" -z "${DURATION}s" --no-tui --output-format json "${HDR[@]}" "$URL" | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["summary"]["requestsPerSec"], 1))')
QB_TARGET_URL="http://127.0.0.1:$PORT" "$BIN" run "$ROOT/scenarios/load/max-throughput.yaml" --out "$WORK/qb" > "$WORK/qb.log" 2>&1 || true
qb_rps=$(python3 -c 'import json,glob,sys; s=json.load(open(glob.glob(sys.argv[1]+"/*/summary.json")[0])); print(s["operations"]["list"]["per_second"])' "$WORK/qb")

printf '%-12s %12s\n' tool "requests/s"
printf '%-12s %12s\n' wrk "$wrk_rps" oha "$oha_rps" quotabench "$qb_rps"
python3 - "$qb_rps" "$wrk_rps" "$oha_rps" <<'PY'
import sys
qb, wrk, oha = map(float, sys.argv[1:])
print(f"quotabench / oha = {qb / oha:.2f}x (goal >= 1.00x)")
print(f"quotabench / wrk = {qb / wrk:.2f}x (goal >= 0.75x)")
PY
