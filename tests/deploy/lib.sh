# shellcheck shell=bash
# Shared helpers for the deployment scripts in tests/deploy/ (sourced, not
# run). Each script runs one recipe of the man page's EXAMPLES for real, on
# loopback ports, bounded in time, and stops only the processes it started.
#
#   WSTAIL_BIN   the binary to deploy (default: the static release build)

set -euo pipefail

DEPLOY_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$DEPLOY_DIR/../.." && pwd)
MAN="$REPO/man/wstail.1"
NAME=$(basename "$0" .sh)

say() { printf '[%s] %s\n' "$NAME" "$*"; }
fail() { printf '[%s] FAIL: %s\n' "$NAME" "$*" >&2; exit 1; }
skip() { printf '[%s] SKIP: %s\n' "$NAME" "$*"; exit 0; }

# Processes started here, stopped (by pid) on exit; directories removed.
PIDS=()
CLEANUP=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    local c
    for c in "${CLEANUP[@]}"; do
        eval "$c" || true
    done
}
trap cleanup EXIT
trap "exit 124" TERM INT
started() { PIDS+=("$1"); }
on_exit() { CLEANUP+=("$1"); }

# The whole script is bounded in time: a hang fails it.
watchdog() {
    local secs=$1 me=$$
    (
        trap 'kill "$sp" 2>/dev/null; exit 0' TERM
        sleep "$secs" &
        sp=$!
        wait "$sp"
        echo "[$NAME] FAIL: still running after ${secs}s" >&2
        kill -TERM "$me"
    ) &
    local w=$!
    PIDS+=("$w")
}

# Installs Debian packages for the commands that are missing; skips the
# script if that is not possible (no network, no apt-get, not root).
need() {
    local missing=() pkg cmd
    for pair in "$@"; do
        cmd=${pair%%:*}
        pkg=${pair#*:}
        command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    command -v apt-get >/dev/null 2>&1 || skip "needs ${missing[*]} and there is no apt-get"
    [ "$(id -u)" = 0 ] || skip "needs ${missing[*]}; run as root to install them"
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! timeout 300 apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; then
        timeout 300 apt-get update -qq >/dev/null 2>&1 || true
        timeout 300 apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
            skip "cannot install ${missing[*]}"
    fi
}

# A recipe of the man page, as an operator would copy it from 'man wstail':
# the lines after '.\" recipe: NAME' up to '.EE', roff escapes undone.
recipe() {
    awk -v want=".\\\\\" recipe: $1" '
        $0 == want { on = 1; next }
        on && $0 == ".EE" { exit }
        on && ($0 == ".RS" || $0 == ".EX") { next }
        on { print }
    ' "$MAN" | sed -e 's/\\-/-/g' -e "s/\\\\(aq/'/g" -e 's/\\e/\\/g' -e 's/\\&//g'
}

# A TCP port nobody listens on (bash's /dev/tcp, no other tool needed).
free_port() {
    local p
    for _ in $(seq 50); do
        p=$(( 20000 + RANDOM % 40000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return
        fi
    done
    fail "no free port found"
}

# Waits (bounded) until something listens on the port.
wait_port() {
    local p=$1 secs=${2:-10}
    for _ in $(seq $(( secs * 10 ))); do
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && return 0
        sleep 0.1
    done
    fail "nothing listens on 127.0.0.1:$p after ${secs}s"
}

# Waits (bounded) until a file holds a text.
wait_for_text() {
    local file=$1 text=$2 secs=${3:-10}
    for _ in $(seq $(( secs * 10 ))); do
        grep -qF -- "$text" "$file" 2>/dev/null && return 0
        sleep 0.1
    done
    fail "no '$text' in $file after ${secs}s: $(tail -c 2000 "$file" 2>/dev/null)"
}

# The binary, copied where an unprivileged user (nobody, a dynamic user) can
# run it, and a log directory it can read. Not under /tmp: systemd's
# PrivateTmp= would hide it from the units.
setup_work() {
    local src=${WSTAIL_BIN:-$REPO/target/x86_64-unknown-linux-gnu/release/wstail}
    [ -x "$src" ] || fail "no binary at $src (build it, or set WSTAIL_BIN)"
    WORK=$(mktemp -d /var/lib/wstail-deploy.XXXXXX 2>/dev/null || mktemp -d)
    on_exit "rm -rf '$WORK'"
    chmod 755 "$WORK"
    mkdir -p "$WORK/bin" "$WORK/log"
    cp "$src" "$WORK/bin/wstail"
    chmod 755 "$WORK/bin" "$WORK/bin/wstail" "$WORK/log"
    BIN="$WORK/bin/wstail"
    LOGDIR="$WORK/log"
    LOGFILE="$LOGDIR/app.log"
    printf 'first line\nsecond line\nthird line\n' > "$LOGFILE"
    chmod 644 "$LOGFILE"
}

# A recipe with the example paths and port replaced by the test's.
localize() {
    sed -e "s|/usr/local/bin/wstail|$BIN|g" -e "s|/var/log/app|$LOGDIR|g" -e "s|8765|$PORT|g"
}

# 'wstail tail ARGS' with a time bound; its output in $OUT.
client() {
    OUT=$(timeout 20 "$BIN" tail "$@" 2>&1) || fail "wstail tail $*: status $?: $OUT"
}

# Checks that the last lines come through URL, and that an appended line
# is followed (wstail tail -f), within a few seconds.
check_tail() {
    local url=$1
    client -n 2 "$url"
    [ "$OUT" = "$(tail -n 2 "$LOGFILE")" ] || fail "wstail tail -n 2 $url gave: $OUT"
    local out="$WORK/follow.out.$RANDOM"
    timeout 30 "$BIN" tail -f -n 0 "$url" > "$out" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    sleep 0.5
    local line
    line="appended at $(date +%s.%N)"
    echo "$line" >> "$LOGFILE"
    wait_for_text "$out" "$line" 10
    kill "$pid" 2>/dev/null || true
    say "tailed and followed $url"
}
