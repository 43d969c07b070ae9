#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# test-notifyd.sh: zuma-notifyd between the real zuma-snapshotd (private
# system bus, real loop devices) and a real notification server: dunst,
# under Xvfb, on a private session bus (dbus-run-session with a
# configuration of the test's own: no activation, so a killed dunst stays
# gone).  `dunst -print` writes each notification it receives; the test
# reads summary, body and urgency from there (dunst-records.py; the helpers
# are e2e-notifyd.sh's, shared with test-notifyd-replication.sh).
#
#   1. one snapshot: "Snapshot of VOL taken", its name, urgency LOW;
#   2. four more within the window ([coalesce] window=3s): they update the
#      same notification (same id) into "5 snapshots of VOL taken ... the
#      newest is ..." in fewer posts than snapshots;
#   3. the store filled by writes to the origin: "over 80% full" NORMAL,
#      "over 90% full" CRITICAL, with the forecast when the server has
#      StoreFullInSeconds (else the no-forecast sentence); then full: the
#      auto-deleted snapshots in one "deleted: store full" NORMAL;
#   4. kill -9 of zuma-snapshotd with the volume running: "Zumastor snapshot
#      server stopped unexpectedly" CRITICAL naming it; restarted, a new
#      snapshot is told again (the notifier followed the server back);
#   5. dunst killed: snapshots taken, the notifier lives, logs the failed
#      post once and uses (almost) no CPU over a few seconds
#      (/proc/PID/stat utime+stime); dunst back: notifications arrive again;
#   6. zuma-schedulerd on its test clock, a schedule whose post command
#      fails: the scheduled snapshot is told, and "Post-snapshot command of
#      VOL failed" CRITICAL; the volume stopped and the clock past the next
#      instant: "Scheduled snapshot of VOL failed" or "... missed" (Overdue)
#      CRITICAL, each told once however often the scheduler retries;
#   7. SIGTERM: the notifier exits 0.
#
# The seed (the written data) is printed; ZUMA_TEST_SEED=N replays it.
# Needs root, loop devices, /dev/fuse, dbus-daemon, dbus-run-session,
# dunst, xvfb-run (and xauth), python3; exits 77 (skip) without them.
set -euo pipefail

HERE=$(dirname "$(realpath "$0")")
# shellcheck source=e2e-notifyd.sh
. "$HERE/e2e-notifyd.sh"
notifyd_private_session "$@"

# shellcheck source=e2e-lib.sh
. "$HERE/e2e-lib.sh"

