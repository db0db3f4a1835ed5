#!/usr/bin/env bash
# The man page's crontab lines. The watchdog line relies on a second start
# failing at once (status 1, "address already in use" in the log file) while
# the server runs, and on a start succeeding once it has died: both are run
# here as user nobody, as cron would run them ('sh -c LINE'). Then, unless a
# cron daemon already runs, Debian's cron is started in the foreground with
# the lines in /etc/cron.d (removed afterwards) to run the @reboot line.
source "$(dirname "$0")/lib.sh"
watchdog 180
need setpriv:util-linux
setup_work
PORT=$(free_port)
CRONLOG="$WORK/wstail.log"
touch "$CRONLOG"
chown nobody "$CRONLOG"

# Each line without its schedule; the test's port, paths and log file.
lines=$(recipe crontab | localize | sed -e "s|/var/tmp/wstail.log|$CRONLOG|" \
    -e "s|$BIN serve |$BIN serve --listen 127.0.0.1:$PORT |")
reboot_line=$(grep '^@reboot' <<< "$lines")
watchdog_line=$(grep -v '^@reboot' <<< "$lines")
reboot_cmd=$(sed -E 's/^@reboot[[:space:]]+//' <<< "$reboot_line")
watchdog_cmd=$(sed -E 's/^([^[:space:]]+[[:space:]]+){5}//' <<< "$watchdog_line")
if [ -z "$reboot_cmd" ] || [ -z "$watchdog_cmd" ]; then fail "the crontab recipe is not two lines"; fi
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- sh -c "$1"; }

say "watchdog: $watchdog_cmd"
as_nobody "$watchdog_cmd" &
started $!
wait_port "$PORT"
check_tail "ws://127.0.0.1:$PORT$LOGFILE"

start=$(date +%s%N)
set +e
out=$(timeout 10 setpriv --reuid=nobody --regid=nogroup --clear-groups -- sh -c "$watchdog_cmd" 2>&1)
status=$?
set -e
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$status" = 1 ] || fail "a second start gave status $status (want 1): $out"
[ -z "$out" ] || fail "a second start printed something (cron would mail it): $out"
[ "$ms" -lt 3000 ] || fail "a second start took ${ms} ms"
grep -q "cannot listen on 127.0.0.1:$PORT: address already in use" "$CRONLOG" ||
    fail "no 'address already in use' in the log: $(cat "$CRONLOG")"
say "a second start fails in ${ms} ms with status 1, 'address already in use' in the log file"

# The server dies; the next watchdog run starts it again.
for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
pkill_port() {
    local f p
    for f in /proc/[0-9]*/cmdline; do
        p=${f#/proc/}; p=${p%/cmdline}
        if { tr '\0' ' ' < "$f"; } 2>/dev/null | grep -q "^$BIN serve --listen 127.0.0.1:$PORT "; then
            kill "$p" 2>/dev/null || true
        fi
    done
}
pkill_port
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || break; sleep 0.1; done
as_nobody "$watchdog_cmd" &
started $!
wait_port "$PORT"
check_tail "ws://127.0.0.1:$PORT$LOGFILE"
say "after the server died, the watchdog line started it again"
pkill_port

# The @reboot line under a real cron daemon.
running_cron=""
for f in /proc/[0-9]*/comm; do
    case $(cat "$f" 2>/dev/null) in cron | crond) running_cron=yes ;; esac
done
if [ -n "$running_cron" ]; then
    say "a cron daemon already runs here: the @reboot line was run by hand only"
    say "ok"
    exit 0
fi
need cron:cron
CRONTAB=/etc/cron.d/wstail-ci-$$
on_exit "rm -f '$CRONTAB'"
on_exit pkill_port
printf '# wstail deployment test, removed when it ends\n%s\n' \
    "$(sed -E 's/^@reboot[[:space:]]+/@reboot nobody /' <<< "$reboot_line")" > "$CRONTAB"
chmod 644 "$CRONTAB"
# Debian's cron runs @reboot jobs when it starts, unless this file says it
# already has since boot.
rm -f /run/crond.reboot
cron -f -L 15 > "$WORK/cron.out" 2>&1 &
started $!
for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    sleep 0.1
done
if ! (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    fail "cron did not start the @reboot line within 20 s: $(cat "$WORK/cron.out")"
fi
check_tail "ws://127.0.0.1:$PORT$LOGFILE"
say "cron ran the @reboot line (as nobody)"
say "ok"
