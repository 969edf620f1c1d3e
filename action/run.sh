#!/usr/bin/env bash
# The logic of the quotabench GitHub Action (action.yml): run the given scenarios, make
# sure the step summary says what happened, write the step's outputs, and exit with
# quotabench's own exit code, so the step is the gate (0 pass, 1 fail, 2 error,
# 3 unknown; 3 passes with a warning when INPUT_ALLOW_UNKNOWN is true).
#
# Inputs come as environment variables (the action sets them from its inputs; a local
# run or a test sets them by hand):
#   INPUT_SCENARIOS      scenario files, separated by spaces or newlines (globs expand)
#   INPUT_TARGET         base URL of the implementation under test (empty: the bundled fake)
#   INPUT_ARGS           more arguments for `quotabench run`, separated by spaces (no quoting)
#   INPUT_OUT            the output folder (default: quotabench-reports)
#   INPUT_ALLOW_UNKNOWN  true: exit 3 (some verdict unknown) passes the step, with a warning
#   QUOTABENCH           the binary (default: quotabench on PATH)
#   GITHUB_STEP_SUMMARY, GITHUB_OUTPUT   set by GitHub Actions; either may be unset
set -uo pipefail

qb="${QUOTABENCH:-quotabench}"
out="${INPUT_OUT:-quotabench-reports}"
summary="${GITHUB_STEP_SUMMARY:-}"

output() { # name value: one step output (GITHUB_OUTPUT, when set)
  [ -n "${GITHUB_OUTPUT:-}" ] && printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
  return 0
}
note() { # markdown line for the step summary, when there is one
  [ -n "$summary" ] && printf '%s\n' "$1" >>"$summary"
  return 0
}
fail_usage() {
  echo "::error title=quotabench action::$1"
  note "**quotabench**: $1"
  output exit-code 2
  output verdict error
  exit 2
}

# Globs expand (scenarios/conformance/*.yaml); a pattern matching nothing stays as
# written, so quotabench names the missing file.
read -r -d '' -a patterns <<<"${INPUT_SCENARIOS:-}" || true
[ ${#patterns[@]} -gt 0 ] || fail_usage "no scenarios given: set the \`scenarios\` input to one or more scenario files"
scenarios=()
for p in "${patterns[@]}"; do
  # shellcheck disable=SC2206 # expanding the glob is the point
  matched=($p)
  scenarios+=("${matched[@]}")
done
read -r -d '' -a extra <<<"${INPUT_ARGS:-}" || true

command -v "$qb" >/dev/null 2>&1 || fail_usage "cannot run \`$qb\`: install quotabench first (the action's install step), or set QUOTABENCH to the binary"

mkdir -p "$out" || fail_usage "cannot create the output folder $out"
before="$(mktemp)"
ls -1 "$out" >"$before" 2>/dev/null || true
# The size of the step summary before the run: quotabench appends report.md to it
# itself (docs/ci.md, "Step summary"); if it could not (a configuration error, a
# crash), this script adds a line saying so, so the summary never stays silent.
summary_before=0
[ -n "$summary" ] && [ -f "$summary" ] && summary_before=$(wc -c <"$summary")

cmd=("$qb" run "${scenarios[@]}" --out "$out")
[ -n "${INPUT_TARGET:-}" ] && cmd+=(--target "$INPUT_TARGET")
cmd+=("${extra[@]}")
echo "::group::quotabench run"
echo "+ ${cmd[*]}"
"${cmd[@]}"
code=$?
echo "::endgroup::"

# The run folders this run made (for the outputs and the artifact).
dirs=()
while IFS= read -r d; do
  [ -n "$d" ] && [ -d "$out/$d" ] && dirs+=("$out/$d")
done < <(ls -1 "$out" 2>/dev/null | grep -vxF -f "$before")
rm -f "$before"

case "$code" in
  0) verdict=pass ;;
  1) verdict=fail ;;
  2) verdict=error ;;
  3) verdict=unknown ;;
  *) verdict=stopped ;;
esac

if [ -n "$summary" ]; then
  summary_after=0
  [ -f "$summary" ] && summary_after=$(wc -c <"$summary")
  if [ "$summary_after" -le "$summary_before" ]; then
    case "$code" in
      2) note "**quotabench**: configuration or usage error (exit 2), no report: the log of this step names the file and the fix." ;;
      *) note "**quotabench** exited $code ($verdict) without a report: see the log of this step." ;;
    esac
  fi
fi

output exit-code "$code"
output verdict "$verdict"
output out "$out"
if [ ${#dirs[@]} -gt 0 ]; then
  output run-dir "${dirs[0]}"
  {
    echo "run-dirs<<QUOTABENCH_EOF"
    printf '%s\n' "${dirs[@]}"
    echo "QUOTABENCH_EOF"
  } >>"${GITHUB_OUTPUT:-/dev/null}"
fi

if [ "$code" -eq 3 ] && [ "${INPUT_ALLOW_UNKNOWN:-false}" = true ]; then
  echo "::warning title=quotabench::some verdicts are unknown (exit 3); allow-unknown is true, so the step passes"
  exit 0
fi
[ "$code" -eq 0 ] || echo "::error title=quotabench::the run's verdict is $verdict (exit $code); the report is in the step summary and the artifact"
exit "$code"