: "${ZUMA_NOTIFYD:=$ZUMA_BUILD_DIR/agents/notifyd/zuma-notifyd}"
[ -x "$ZUMA_NOTIFYD" ] || zuma_test_skip "no zuma-notifyd at $ZUMA_NOTIFYD (build first)"
SEED=${ZUMA_TEST_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "seed: $SEED (replay with ZUMA_TEST_SEED=$SEED)"
VOL=notevol
WINDOW=3
SCHED_PID=
SCHED=org.zumastor.Scheduler1
ORIGIN=

notifyd_cleanup() {
        local status=$?

        set +e
        [ -z "$SCHED_PID" ] || kill -KILL "$SCHED_PID" 2>/dev/null
        notifyd_stop_all
        (exit "$status")
        e2e_cleanup
}

# Clock ticks of CPU (user + system) the process used so far.
cpu_ticks() {
        awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# --- zuma-schedulerd on its test clock (as in test-e2e-schedule.sh) ---

: "${ZUMA_SCHEDULERD:=$ZUMA_BUILD_DIR/agents/schedulerd/zuma-schedulerd}"
NOW=$(date -u -d '2027-01-10 10:30:00' +%s)

sched_start() {
        G_DEBUG=fatal-criticals "$ZUMA_SCHEDULERD" --bus-address "$DBUS_SYSTEM_BUS_ADDRESS" \
                --state-dir "$ZUMA_TEST_DIR/sched-state" --run-dir "$ZUMA_TEST_DIR/sched-run" \
                --test-clock "$NOW" --verbose >>"$ZUMA_TEST_DIR/schedulerd.log" 2>&1 </dev/null &
        SCHED_PID=$!
        wait_owner "$SCHED_PID" zuma_test_has_owner $SCHED zuma-schedulerd
}

# advance SECONDS: the test clock moves; answered once the scheduler acted.
advance() {
        NOW=$((NOW + $1))
        gdbus call --system --timeout 300 -d $SCHED -o /org/zumastor/Scheduler1/Manager \
                -m $SCHED.TestClock.Advance -- "$1" '{}' >/dev/null || fail "TestClock.Advance $1 failed"
}

# --- the volume ---

snapshot() {
        local out

        out=$(zctl snapshot "$VOL" "$1")
        [ "$out" = "$1" ] || fail "zumactl snapshot printed '$out', not $1"
}

used_percent() {
        volume_field store_used_percent | cut -d. -f1
}

# write_mib: the next MiB of the origin (counted in WRITTEN), of data
# drawn from the seed.
WRITTEN=0
write_mib() {
        [ $WRITTEN -lt 64 ] || fail "the whole origin is written"
        python3 -c 'import random, sys
sys.stdout.buffer.write(random.Random(sys.argv[1]).randbytes(1 << 20))' "$SEED-$WRITTEN" |
                dd of="$ORIGIN" bs=1M seek=$WRITTEN count=1 iflag=fullblock oflag=direct \
                        status=none || fail "writing MiB $WRITTEN of $ORIGIN failed"
        WRITTEN=$((WRITTEN + 1))
}

volume_field() {
        zctl --json status "$VOL" | e2e_json "d[\"$1\"]"
}

# write_mib_settled: write_mib, then wait (5 s at most) for the server's
# figures to show it (they are refreshed every second), so that the next
# look at the usage is exact.
write_mib_settled() {
        local before

        before=$(volume_field store_free_bytes)
        write_mib
        settle_from "$before"
}

# settle_from FREE: waits (5 s at most) until the store's free bytes are no
# longer FREE.
settle_from() {
        local deadline=$((SECONDS + 5))

        while [ "$(volume_field store_free_bytes)" = "$1" ] && [ $SECONDS -lt $deadline ]; do
                sleep 0.1
        done
}

# write_until PERCENT: MiBs over the origin until the store is at least
# PERCENT used (1 MiB is about 6% of the 16 MiB store: 81 ends below 90,
# 91 below 100).  All but the last MiB or two the figures say are missing
# go at once (each fresh MiB copies out one MiB); the rest one at a time,
# each settled, so the store ends just past PERCENT.
write_until() {
        local used size free bulk

        size=$(volume_field store_size)
        free=$(volume_field store_free_bytes)
        bulk=$(((size * $1 / 100 - (size - free)) / (1024 * 1024) - 1))
        if [ "$bulk" -gt 0 ]; then
                while [ "$bulk" -gt 0 ]; do
                        write_mib
                        bulk=$((bulk - 1))
                done
                settle_from "$free"
        fi
        used=$(used_percent)
        while [ "$used" -lt "$1" ]; do
                write_mib_settled
                used=$(used_percent)
        done
        step "store $used% used after $WRITTEN MiB written"
}

trap notifyd_cleanup EXIT
e2e_init
DUNST_OUT=$ZUMA_TEST_DIR/dunst.out
: >"$DUNST_OUT"
cat >"$ZUMA_TEST_DIR/notify.conf" <<CONF
[events]
snapshot-taken=true
[coalesce]
window=${WINDOW}s
batch=1d
CONF

step "dunst on the session bus, zuma-notifyd (window ${WINDOW}s)"
dunst_start
notifyd_start

step "volume $VOL: origin 64M, store 16M, policy autodelete"
ORIGIN_LOOP=$(zuma_test_loop_device "$VOL-origin" 64M)
STORE_LOOP=$(zuma_test_loop_device "$VOL-store" 16M)
zctl define volume "$VOL" "$ORIGIN_LOOP" "$STORE_LOOP" --initialize --chunk-size 16K >/dev/null
ORIGIN=$(e2e_volume_device "$VOL")

# --- 1, 2: snapshots, coalesced ---
n=$(record_count)
snapshot s1
first=$(wait_record "$n" "of $VOL taken")
expect "$first" LOW "Snapshot of $VOL taken" "^s1$"
id=$(field "$first" 1)
step "four more snapshots within the window"
for s in s2 s3 s4 s5; do
        snapshot $s
done
last=$(wait_record "$n" "^5 snapshots of $VOL taken" $((WINDOW + ZUMA_TEST_TIMEOUT)))
expect "$last" LOW "5 snapshots of $VOL taken" "^since [0-9]{2}:[0-9]{2}; the newest is s5$"
posts=$(records | tail -n +$((n + 1)) | awk -F '\t' -v v="of $VOL taken" 'index($4, v)' | wc -l)
ids=$(records | tail -n +$((n + 1)) | awk -F '\t' -v v="of $VOL taken" 'index($4, v) { print $1 }' | sort -u)
[ "$ids" = "$id" ] || fail "the coalesced posts have ids '$(echo "$ids" | tr '\n' ' ')', want all $id (replaces_id)"
[ "$posts" -lt 5 ] || fail "5 snapshots made $posts posts: not coalesced"
step "5 snapshots: $posts posts of notification $id"

# --- 3: usage thresholds, then a full store ---
forecast="^No forecast: "
if gdbus introspect --system --dest org.zumastor.Zumastor1 \
        --object-path "/org/zumastor/Zumastor1/volumes/$VOL" | grep -q StoreFullInSeconds; then
        forecast="^Its store will be full in (less than a minute|about .*) at the current rate\.$|^No forecast: "
        step "the server has StoreFullInSeconds: a forecast is expected once it grows"
else
        step "the server has no StoreFullInSeconds: the no-forecast sentence is expected"
fi
n=$(record_count)
write_until 81
rec=$(wait_record "$n" "^Snapshot store of $VOL over 80% full")
expect "$rec" NORMAL "Snapshot store of $VOL over 80% full" "$forecast"
n=$(record_count)
write_until 91
rec=$(wait_record "$n" "^Snapshot store of $VOL over 90% full")
expect "$rec" CRITICAL "Snapshot store of $VOL over 90% full" "$forecast"
step "writing past the end of the store: autodelete"
n=$(record_count)
while [ "$(volume_field snapshot_count)" = 5 ]; do
        write_mib
done
rec=$(wait_record "$n" "deleted: store full")
case "$(field "$rec" 4)" in
"Snapshot of $VOL deleted: store full")
        expect "$rec" NORMAL "Snapshot of $VOL deleted: store full" "^s[1-5] was deleted to make room for writes to $VOL\.$" ;;
*)
        expect "$rec" NORMAL "$(field "$rec" 4)" "to make room for writes; the last was s[1-5]\.$"
        field "$rec" 4 | grep -Eq "^[2-5] snapshots of $VOL deleted: store full$" ||
                fail "summary '$(field "$rec" 4)'" ;;
