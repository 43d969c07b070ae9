# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# e2e-mounter.sh: what the end-to-end tests of zuma-mounterd share; source
# it after e2e-lib.sh.  The mounter runs on the private bus with its state
# and run directories under ZUMA_TEST_DIR and the template
# ZUMA_TEST_DIR/snaps/{volume}@{snapshot}; its log is
# ZUMA_TEST_DIR/mounterd.log.  Skips (77) without a built zuma-mounterd.

: "${ZUMA_MOUNTERD:=$ZUMA_BUILD_DIR/agents/mounterd/zuma-mounterd}"
[ -x "$ZUMA_MOUNTERD" ] || zuma_test_skip "no zuma-mounterd at $ZUMA_MOUNTERD"
E2E_MOUNTER_NAME=org.zumastor.Mounter1
E2E_MOUNTER_PID=

# Starts zuma-mounterd and waits until it owns its name.
e2e_mounter_start() {
        local deadline=$((SECONDS + ZUMA_TEST_TIMEOUT)) dir=$ZUMA_TEST_DIR

        echo "=== zuma-mounterd ($(date +%T))" >>"$dir/mounterd.log"
        G_DEBUG=fatal-criticals "$ZUMA_MOUNTERD" --bus-address "$DBUS_SYSTEM_BUS_ADDRESS" \
                --state-dir "$dir/mounter-state" --run-dir "$dir/mounter-run" \
                --template "$dir/snaps/{volume}@{snapshot}" --verbose \
                >>"$dir/mounterd.log" 2>&1 </dev/null &
        E2E_MOUNTER_PID=$!
        until zuma_test_has_owner $E2E_MOUNTER_NAME; do
                if ! zuma_test_alive "$E2E_MOUNTER_PID" || [ $SECONDS -ge $deadline ]; then
                        tail -n 30 "$dir/mounterd.log" >&2
                        e2e_fail "zuma-mounterd did not take $E2E_MOUNTER_NAME"
                fi
                sleep 0.05
        done
}

# Stops it with SIGTERM (it unmounts what it mounted); fails unless it
# exits cleanly.
e2e_mounter_stop() {
        kill -TERM "$E2E_MOUNTER_PID"
        zuma_test_wait_exit "$E2E_MOUNTER_PID" 30 || e2e_fail "zuma-mounterd exited with $?"
        E2E_MOUNTER_PID=
}

# For EXIT traps: stops it if it runs, whatever happens.
e2e_mounter_kill() {
        if [ -n "$E2E_MOUNTER_PID" ] && zuma_test_alive "$E2E_MOUNTER_PID"; then
                kill -TERM "$E2E_MOUNTER_PID"
                zuma_test_wait_exit "$E2E_MOUNTER_PID" 20
        fi
}

# e2e_expect_exit CODE TEXT ARGS...: zumactl ARGS fails with CODE, saying TEXT.
e2e_expect_exit() {
        local want=$1 text=$2 status=0 err=$ZUMA_TEST_DIR/expect.stderr

        shift 2
        timeout 120 "$ZUMACTL" --no-progress "$@" >/dev/null 2>"$err" || status=$?
        [ "$status" = "$want" ] || e2e_fail "zumactl $* exited with $status, not $want: $(cat "$err")"
        grep -q -- "$text" "$err" || e2e_fail "zumactl $* did not say '$text': $(cat "$err")"
}

# The mounts under ZUMA_TEST_DIR but the server's FUSE mount.
e2e_our_mounts() {
        awk -v dir="$ZUMA_TEST_DIR/" 'index($2, dir) == 1 && $3 != "fuse.zumastor" { print $2 }' \
                /proc/self/mounts
}

# Fails when the mounter logged a warning or a critical, but those
# matching the extended regular expression $1 (expected by the test).
e2e_mounter_quiet() {
        local warned

        warned=$(grep "CRITICAL\|WARNING" "$ZUMA_TEST_DIR/mounterd.log" |
                grep -Ev "${1:-^\$}" || true)
        [ -z "$warned" ] || e2e_fail "the mounter warned: $(echo "$warned" | head -n 3)"
}

# e2e_snapshot_frozen DIR VOL NAME: snapshot NAME of VOL with the file
# system mounted at DIR frozen (consistent); not attached: the mounter
# attaches what it mounts (and detaches it).  E2E_FROZEN tells
# e2e_cleanup (e2e-lib.sh) what to thaw should the snapshot fail.
# shellcheck disable=SC2034
e2e_snapshot_frozen() {
        sync -f "$1"
        E2E_FROZEN=$1
        fsfreeze -f "$1"
        e2e_zumactl snapshot "$2" "$3" --no-attach >/dev/null
        fsfreeze -u "$1"
        E2E_FROZEN=
}

# e2e_ext4_volume VOL: defines VOL on two new 64 MiB loop devices, puts
# ext4 on it and prints its device.
e2e_ext4_volume() {
        local origin store dev

        origin=$(zuma_test_loop_device "$1-origin" 64M)
        store=$(zuma_test_loop_device "$1-store" 64M)
        e2e_zumactl define volume "$1" "$origin" "$store" --initialize >/dev/null
        dev=$(e2e_zumactl --json status "$1" | e2e_json 'd["device"]')
        [ -b "$dev" ] || e2e_fail "volume $1 has no device"
        mkfs.ext4 -q -F -E nodiscard "$dev"
        echo "$dev"
}
