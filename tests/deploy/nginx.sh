#!/usr/bin/env bash
# The man page's nginx recipe: nginx terminates TLS (a self-signed
# certificate) and passes /logs/ on to 'wstail serve --base-path /logs',
# upgrading WebSocket connections; wstail runs as the man page's service
# does. Checked: the page, the list and a 101 upgrade through TLS (curl),
# the same by the proxy's name (admitted by the service's --allow-host)
# and another name refused, a browser Origin through TLS, a refusal's
# reason through the proxy, 'wstail tail' through nginx's plain listener,
# 'wstail tail' over TLS through the man page's socat forwarder, and
# 'wstail tail --retry' across a restart of wstail behind the proxy.
source "$(dirname "$0")/lib.sh"
watchdog 180
need nginx:nginx-light openssl:openssl curl:curl
setup_work
PORT=$(free_port)      # wstail
TLS=$(free_port)       # nginx, https
PLAIN=$(free_port)     # nginx, http (for the client without TLS)

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=logs.example.org \
    -addext "subjectAltName=DNS:logs.example.org,IP:127.0.0.1" \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null ||
    fail "openssl could not make a certificate"

mkdir -p "$WORK/nginx"
{
    echo "pid $WORK/nginx/nginx.pid;"
    echo "error_log $WORK/nginx/error.log;"
    echo "worker_processes 1;"
    echo "events { worker_connections 64; }"
    echo "http {"
    echo "  access_log $WORK/nginx/access.log;"
    for t in client_body proxy fastcgi uwsgi scgi; do
        echo "  ${t}_temp_path $WORK/nginx/$t;"
    done
    recipe nginx | localize | sed \
        -e "s|listen 443 ssl;|listen 127.0.0.1:$TLS ssl; listen 127.0.0.1:$PLAIN;|" \
        -e "s|/etc/ssl/certs/logs.example.org.pem|$WORK/cert.pem|" \
        -e "s|/etc/ssl/private/logs.example.org.key|$WORK/key.pem|"
    echo "}"
} > "$WORK/nginx/nginx.conf"
nginx -t -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" 2> "$WORK/nginx/t.log" ||
    fail "nginx -t: $(cat "$WORK/nginx/t.log")"
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off;' 2>> "$WORK/nginx/error.log" &
started $!

# wstail as the man page's service runs it (--base-path /logs, and
# --allow-host for the name nginx passes on).
SERVE=$(recipe wstail.service | localize | sed -n 's/^ExecStart=//p')
case $SERVE in *"--allow-host logs.example.org"*) ;; *) fail "the service recipe names no --allow-host: $SERVE" ;; esac
# Behind the proxy every client has the proxy's address: wstail's own
# per-address bound is off, and nginx's limit_conn bounds each client.
case $SERVE in *"--max-per-address 0"*) ;; *) fail "the service recipe keeps the per-address bound behind the proxy: $SERVE" ;; esac
grep -q "limit_conn per_client" "$WORK/nginx/nginx.conf" || fail "the nginx recipe has no limit_conn"
serve() {
    # shellcheck disable=SC2086
    $SERVE 2>> "$WORK/serve.log" &
    SERVE_PID=$!
    started "$SERVE_PID"
}
serve
wait_port "$PORT"
wait_port "$TLS"
wait_port "$PLAIN"

base="https://127.0.0.1:$TLS/logs"
page=$(curl -sSk --max-time 10 -w '%{http_code}' "$base/") || fail "curl $base/"
[ "${page: -3}" = 200 ] || fail "the page through TLS: ${page: -3}"
say "page through TLS: 200"
list=$(curl -sSk --max-time 10 "$base/?list")
case $list in *"\"$LOGFILE\""*) ;; *) fail "list through TLS: $list" ;; esac
say "list through TLS names $LOGFILE"

