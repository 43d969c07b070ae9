#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# test-polkit.sh ZUMACTL: zuma-snapshotd asks the real polkitd about a
# caller the uid/group rule refuses (agents/common/zuma-auth.c).
#
# On the harness's private system bus (zuma-test-bus.sh) run polkitd
# itself, in a mount namespace where polkit's directories hold only
# dbus/org.zumastor.Zumastor1.policy and the rules this test writes, and
# zuma-snapshotd found through DBUS_SYSTEM_BUS_ADDRESS like the system bus
# in production (not --bus-address, which turns polkit off).  The callers
# are nobody (65534) and daemon (1), with their own group and no
# supplementary groups: neither root nor the administrators' group.
#
#   1. polkitd without a rule for them: mutating calls are refused with
#      AccessDenied after polkitd said no, and change nothing;
#   2. a rule granting org.zumastor.Zumastor1.manage to nobody: the same
#      calls succeed for nobody, and still fail for daemon;
#   3. read-only calls succeed whatever polkitd says, and with none;
#   4. polkitd frozen (SIGSTOP): refusal at the daemon's deadline for
#      polkitd (agents/common/zuma-auth.c), before the client gives up;
#      polkitd gone: refusal at once.  Never a hang.
#
# The daemon keeps no polkit answer (only the caller's credentials, per
# sender, and every call here is a new sender): polkitd is asked at each
# call, so withdrawing the rule (polkitd restarted without it) refuses again.
#
# Skips (77) when polkitd cannot run here, saying why; uses the volume name
# polkitvol, which no other test uses.

# shellcheck disable=SC2317 # the functions check() calls
set -u

ZUMACTL=${1:?usage: test-polkit.sh ZUMACTL}
# Polkit does not depend on the data path: no FUSE, no loop devices of the
# daemon's, no /dev/zumastor links.
: "${ZUMA_TEST_FRONTEND:=none}"

# shellcheck source-path=SCRIPTDIR source=zuma-test-bus.sh
. "$(dirname "$(realpath "$0")")/zuma-test-bus.sh"

zuma_test_require_root
zuma_test_require_polkitd
command -v setpriv >/dev/null || zuma_test_skip "setpriv is not installed"
command -v timeout >/dev/null || zuma_test_skip "timeout is not installed"
[ -x "$ZUMACTL" ] || zuma_test_skip "no zumactl at $ZUMACTL (build first)"
for user in nobody daemon; do
        getent passwd $user >/dev/null || zuma_test_skip "no user $user"
done

VOL=polkitvol
FAILS=0
CHECKS=0

fail() {
        echo "FAIL: $*"
        FAILS=$((FAILS + 1))
}

# as USER WANT ARGS...: runs zumactl ARGS as USER (its own group, no other)
# and checks its exit status (0, or 6 for AccessDenied).  The timeout only
# bounds a hang; 124 is a failure.
as() {
        local user=$1 want=$2 got=0 uid
        shift 2
        uid=$(id -u "$user")
        CHECKS=$((CHECKS + 1))
        OUT=$(timeout 120 setpriv --reuid="$uid" --regid="$(id -g "$user")" --clear-groups \
                "$ZUMACTL" "$@" 2>"$ZUMA_TEST_DIR/err") || got=$?
        ERR=$(cat "$ZUMA_TEST_DIR/err")
        [ $got = 124 ] && ERR="no answer within 120 s; $ERR"
        if [ "$got" = "$want" ]; then
                echo "ok: as $user: zumactl $* -> $got"
        else
                fail "as $user: zumactl $* exited $got, expected $want: $OUT $ERR"
        fi
}

# snapshots: the snapshot names of $VOL, as root sees them.
snapshots() {
        "$ZUMACTL" list "$VOL" 2>&1
}

check() {
        CHECKS=$((CHECKS + 1))
        if "$@"; then
                echo "ok: $CHECK"
        else
                fail "$CHECK"
        fi
}

has_snapshot() { snapshots | grep -qx "$1"; }
lacks_snapshot() { ! snapshots | grep -qx "$1"; }
log_has() { grep -qF -- "$1" "$ZUMA_TEST_DIR/$2"; }

