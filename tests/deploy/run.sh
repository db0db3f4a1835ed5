#!/usr/bin/env bash
# Runs every deployment script of tests/deploy/ against the static binary
# (built first if it is missing), each bounded in time. A script that cannot
# get its tool (no network, not Debian) skips itself and says so; any other
# failure fails the run.
set -euo pipefail
cd "$(dirname "$0")"
BIN=${WSTAIL_BIN:-../../target/x86_64-unknown-linux-gnu/release/wstail}
if [ ! -x "$BIN" ]; then
    (cd ../.. && RUSTFLAGS='-C target-feature=+crt-static' \
        cargo build --release --target x86_64-unknown-linux-gnu)
fi
WSTAIL_BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
export WSTAIL_BIN

failed=()
for script in static.sh systemd.sh inetd.sh tcpserver.sh cron.sh nginx.sh; do
    printf '\n--- %s\n' "$script"
    if ! timeout 600 bash "./$script"; then
        failed+=("$script")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    printf '\ndeployment scripts failed: %s\n' "${failed[*]}" >&2
    exit 1
fi
printf '\nall deployment scripts passed (or skipped, as they said)\n'