# A WebSocket upgrade through TLS, as a browser on this origin would send it.
upgrade() {
    curl -sSk --http1.1 -i -N --max-time 3 \
        -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
        -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' \
        -H "Origin: $1" "$base$LOGFILE?format=text&lines=1" 2>/dev/null || true
}
got=$(upgrade "https://127.0.0.1:$TLS" | tr -d '\0' | tr -c '[:print:]\n' ' ')
case $got in
    "HTTP/1.1 101 "*"third line"*) ;;
    *) fail "no 101 with data through TLS: $got" ;;
esac
say "WebSocket upgrade through TLS: 101 and the last line"
got=$(upgrade "https://evil.example" | head -1)
case $got in "HTTP/1.1 403 "*) ;; *) fail "a foreign origin was not refused: $got" ;; esac
say "a foreign origin through TLS: 403"

# By the name browsers use, as the recipe means it: nginx passes
# 'Host: logs.example.org:PORT' on, which --allow-host admits; another
# name (a DNS rebinding page's) is refused, saying which --allow-host to add.
named="https://logs.example.org:$TLS/logs"
resolve=(--resolve "logs.example.org:$TLS:127.0.0.1" --resolve "rebind.example:$TLS:127.0.0.1")
list=$(curl -sSk --max-time 10 "${resolve[@]}" "$named/?list")
case $list in *"\"$LOGFILE\""*) ;; *) fail "list by name through TLS: $list" ;; esac
got=$(curl -sSk --http1.1 -i -N --max-time 3 "${resolve[@]}" \
    -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
    -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' \
    -H "Origin: https://logs.example.org:$TLS" "$named$LOGFILE?format=text&lines=1" 2>/dev/null |
    tr -d '\0' | tr -c '[:print:]\n' ' ' || true)
case $got in
    "HTTP/1.1 101 "*"third line"*) ;;
    *) fail "no 101 with data by name through TLS: $got" ;;
esac
say "by name through TLS: the list and a WebSocket upgrade"
got=$(curl -sSk --max-time 10 "${resolve[@]}" "https://rebind.example:$TLS/logs/?list")
case $got in
    "403 Forbidden: "*"--allow-host rebind.example"*) ;;
    *) fail "another name was not refused: $got" ;;
esac
say "another name through TLS: 403, naming --allow-host rebind.example"

check_tail "ws://127.0.0.1:$PLAIN/logs$LOGFILE"
if OUT=$(timeout 20 "$BIN" tail "ws://127.0.0.1:$PLAIN/logs/etc/passwd" 2>&1); then
    fail "/etc/passwd was served"
fi
case $OUT in
    *": 403 Forbidden: the path is outside the served roots") ;;
    *) fail "the refusal's reason did not come through nginx: $OUT" ;;
esac
say "refusal through nginx: $OUT"

# wstail tail over TLS, through the man page's local socat forwarder.
need socat:socat
FWD=$(free_port)
fwd=$(recipe socat | head -1 | sed -e 's/ &$//' -e "s|8766|$FWD|" \
    -e "s|OPENSSL:logs.example.org:443|OPENSSL:127.0.0.1:$TLS,cafile=$WORK/cert.pem,commonname=logs.example.org|")
say "$fwd"
# shellcheck disable=SC2086
$fwd 2> "$WORK/socat.log" &
started $!
wait_port "$FWD"
check_tail "ws://127.0.0.1:$FWD/logs$LOGFILE"
grep -q "GET /logs$LOGFILE" "$WORK/nginx/access.log" || fail "nginx did not log the requests"

# --retry through the proxy: while wstail restarts, nginx answers 502 and
# the client keeps trying, then resumes where it stopped.
out="$WORK/retry.out"
timeout 60 "$BIN" tail -f --retry -n 1 "ws://127.0.0.1:$PLAIN/logs$LOGFILE" > "$out" 2>&1 &
started $!
wait_for_text "$out" "$(tail -n 1 "$LOGFILE")" 10
kill "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true
echo "written while wstail was down" >> "$LOGFILE"
wait_for_text "$out" "502 Bad Gateway; retrying in" 15
serve
wait_for_text "$out" "written while wstail was down" 20
wait_for_text "$out" "reconnected; resuming at byte" 1
say "--retry through nginx: 502 while wstail was down, then resumed"
say "ok"