# wait_log FILE TEXT: polls (with the harness's deadline) for TEXT in FILE.
wait_log() {
        local deadline=$((SECONDS + ZUMA_TEST_TIMEOUT))

        until grep -qF -- "$2" "$ZUMA_TEST_DIR/$1"; do
                [ $SECONDS -lt $deadline ] || return 1
                sleep 0.05
        done
}

# read_only USER [VOL]: what needs no authorization.
read_only() {
        as "$1" 0 status
        as "$1" 0 list
        if [ $# = 2 ]; then
                as "$1" 0 --json status "$2"
                as "$1" 0 list "$2"
        fi
}

zuma_test_setup
zuma_test_start_bus || exit 1

# polkit.log() lines in polkitd's log show what it was asked; the grant is
# for nobody alone.
RULES=$ZUMA_TEST_DIR/rules
mkdir -p "$RULES"
cat >"$RULES/10-zuma-test-log.rules" <<'EOF'
polkit.addRule(function(action, subject) {
    if (action.id == "org.zumastor.Zumastor1.manage")
        polkit.log("zuma-test: asked " + action.id + " for " + subject.user +
                   " to " + action.lookup("zumastor.action"));
});
EOF
cat >"$RULES/50-zuma-test-grant.rules" <<'EOF'
polkit.addRule(function(action, subject) {
    if (action.id == "org.zumastor.Zumastor1.manage" && subject.user == "nobody")
        return polkit.Result.YES;
});
EOF

if ! zuma_test_start_polkitd "$RULES/10-zuma-test-log.rules"; then
        # The reason is in its log, printed above.
        zuma_test_skip "polkitd does not run here: $(grep -v '^===' "$ZUMA_TEST_DIR/polkitd.log" |
                tail -n 3 | tr '\n' ' ')"
fi
zuma_test_start_daemon || exit 1
if ! wait_log snapshotd.log "polkit: asking"; then
        if log_has "not available" snapshotd.log ||
                ! log_has "those polkit allows" snapshotd.log; then
                zuma_test_skip "zuma-snapshotd does not ask polkit (built without" \
                        "polkit-gobject-1?): $(grep -i polkit "$ZUMA_TEST_DIR/snapshotd.log")"
        fi
        fail "zuma-snapshotd did not report its polkit authority"
fi
echo "# bus $DBUS_SYSTEM_BUS_ADDRESS, polkitd pid $(zuma_test_pid polkitd), dir $ZUMA_TEST_DIR"
ORIGIN=$(zuma_test_loop_device origin 64M) || exit 1
STORE=$(zuma_test_loop_device store 64M) || exit 1

echo "# 1. polkitd without a rule for the caller: refused, nothing changes"
read_only nobody
as nobody 6 define volume "$VOL" "$ORIGIN" "$STORE" --initialize
CHECK="the refusal is AccessDenied and says who may"
check grep -q "only root" <<<"$ERR"
CHECK="polkitd was asked, with the action's details"
check log_has "zuma-test: asked org.zumastor.Zumastor1.manage for nobody to define volumes" \
        polkitd.log
CHECK="the daemon refused after polkitd's no"
check log_has "refused DefineVolume from uid 65534" snapshotd.log
check log_has "polkit did not authorize org.zumastor.Zumastor1.manage" snapshotd.log
# The raw bus error, without zumactl's mapping.
CHECKS=$((CHECKS + 1))
if ERR=$(timeout 120 setpriv --reuid=65534 --regid=65534 --clear-groups \
        gdbus call --system --dest org.zumastor.Zumastor1 \
        --object-path /org/zumastor/Zumastor1/Manager \
        --method org.zumastor.Zumastor1.Manager.DefineVolume \
        "$VOL" "$ORIGIN" "$STORE" "{'initialize': <true>}" 2>&1); then
        fail "gdbus DefineVolume as nobody succeeded: $ERR"
elif ! grep -q "org.zumastor.Zumastor1.Error.AccessDenied" <<<"$ERR"; then
        fail "gdbus DefineVolume as nobody: not AccessDenied: $ERR"
else
        echo "ok: gdbus DefineVolume as nobody -> org.zumastor.Zumastor1.Error.AccessDenied"
fi
CHECKS=$((CHECKS + 1))
"$ZUMACTL" status "$VOL" >/dev/null 2>&1
status=$?
if [ $status = 3 ]; then
        echo "ok: no volume $VOL was defined"
