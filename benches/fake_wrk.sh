#!/usr/bin/env bash
# Loopback load test of the standalone fake (hyper server, peak profile build):
# POST /workorder (consume) and GET /quota (list), 32 connections each, with wrk.
# Prints requests/s and latency percentiles, and the fake's RSS before and after.
#
#   benches/fake_wrk.sh                 # 20 s per endpoint, 1 wrk thread, 32 connections
#   DURATION=10s CONNECTIONS=64 benches/fake_wrk.sh
set -euo pipefail

DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}   # one wrk thread: on 2 cores a second one mostly steals from the fake
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${QUOTABENCH:-$ROOT/target/peak/quotabench}

if ! command -v wrk >/dev/null 2>&1; then
  echo "wrk not found; installing it (apt-get install -y wrk)" >&2
  if [ "$(id -u)" = 0 ]; then apt-get install -y wrk >/dev/null; else sudo apt-get install -y wrk >/dev/null; fi
fi
if [ -z "${QUOTABENCH:-}" ]; then
  (cd "$ROOT" && cargo build --profile peak --quiet)
fi

WORK=$(mktemp -d)
FAKE_PID=
cleanup() {
  if [ -n "$FAKE_PID" ]; then kill "$FAKE_PID" 2>/dev/null || true; wait "$FAKE_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# Limits high enough that every order is admitted: this measures the consume path,
# not the (cheaper) rejection path.
cat > "$WORK/mocks.yaml" <<'YAML'
defaults:
  dailyConsumerDeleteIdentitiesQuota: 1000000000000
  monthlyConsumerDeleteIdentitiesQuota: 1000000000000
YAML

cat > "$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"action":"delete_identity","datasetId":"ALL","displayName":"wrk","description":"load","identities":[{"namespace":{"code":"email"},"id":"a@example.com"}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer tok"
wrk.headers["x-api-key"] = "key"
wrk.headers["x-gw-ims-org-id"] = "wrk-org"
done = function(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format("non-2xx/3xx: %d\n", non2xx))
end
LUA

cat > "$WORK/get.lua" <<'LUA'
wrk.headers["Authorization"] = "Bearer tok"
wrk.headers["x-api-key"] = "key"
wrk.headers["x-gw-ims-org-id"] = "wrk-org"
done = function(summary, latency, requests)
  io.write(string.format("non-2xx/3xx: %d\n", summary.errors.status))
end
LUA

"$BIN" fake --listen 127.0.0.1:0 --config "$WORK/mocks.yaml" > "$WORK/out" &
FAKE_PID=$!
URL=
for _ in $(seq 1 100); do
  URL=$(sed -n 's/^quotabench fake listening on //p' "$WORK/out" | head -1)
  [ -n "$URL" ] && break
  sleep 0.1
done
[ -n "$URL" ] || { echo "the fake did not start" >&2; exit 1; }

rss() { ps -o rss= -p "$FAKE_PID" | tr -d ' '; }
echo "fake: $URL (pid $FAKE_PID), RSS at start: $(rss) KiB"

echo "== consume: POST /data/core/hygiene/workorder, $CONNECTIONS connections, $DURATION"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$WORK/post.lua" "$URL/data/core/hygiene/workorder"
echo "RSS after consume: $(rss) KiB"

echo "== list: GET /data/core/hygiene/quota, $CONNECTIONS connections, $DURATION"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$WORK/get.lua" "$URL/data/core/hygiene/quota"
echo "RSS after list: $(rss) KiB"

echo "== second consume run (RSS must not keep growing: records are capped)"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -s "$WORK/post.lua" "$URL/data/core/hygiene/workorder" | grep -E "Requests/sec|non-2xx"
echo "RSS at end: $(rss) KiB"
curl -s "$URL/__admin/orgs/wrk-org/state" | head -c 400; echo
