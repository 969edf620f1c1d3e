#!/usr/bin/env bash
# Side-by-side throughput of quotabench, wrk and oha against the same loopback target,
# same connections and duration. The three tools run interleaved, ROUNDS times (wrk, oha,
# quotabench, wrk, oha, …), so on a shared machine they share its noise; the load average
# is recorded before each run. Prints each run's requests/s and CPU µs per request
# (the tool's own user + system time over the requests it completed), then the ratios.
#
#   benches/peer.sh                     # nginx (one worker) serving a quota JSON, 32 connections, 10 s, 3 rounds
#   TARGET=fake benches/peer.sh         # the standalone bundled fake instead
#   CONNECTIONS=64 DURATION=5 ROUNDS=1 benches/peer.sh
#   PROFILE=release benches/peer.sh     # quotabench built with the README's profile instead of `peak`
#   WRK_THREADS=2 benches/peer.sh       # wrk's default-ish setting (on 2 cores it fights nginx)
#   BASELINE=/path/to/old/quotabench benches/peer.sh   # also that build, each round: before/after
#
# wrk runs with one thread by default: on a 2-core machine beside a one-worker nginx that
# is its best setting (a second thread takes the core nginx needs). Installs what it
# lacks: wrk and nginx-light (apt), oha (cargo install). Loopback only.
set -euo pipefail

CONNECTIONS=${CONNECTIONS:-32}
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
TARGET=${TARGET:-nginx}
PORT=${PORT:-18080}
PROFILE=${PROFILE:-peak}
WRK_THREADS=${WRK_THREADS:-1}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET_DIR/$PROFILE/quotabench
URL_PATH=/data/core/hygiene/quota

need() { command -v "$1" >/dev/null 2>&1; }
need wrk || apt-get install -y wrk >/dev/null
need oha || cargo install oha --locked >/dev/null
(cd "$ROOT" && cargo build --profile "$PROFILE" --quiet)

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

# Runs a command with its stdout in $WORK/out and prints the user + system seconds it
# (and its children) spent, from getrusage: the same measure for every tool.
cpu() {
  python3 - "$WORK/out" "$@" <<'PY'
import resource, subprocess, sys
with open(sys.argv[1], "wb") as out:
    subprocess.run(sys.argv[2:], stdout=out, stderr=subprocess.STDOUT)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{r.ru_utime + r.ru_stime:.3f}")
PY
}

RESULTS=$WORK/results
: > "$RESULTS"
# One quotabench run for DURATION: tool name, binary.
qb() {
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  rm -rf "$WORK/qb"
  cpu_s=$(QB_TARGET_URL="http://127.0.0.1:$PORT" cpu "$2" run "$ROOT/scenarios/load/max-throughput.yaml" --duration "${DURATION}s" --out "$WORK/qb")
  read -r rps n < <(python3 -c 'import json,glob,sys; s=json.load(open(glob.glob(sys.argv[1]+"/*/summary.json")[0])); o=s["operations"]["list"]; print(o["per_second"], o["count"])' "$WORK/qb")
  echo "$round $1 $rps $n $cpu_s $load" >> "$RESULTS"
}
for round in $(seq "$ROUNDS"); do
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  cpu_s=$(cpu wrk "-t$WRK_THREADS" "-c$CONNECTIONS" "-d${DURATION}s" "${HDR[@]}" "$URL")
  n=$(awk '/requests in/ {print $1}' "$WORK/out")
  rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/out")
  echo "$round wrk $rps $n $cpu_s $load" >> "$RESULTS"

  load=$(cut -d' ' -f1-3 /proc/loadavg)
  cpu_s=$(cpu oha -c "$CONNECTIONS" -z "${DURATION}s" --no-tui --output-format json "${HDR[@]}" "$URL")
  read -r rps n < <(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); d=s["statusCodeDistribution"]; print(round(s["summary"]["requestsPerSec"], 1), sum(d.values()))' "$WORK/out")
  echo "$round oha $rps $n $cpu_s $load" >> "$RESULTS"

  qb quotabench "$BIN"
  if [ -n "${BASELINE:-}" ]; then qb baseline "$BASELINE"; fi
done

python3 - "$RESULTS" "$PROFILE" "$WRK_THREADS" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
print(f"quotabench profile {sys.argv[2]}, wrk -t{sys.argv[3]}")
print(f"{'round':>5} {'tool':<11} {'requests/s':>11} {'requests':>10} {'CPU s':>7} {'CPU µs/req':>10}  load avg")
by = {}
for r in rows:
    rnd, tool, rps, n, cpu = r[0], r[1], float(r[2]), int(r[3]), float(r[4])
    us = cpu * 1e6 / max(n, 1)
    by.setdefault(rnd, {})[tool] = rps
    print(f"{rnd:>5} {tool:<11} {rps:>11.0f} {n:>10} {cpu:>7.2f} {us:>10.2f}  {' '.join(r[5:])}")
for rnd, t in by.items():
    qb, wrk, oha = t["quotabench"], t["wrk"], t["oha"]
    print(f"round {rnd}: quotabench / oha = {qb / oha:.2f}x (goal >= 1.00x), "
          f"quotabench / wrk = {qb / wrk:.2f}x (goal >= 0.75x)"
          + (f", quotabench / baseline = {qb / t['baseline']:.2f}x" if "baseline" in t else ""))
PY