else
        fail "zumactl status $VOL as root exited $status, expected 3 (NotFound)"
fi

echo "# 2. a rule grants org.zumastor.Zumastor1.manage to nobody"
zuma_test_stop_polkitd || exit 1
zuma_test_start_polkitd "$RULES/10-zuma-test-log.rules" "$RULES/50-zuma-test-grant.rules" ||
        exit 1
as nobody 0 define volume "$VOL" "$ORIGIN" "$STORE" --initialize
CHECKS=$((CHECKS + 1))
if "$ZUMACTL" status "$VOL" >/dev/null 2>&1; then
        echo "ok: $VOL is defined"
else
        fail "$VOL is not defined after nobody's allowed DefineVolume"
fi
as nobody 0 snapshot "$VOL" granted
CHECK="nobody's snapshot exists"
check has_snapshot granted
CHECK="the daemon let nobody in on polkit's word"
check log_has "CreateSnapshot from uid 65534: allowed by polkit" snapshotd.log
# The rule names nobody, not every caller.
as daemon 6 snapshot "$VOL" not-granted
CHECK="daemon's snapshot does not exist"
check lacks_snapshot not-granted
CHECK="polkitd was asked about daemon"
check log_has "zuma-test: asked org.zumastor.Zumastor1.manage for daemon to create snapshots" \
        polkitd.log
read_only nobody "$VOL"

echo "# 1 again: the rule withdrawn (polkitd restarted without it)"
zuma_test_stop_polkitd || exit 1
zuma_test_start_polkitd "$RULES/10-zuma-test-log.rules" || exit 1
as nobody 6 snapshot "$VOL" withdrawn
CHECK="the snapshot refused does not exist"
check lacks_snapshot withdrawn
as nobody 6 stop "$VOL"
CHECKS=$((CHECKS + 1))
if "$ZUMACTL" --json status "$VOL" | grep -q '"running"'; then
        echo "ok: $VOL still runs"
else
        fail "$VOL stopped after a refused Stop: $("$ZUMACTL" --json status "$VOL" 2>&1)"
fi

echo "# 4. polkitd frozen: refused when the daemon stops waiting for it"
POLKITD_PID=$(zuma_test_pid polkitd)
zuma_test_freeze_process "$POLKITD_PID" || fail "polkitd did not stop"
as nobody 6 snapshot "$VOL" frozen
kill -CONT "$POLKITD_PID"
CHECK="the snapshot refused while polkitd was frozen does not exist"
check lacks_snapshot frozen
CHECK="the daemon refused because polkitd did not answer"
check log_has "polkitd did not answer in" snapshotd.log

echo "# 3 and 4. polkitd stopped: read-only calls work, changes are refused"
zuma_test_stop_polkitd || exit 1
read_only nobody "$VOL"
as nobody 6 snapshot "$VOL" no-polkitd
CHECK="the snapshot refused without polkitd does not exist"
check lacks_snapshot no-polkitd
as daemon 6 snapshot "$VOL" no-polkitd-daemon
# Root needs no polkit.
CHECKS=$((CHECKS + 1))
if "$ZUMACTL" snapshot "$VOL" by-root >/dev/null 2>&1 && has_snapshot by-root; then
        echo "ok: root's snapshot without polkitd"
else
        fail "root could not snapshot $VOL without polkitd"
fi
CHECK="only the granted and root's snapshots exist: $(snapshots | tr '\n' ' ')"
check test "$(snapshots | sort | tr '\n' ' ')" = "by-root granted "

status=0
[ $FAILS = 0 ] || status=1
# A clean shutdown is part of the test (and where ASan reports leaks).
zuma_test_stop_daemon || status=1
if grep -q -- '-CRITICAL \*\*' "$ZUMA_TEST_DIR/snapshotd.log"; then
        echo "# a GLib critical in zuma-snapshotd"
        status=1
fi
if [ $status != 0 ]; then
        echo "# daemon log (last 60 lines):"
        tail -n 60 "$ZUMA_TEST_DIR/snapshotd.log" | sed 's/^/# /'
        echo "# polkitd log (last 30 lines):"
        tail -n 30 "$ZUMA_TEST_DIR/polkitd.log" | sed 's/^/# /'
fi
echo "# $CHECKS checks, $FAILS failed"
exit $status
