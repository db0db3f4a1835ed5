#!/usr/bin/env bash
# Browser tests of the viewer page: Debian's chromium driven by playwright-core
# against the release build of wstail. Installs what is missing (chromium with
# apt-get, playwright-core with npm ci), builds, runs node's test runner.
# Called by .ci/run as `bash tests/browser/run.sh`; exits non-zero on failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

if [ ! -x /usr/bin/chromium ]; then
  echo "browser tests: installing chromium (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "browser tests: installing nodejs and npm (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq nodejs npm >/dev/null
fi
if [ ! -f "$here/node_modules/playwright-core/package.json" ]; then
  echo "browser tests: npm ci" >&2
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ -z "${WSTAIL_BIN:-}" ]; then
  cargo build --release --quiet
fi
mkdir -p target

# The whole suite is bounded (node applies --test-timeout to the file as a
# whole, so it is the suite's bound); each test bounds its own waits.
timeout --kill-after=10 900 \
  node --test --test-concurrency=1 --test-timeout=600000 "$here/viewer.test.js" "$here/merged.test.js"