esac

# --- 4: the server killed and back ---
step "kill -9 of zuma-snapshotd with $VOL running"
n=$(record_count)
zuma_test_kill_daemon
rec=$(wait_record "$n" "^Zumastor snapshot server stopped unexpectedly")
expect "$rec" CRITICAL "Zumastor snapshot server stopped unexpectedly" "^It left the bus while $VOL was running\.$"
notifyd_alive
step "zuma-snapshotd restarted"
zuma_test_start_daemon || fail "cannot restart zuma-snapshotd"
deadline=$((SECONDS + ZUMA_TEST_TIMEOUT))
while [ "$(volume_field state)" != running ] && [ $SECONDS -lt $deadline ]; do
        sleep 0.1
done
[ "$(volume_field state)" = running ] || zctl start "$VOL"
n=$(record_count)
snapshot after-restart
rec=$(wait_record "$n" "of $VOL taken.*after-restart" $((WINDOW + ZUMA_TEST_TIMEOUT)))
step "after the restart: $(field "$rec" 4) | $(field "$rec" 5)"
[ "$(field "$rec" 2)" = LOW ] || fail "urgency $(field "$rec" 2) after the restart"

# --- 5: no notification server ---
step "dunst killed; snapshots taken without a notification server"
dunst_stop
sleep $((WINDOW + 1)) # past the window: the next snapshot is posted at once
before=$(cpu_ticks "$NOTIFYD_PID")
for s in absent1 absent2 absent3; do
        snapshot $s
