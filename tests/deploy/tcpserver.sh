#!/usr/bin/env bash
# The man page's tcpserver line (ucspi-tcp), run as it stands apart from the
# paths and port: each connection starts 'wstail serve --inetd' as nobody,
# whose log goes to tcpserver's standard error.
source "$(dirname "$0")/lib.sh"
watchdog 120
need tcpserver:ucspi-tcp
setup_work
PORT=$(free_port)

cmd=$(recipe tcpserver | localize)
say "$cmd"
# Word splitting is what a shell does with the copied line.
# shellcheck disable=SC2086
$cmd 2> "$WORK/tcpserver.log" &
started $!
wait_port "$PORT"
check_tail "ws://127.0.0.1:$PORT$LOGFILE"
# The server's one log line per connection reached tcpserver's stderr.
wait_for_text "$WORK/tcpserver.log" "$LOGFILE" 5
grep -q '101 ' "$WORK/tcpserver.log" || fail "no connection log line: $(cat "$WORK/tcpserver.log")"
say "the server log went to tcpserver's standard error"
say "ok"
