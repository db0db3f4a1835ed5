#!/usr/bin/env bash
# The man page's inetd.conf line, run by openbsd-inetd (in the foreground,
# with its own configuration file, so the system's inetd is not touched):
# each connection starts 'wstail serve --inetd' as user nobody.
source "$(dirname "$0")/lib.sh"
watchdog 120
need inetd:openbsd-inetd
INETD=$(command -v inetd || echo /usr/sbin/inetd)
setup_work
PORT=$(free_port)

recipe inetd.conf | localize > "$WORK/inetd.conf"
say "inetd.conf: $(cat "$WORK/inetd.conf")"
# -d: debug mode, stays in the foreground.
"$INETD" -d "$WORK/inetd.conf" > "$WORK/inetd.log" 2>&1 &
started $!
wait_port "$PORT"
check_tail "ws://127.0.0.1:$PORT$LOGFILE"
# The same rules as in normal mode: outside the root is refused.
if OUT=$(timeout 20 "$BIN" tail "ws://127.0.0.1:$PORT/etc/passwd" 2>&1); then
    fail "/etc/passwd was served through inetd"
fi
case $OUT in
    *"403 Forbidden: the path is outside the served roots"*) ;;
    *) fail "unexpected refusal: $OUT" ;;
esac
say "ok"
