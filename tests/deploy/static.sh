#!/usr/bin/env bash
# The static binary: no program interpreter, no shared libraries, and it
# serves a file (checked with its own client and with curl if present).
source "$(dirname "$0")/lib.sh"
watchdog 60
need readelf:binutils file:file
setup_work

kind=$(file -b "$BIN" 2>/dev/null || true)
if readelf -l "$BIN" | grep -q 'INTERP'; then
    fail "the binary has a program interpreter: $kind"
fi
if readelf -d "$BIN" 2>/dev/null | grep -q '(NEEDED)'; then
    fail "the binary needs shared libraries: $(readelf -d "$BIN" | grep NEEDED)"
fi
case $kind in
    *"statically linked"* | *"static-pie linked"* | "") ;;
    *) fail "file(1) does not call it static: $kind" ;;
esac
linked=$(grep -o -E 'static(-pie|ally) linked' <<< "$kind" || echo "static")
say "$linked, no INTERP, no NEEDED: $(stat -c %s "$BIN") bytes"

PORT=$(free_port)
"$BIN" serve --listen "127.0.0.1:$PORT" --root "$LOGDIR" 2> "$WORK/serve.log" &
started $!
wait_port "$PORT"
check_tail "ws://127.0.0.1:$PORT$LOGFILE"
if command -v curl >/dev/null 2>&1; then
    got=$(curl -sS --max-time 10 "http://127.0.0.1:$PORT$LOGFILE?download")
    [ "$got" = "$(cat "$LOGFILE")" ] || fail "download differs: $got"
    say "downloaded $LOGFILE with curl"
fi
say "ok"