done
sleep $((WINDOW + 2)) # the flush of the held ones fails too
notifyd_alive
after=$(cpu_ticks "$NOTIFYD_PID")
hz=$(getconf CLK_TCK)
step "zuma-notifyd used $((after - before)) ticks (1/$hz s) over $((WINDOW + 2)) s without a server"
# A busy loop would use all of them; a few events cost almost none.
[ $((after - before)) -le $((hz / 5)) ] || fail "zuma-notifyd used $((after - before)) ticks of CPU without a notification server: spinning"
failures=$(grep -c "cannot post notifications" "$ZUMA_TEST_DIR/notifyd.log" || true)
[ "$failures" = 1 ] || fail "the failed posts were logged $failures times at info, want once"

step "dunst back: notifications arrive again"
: >"$DUNST_OUT"
dunst_start
sleep $((WINDOW + 1))
snapshot back
rec=$(wait_record 0 "of $VOL taken.*back$" $((WINDOW + ZUMA_TEST_TIMEOUT)))
expect "$rec" LOW "$(field "$rec" 4)" "the newest is back$|^back$"
grep -q "notifications go through again" "$ZUMA_TEST_DIR/notifyd.log" ||
        fail "zuma-notifyd did not log that notifications go through again"

# --- 6: the scheduler's events ---
if [ -x "$ZUMA_SCHEDULERD" ]; then
        step "zuma-schedulerd on a test clock; schedule hourly 3 with a failing post command"
        sched_start
        zctl define schedule "$VOL" --hourly 3 --post /bin/false >/dev/null
        n=$(record_count)
        advance 3600
        rec=$(wait_record "$n" "^Post-snapshot command of $VOL failed")
        expect "$rec" CRITICAL "Post-snapshot command of $VOL failed" "."
        rec=$(wait_record "$n" "of $VOL taken.*$VOL-hourly-2027-01-10-11:00" $((WINDOW + ZUMA_TEST_TIMEOUT)))
        expect "$rec" LOW "$(field "$rec" 4)" "$VOL-hourly-2027-01-10-11:00$"
        step "$VOL stopped; the clock past the next instant"
        e2e_zumactl_closed stop "$VOL"
        n=$(record_count)
        advance 3600
        rec=$(wait_record "$n" "^Scheduled snapshot of $VOL (missed|failed)\t")
        expect "$rec" CRITICAL "$(field "$rec" 4)" "."
        # Told once: the retries a minute later add nothing.
        advance 60
        advance 60
        records | tail -n +$((n + 1)) | cut -f 4 | sort | uniq -d | grep . &&
                fail "a scheduled snapshot's failure or miss was told twice"
        zctl start "$VOL"
        kill -TERM "$SCHED_PID"
        zuma_test_wait_exit "$SCHED_PID" 30 || fail "zuma-schedulerd exited with $?"
        SCHED_PID=
else
        step "SKIPPED the scheduler's events: no zuma-schedulerd at $ZUMA_SCHEDULERD"
fi
notifyd_alive

# --- 7: the end ---
step "SIGTERM: zuma-notifyd exits 0"
kill -TERM "$NOTIFYD_PID"
status=0
wait "$NOTIFYD_PID" || status=$?
NOTIFYD_PID=
[ $status = 0 ] || fail "zuma-notifyd exited with $status"
dunst_stop
step "all passed (seed $SEED)"
