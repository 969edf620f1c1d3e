#!/usr/bin/env bash
# Prints `key=…` for GITHUB_OUTPUT: a hash of what the binary is built from (the
# action's own manifests, lock file and sources), so a cached binary is reused until
# the action's code changes. Works where hashFiles() cannot: `uses: owner/repo@ref`
# checks the action out outside the workspace.
set -euo pipefail
root="${1:-$(dirname "$0")/..}"
cd "$root"
hash=$(find Cargo.toml Cargo.lock src crates profiles -type f \( -name '*.rs' -o -name '*.toml' -o -name '*.lock' -o -name '*.yaml' \) -print0 \
  | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-32)
echo "key=quotabench-bin-$(uname -s)-$(uname -m)-$hash"
