#!/usr/bin/env bash
# One distributed run on Kubernetes, gated: apply the results volume and the scenario,
# start the four shards together, wait for them, merge, and exit with the merge's exit
# code (0 pass, 1 fail, 2 error, 3 unknown) — a CI step or an operator reads that.
#
#   deploy/kubernetes/run.sh [--namespace NS] [--lead 60] [--timeout 1800]
#
# --lead: seconds between now and the shards' common start (time for four pods to be
# scheduled and pull the image; a shard that starts after the instant starts late,
# never early). KUBECTL overrides the kubectl binary (the suite runs a stub).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
kubectl="${KUBECTL:-kubectl}"
ns=()
lead=60
timeout=1800
while [ $# -gt 0 ]; do
  case "$1" in
    --namespace|-n) ns=(--namespace "$2"); shift 2 ;;
    --lead) lead="$2"; shift 2 ;;
    --timeout) timeout="$2"; shift 2 ;;
    *) echo "run.sh: unknown argument $1 (expected --namespace NS, --lead SECONDS, --timeout SECONDS)" >&2; exit 2 ;;
  esac
done
case "$lead$timeout" in *[!0-9]*) echo "run.sh: --lead and --timeout take whole seconds" >&2; exit 2 ;; esac

k() { "$kubectl" "${ns[@]}" "$@"; }

run_id="qb-$(date -u +%Y%m%dt%H%M%S)-$$"
start_at="$(date -u -d "@$(( $(date -u +%s) + lead ))" +%Y-%m-%dT%H:%M:%SZ)"
echo "run $run_id: 4 shards start at $start_at"

# Fill the per-run values into the pod templates (the only two placeholders).
render() {
  sed -e "s|quotabench.dev/start-at: \".*\"|quotabench.dev/start-at: \"$start_at\"|" \
      -e "s|quotabench.dev/run-id: \".*\"|quotabench.dev/run-id: \"$run_id\"|" "$1"
}

k apply -f "$here/results-pvc.yaml" -f "$here/scenario-configmap.yaml"
# Jobs are immutable: the previous run's are replaced.
k delete job quotabench-shards quotabench-merge --ignore-not-found --wait=true
render "$here/shards-job.yaml" | k apply -f -

# Waits until job $1 has condition Complete or Failed; prints which, or "timeout".
wait_job() {
  local waited=0 conditions
  while :; do
    conditions="$(k get job "$1" -o jsonpath='{range .status.conditions[?(@.status=="True")]}{.type} {end}')"
    case " $conditions " in
      *" Complete "*) echo Complete; return ;;
      *" Failed "*) echo Failed; return ;;
    esac
    if [ "$waited" -ge "$timeout" ]; then echo timeout; return; fi
    sleep "${POLL_SECONDS:-5}"
    waited=$((waited + ${POLL_SECONDS:-5}))
  done
}

# Complete: every shard ran (whatever its own verdict). Failed: a shard erred or the
# deadline passed; merging the rest would judge part of the load as if it were all.
case "$(wait_job quotabench-shards)" in
  Complete) ;;
  Failed)
    echo "run $run_id: a shard failed (exit 2 or killed); not merging an incomplete run." >&2
    echo "  kubectl logs -l app.kubernetes.io/component=shard --prefix" >&2
    exit 2 ;;
  *)
    echo "run $run_id: the shards did not finish within ${timeout}s; the verdict is unknown" >&2
    exit 3 ;;
esac

render "$here/merge-job.yaml" | k apply -f -
# Complete is exit 0; Failed is any other exit (backoffLimit 0: never retried).
finished="$(wait_job quotabench-merge)"
k logs job/quotabench-merge || true
code="$(k get pods -l job-name=quotabench-merge -o jsonpath='{.items[0].status.containerStatuses[0].state.terminated.exitCode}')"
case "$finished:$code" in
  timeout:*|*:|*:*[!0-9]*)
    echo "run $run_id: the merge did not finish with an exit code ($finished); the verdict is unknown" >&2
    exit 3 ;;
esac
echo "run $run_id: merged verdict exit $code; the run folder is /results/$run_id/merged on quotabench-results"
exit "$code"
