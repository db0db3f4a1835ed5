#!/usr/bin/env bash
# The man page's systemd units: wstail.service (hardened) and the socket
# activation pair wstail.socket + wstail@.service (Accept=yes, --inetd).
#
# Always: 'systemd-analyze verify' on the three units as the man page gives
# them (paths and port replaced), with no complaint allowed; then the units'
# command lines run the way systemd would run them, as far as that can be
# done without systemd as PID 1:
#   wstail.service   as an unprivileged uid (DynamicUser=) without new
#                    privileges (setpriv), LimitNOFILE= (prlimit), the file
#                    system read-only (ProtectSystem=strict: unshare -m and
#                    a read-only remount of /), the token from the
#                    EnvironmentFile=;
#   wstail.socket    systemd-socket-activate --inetd -a: one 'wstail serve
#                    --inetd' per connection, as systemd's Accept=yes does.
# When systemd is PID 1 the units are also installed under
# /run/systemd/system (as wstail-ci*), started, used and removed.
source "$(dirname "$0")/lib.sh"
watchdog 180
need systemd-analyze:systemd setpriv:util-linux prlimit:util-linux
setup_work
PORT=$(free_port)
TOKEN="ci-token-$RANDOM$RANDOM"
printf 'WSTAIL_TOKEN=%s\n' "$TOKEN" > "$WORK/wstail.env"
chmod 600 "$WORK/wstail.env"

mkdir -p "$WORK/units" "$WORK/man/man1"
for u in wstail.service wstail.socket wstail@.service; do
    recipe "$u" | localize | sed -e "s|/etc/wstail.env|$WORK/wstail.env|" > "$WORK/units/$u"
    [ -s "$WORK/units/$u" ] || fail "no recipe $u in the man page"
done
# Documentation=man:wstail(1) is checked too: the page must be found.
cp "$MAN" "$WORK/man/man1/wstail.1"
for u in wstail.service wstail.socket wstail@.service; do
    complaints=$(cd "$WORK/units" && MANPATH="$WORK/man" systemd-analyze verify "./$u" 2>&1) ||
        fail "systemd-analyze verify $u: $complaints"
    [ -z "$complaints" ] || fail "systemd-analyze verify $u: $complaints"
done
say "systemd-analyze verify: wstail.service, wstail.socket, wstail@.service clean"

# An unused uid from systemd's DynamicUser= range stands in for the dynamic
# user, with adm as in SupplementaryGroups=. Every wrapper execs the next,
# so the pid started is the server's.
DYN_UID=$(( 61184 + RANDOM % 4000 ))
ADM_GID=$(getent group adm | cut -d: -f3 || true)
nofile=$(sed -n 's/^LimitNOFILE=//p' "$WORK/units/wstail.service")
as_unit=(prlimit "--nofile=$nofile:$nofile" --
    setpriv "--reuid=$DYN_UID" "--regid=$DYN_UID" "--groups=${ADM_GID:-4}" --no-new-privs --)
exec_start() { sed -n 's/^ExecStart=//p' "$WORK/units/$1"; }

# wstail.service
read -r -a cmd <<< "$(exec_start wstail.service)"
readonly_fs=(unshare -m sh -c 'mount --make-rprivate / && mount -o remount,bind,ro / && exec "$@"' sh)
if "${readonly_fs[@]}" true 2>/dev/null; then
    ro_note="the file system read-only"
else
    readonly_fs=()
    ro_note="(unshare is not permitted here: the file system stays writable)"
fi
# EnvironmentFile=: its lines become the environment.
mapfile -t envs < "$WORK/wstail.env"
"${readonly_fs[@]}" env "${envs[@]}" "${as_unit[@]}" "${cmd[@]}" 2> "$WORK/service.log" &
pid=$!
started "$pid"
wait_port "$PORT"
[ "$(readlink "/proc/$pid/exe")" = "$BIN" ] || fail "pid $pid is not the server"
grep -q "^NoNewPrivs:[[:space:]]*1" "/proc/$pid/status" || fail "NoNewPrivs is not set"
grep -q "^Max open files *$nofile *$nofile" "/proc/$pid/limits" ||
    fail "LimitNOFILE did not apply: $(grep 'open files' "/proc/$pid/limits")"
[ "$(stat -c %u "/proc/$pid")" = "$DYN_UID" ] || fail "the server does not run as uid $DYN_UID"
say "wstail.service's command runs as uid $DYN_UID, NoNewPrivs, LimitNOFILE=$nofile, $ro_note"
if OUT=$(env -u WSTAIL_TOKEN timeout 20 "$BIN" tail "ws://127.0.0.1:$PORT$LOGFILE" 2>&1); then
    fail "served without the token"
fi
case $OUT in *"401 Unauthorized"*) ;; *) fail "no 401 without the token: $OUT" ;; esac
export WSTAIL_TOKEN="$TOKEN"
check_tail "ws://127.0.0.1:$PORT$LOGFILE"
unset WSTAIL_TOKEN
kill "$pid"

# wstail.socket + wstail@.service
need systemd-socket-activate:systemd
listen=$(sed -n 's/^ListenStream=//p' "$WORK/units/wstail.socket")
grep -q '^Accept=yes$' "$WORK/units/wstail.socket" || fail "the socket unit lost Accept=yes"
read -r -a cmd <<< "$(exec_start wstail@.service)"
PORT2=$(free_port)
listen=${listen/:$PORT/:$PORT2}
unset WSTAIL_TOKEN
systemd-socket-activate --inetd --accept --listen="$listen" "${as_unit[@]}" "${cmd[@]}" \
    2> "$WORK/socket.log" &
started $!
wait_port "$PORT2"
check_tail "ws://127.0.0.1:$PORT2$LOGFILE"
wait_for_text "$WORK/socket.log" "101 " 5
say "socket activation (Accept=yes, --inetd): one process per connection, log on standard error"

if [ "$(cat /proc/1/comm 2>/dev/null)" != systemd ] || ! command -v systemctl >/dev/null; then
    say "systemd is not PID 1 here: the units were verified and their command lines run, not the units"
    say "ok"
    exit 0
fi

# A real systemd: install runtime units, use them, remove them.
P3=$(free_port)
RUN=/run/systemd/system
for u in wstail.service wstail.socket wstail@.service; do
    dest=$RUN/${u/wstail/wstail-ci}
    sed -e "s|127.0.0.1:$PORT|127.0.0.1:$P3|" "$WORK/units/$u" > "$dest"
    on_exit "rm -f '$dest'; systemctl daemon-reload"
done
on_exit "systemctl stop wstail-ci.service wstail-ci.socket 2>/dev/null"
systemctl daemon-reload
systemctl start wstail-ci.service
wait_port "$P3"
export WSTAIL_TOKEN="$TOKEN"
check_tail "ws://127.0.0.1:$P3$LOGFILE"
systemctl stop wstail-ci.service
unset WSTAIL_TOKEN
systemctl start wstail-ci.socket
wait_port "$P3"
check_tail "ws://127.0.0.1:$P3$LOGFILE"
systemctl stop wstail-ci.socket
say "the units ran under systemd"
say "ok"
