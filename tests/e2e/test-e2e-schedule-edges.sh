#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# test-e2e-schedule-edges.sh: zuma-schedulerd against the real
# zuma-snapshotd, a real ext4 on loop devices, udev names and a private bus,
# for what test-e2e-schedule.sh leaves out:
#
#   1. --every 15m --keep 4 on the test clock, from 2024-02-29 22:50 UTC
#      (a leap day, the end of a month), 4 simulated hours in steps of 1 to
#      25 minutes from the seed (some steps pass two instants: one catch-up),
#      with writes between them: the snapshots are named VOL-every-...-HH:MM
#      on :00, :15, :30 and :45, one per instant, pruned to the newest 4, and
#      are exactly those tests/e2e/sched-model.py computes (names,
#      priorities, kept count);
#   2. the server killed (kill -9) while the scheduler holds the origin's
#      file system frozen for a scheduled snapshot: the scheduler stops there
#      (--test-hang-after-freeze), the server is stopped (SIGSTOP), the
#      scheduler let go (RUN_DIR/resume) to call CreateSnapshot, and the
#      server killed once that call waits in its socket.  The file system is
#      thawed at once (a write blocked by the freeze returns, with EIO:
#      the device went with the server), the
#      scheduler signals SnapshotFailed and shows the error in LastError;
#      the file system it froze is clean on the restarted server, the
#      scheduler takes the missed instant when the server is back, and the
#      next scheduled snapshot, frozen again, is taken as usual;
#   3. the real clock (no --test-clock: the CLOCK_REALTIME timerfd):
#      --every 1m --keep 2 takes its first snapshot at once and the next
#      when the wall clock passes the next minute (within 10 s), and
#      prunes to 2.  This waits for real time, up to a minute; every is at
#      least 1m (docs/schedules.md), so no shorter wait is possible.
#      ZUMA_SCHED_REAL_CLOCK=0 leaves it out.
#
# About 30 s, plus the wait for the minute to turn.  The seed (steps, file
# sizes) is printed; ZUMA_TEST_SEED=N replays a run.
# Needs root, loop devices, /dev/fuse, dbus-daemon, python3, mkfs.ext4,
# e2fsck, ss; exits 77 (skip) without them.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=e2e-lib.sh
. "$(dirname "$(realpath "$0")")/e2e-lib.sh"
# shellcheck source-path=SCRIPTDIR source=e2e-scheduler.sh
. "$(dirname "$(realpath "$0")")/e2e-scheduler.sh"

for tool in mkfs.ext4 e2fsck gdbus ss; do
        command -v "$tool" >/dev/null || zuma_test_skip "$tool is not installed"
done
SEED=${ZUMA_TEST_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "seed: $SEED (replay with ZUMA_TEST_SEED=$SEED)"
RANDOM=$SEED
REAL_CLOCK=${ZUMA_SCHED_REAL_CLOCK:-1}
VOL=edgevol
EVERY=900
EVERY_KEEP=4
NOW=$(date -u -d '2024-02-29 22:50:00' +%s)
MONITOR_PID=
SCHED_STATE=
SCHED_RUN=
MNT=
LOOKS=

step() { e2e_step "$@"; }
fail() { e2e_fail "$@"; }
zctl() { e2e_zumactl "$@"; }

edges_cleanup() {
        local status=$?

        set +e
        # A server left stopped would hang the unmount below.
        server=$(zuma_test_pid snapshotd)
        [ -n "$server" ] && kill -CONT "$server" 2>/dev/null
        [ -n "$MONITOR_PID" ] && kill "$MONITOR_PID" 2>/dev/null
        sched_cleanup_kill
        [ -n "$MNT" ] && fsfreeze -u "$MNT" 2>/dev/null
        [ -n "$MNT" ] && mountpoint -q "$MNT" && umount "$MNT"
        (exit "$status")
        e2e_cleanup
}

# The scheduled snapshots, one "NAME PRIORITY" a line, sorted by name.
scheduled_table() {
        zctl --json status $VOL |
                python3 -c 'import json, re, sys
d = json.load(sys.stdin)
for s in d.get("snapshots", []):
        if re.fullmatch(sys.argv[1] + r"-(every|hourly|daily|weekly|monthly|yearly)-\d{4}-\d\d-\d\d-\d\d:\d\d", s["name"]):
                print(s["name"], s["priority"])' $VOL | LC_ALL=C sort
}

# check_model WHEN: the scheduled snapshots and the kept count are the
# model's for the looks so far.
check_model() {
        local expected=$ZUMA_TEST_DIR/expected actual=$ZUMA_TEST_DIR/actual
        local model=(python3 "$E2E_LIB_DIR/sched-model.py" --every "$EVERY" "$EVERY_KEEP")

        "${model[@]}" $VOL "$LOOKS" /dev/null 0 0 0 0 0 >"$expected"
        scheduled_table >"$actual"
        if ! cmp -s "$expected" "$actual"; then
                diff -u "$expected" "$actual" >&2
                fail "$1: the scheduled snapshots differ from the model"
        fi
        kept=$(schedule_json | e2e_json 'd["kept"]["every"]')
        [ "every $kept" = "$("${model[@]}" --counts $VOL "$LOOKS" /dev/null 0 0 0 0 0)" ] ||
                fail "$1: the schedule says it keeps $kept every snapshots"
}

mount_origin() {
        local dev

        dev=$(e2e_volume_device $VOL)
        mount -t ext4 "$dev" "$MNT" || fail "cannot mount $dev"
}

write_some() {
        head -c $((RANDOM * 4 % 65536 + 1)) /dev/urandom >"$MNT/f$((RANDOM % 16))"
}

# --- setup ---

e2e_init
trap edges_cleanup EXIT
SCHED_STATE=$ZUMA_TEST_DIR/sched-state
SCHED_RUN=$ZUMA_TEST_DIR/sched-run
MNT=$ZUMA_TEST_DIR/mnt/$VOL
LOOKS=$ZUMA_TEST_DIR/looks
: >"$LOOKS"
mkdir -p "$MNT"

step "volume $VOL on ext4"
origin=$(zuma_test_loop_device origin 64M)
store=$(zuma_test_loop_device store 128M)
zctl define volume $VOL "$origin" "$store" --initialize >/dev/null
mkfs.ext4 -q -F "$(e2e_volume_device $VOL)" || fail "mkfs.ext4 failed"
mount_origin

# --- 1. every 15 minutes ---

step "--every 15m --keep 4 from $(date -u -d "@$NOW" '+%F %T') UTC, 4 simulated hours"
sched_start --test-clock
zctl define schedule $VOL --every 15m --keep $EVERY_KEEP >/dev/null
echo "$NOW" >>"$LOOKS"
first=$(schedule_json | e2e_json 'd["last_snapshot"]')
[ "$first" = "$VOL-every-2024-02-29-22:45" ] || fail "the first snapshot is '$first'"
end=$((NOW + 4 * 3600))
took_before=$(grep -c ": took $VOL-" "$ZUMA_TEST_DIR/schedulerd.log")
instants=0
while [ "$NOW" -lt $end ]; do
        stride=$((60 + RANDOM % 1440))
        [ $(((NOW + stride) / EVERY)) = $((NOW / EVERY)) ] || instants=$((instants + 1))
        write_some
        advance $stride
        [ "$(scheduled_table | wc -l)" -le $EVERY_KEEP ] || fail "more than $EVERY_KEEP kept"
done
took=$(($(grep -c ": took $VOL-" "$ZUMA_TEST_DIR/schedulerd.log") - took_before))
[ $took = $instants ] || fail "$instants steps past an instant took $took snapshots"
check_model "after 4 hours"
scheduled_table | sed 's/^/   /'
bad=$(scheduled_table | cut -d' ' -f1 | grep -Ev "^$VOL-every-[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{2}:(00|15|30|45)$" || true)
[ -z "$bad" ] || fail "not named as documented: $bad"
[ "$(scheduled_table | wc -l)" = $EVERY_KEEP ] || fail "not pruned to $EVERY_KEEP"
echo "   $took snapshots for $instants steps, pruned to $EVERY_KEEP"

# --- 2. the server dies while the file system is frozen ---

# ss_waiting PID: a byte waits in a socket of process PID (stopped).
ss_waiting() {
        ss -x -p -H 2>/dev/null | awk -v pid="pid=$1," 'index($0, pid) && $3 > 0 { found = 1 }
                END { exit !found }'
}

# freeze_for_next_instant: the clock moved a minute past the next instant,
# in the background (the scheduler answers once it has acted); waits until
# the scheduler, on --test-hang-after-freeze, stops with the file system
# frozen.  Sets INSTANT and ADVANCE_PID.
freeze_for_next_instant() {
        local stride deadline=$((SECONDS + 60))

        INSTANT=$(((NOW / EVERY + 1) * EVERY))
        stride=$((INSTANT + 60 - NOW))
        NOW=$((NOW + stride))
        rm -f "$ZUMA_TEST_DIR/advance.status"
        (
                status=0
                gdbus call --system --timeout 600 -d $SCHED -o $SCHED_MANAGER \
                        -m $SCHED.TestClock.Advance $stride '{}' >/dev/null || status=$?
                echo $status >"$ZUMA_TEST_DIR/advance.status"
        ) &
        ADVANCE_PID=$!
        until [ -e "$SCHED_RUN/frozen" ]; do
                [ $SECONDS -lt $deadline ] || fail "the scheduler did not freeze"
                sleep 0.05
        done
        rm -f "$SCHED_RUN/frozen"
        E2E_FROZEN=$MNT
}

# resume_and_wait: lets the scheduler go on from the freeze and waits for
# its answer to the Advance.
resume_and_wait() {
        echo go >"$SCHED_RUN/resume"
        wait "$ADVANCE_PID" || true
        [ "$(cat "$ZUMA_TEST_DIR/advance.status")" = 0 ] || fail "TestClock.Advance failed"
}

instant_name() {
        echo "$VOL-every-$(date -u -d "@$1" +%Y-%m-%d-%H:%M)"
}

step "kill -9 of the server while the scheduler holds the file system frozen"
sched_stop
sched_start --test-clock --test-hang-after-freeze --freeze-timeout 300
gdbus monitor --system -d $SCHED >"$ZUMA_TEST_DIR/signals" 2>&1 &
MONITOR_PID=$!
deadline=$((SECONDS + ZUMA_TEST_TIMEOUT))
until grep -q "is owned by" "$ZUMA_TEST_DIR/signals"; do
        [ $SECONDS -lt $deadline ] || fail "gdbus monitor did not start: $(cat "$ZUMA_TEST_DIR/signals")"
        sleep 0.05
done
write_some
freeze_for_next_instant
missed=$(instant_name $INSTANT)
(echo probe >"$MNT/probe") 2>"$ZUMA_TEST_DIR/probe.err" &
probe=$!
server=$(zuma_test_pid snapshotd)
zuma_test_freeze_process "$server" || fail "the server did not stop"
echo go >"$SCHED_RUN/resume"
# The scheduler's CreateSnapshot reaches the stopped server's socket.
deadline=$((SECONDS + 30))
until ss_waiting "$server"; do
        if [ $SECONDS -ge $deadline ]; then
                ss -x -p -H | grep "pid=$server," >&2
                tail -n 20 "$ZUMA_TEST_DIR/schedulerd.log" >&2
                fail "no call reached the stopped server"
        fi
        sleep 0.05
done
zuma_test_alive $probe || fail "a write went through the frozen file system"
zuma_test_kill_daemon
deadline=$((SECONDS + 10))
while zuma_test_alive $probe; do
        [ $SECONDS -lt $deadline ] || fail "the file system stayed frozen after the server died"
        sleep 0.05
done
status=0
wait $probe || status=$?
E2E_FROZEN=
echo "   thawed: the blocked write ended (exit $status$(sed 's/^/: /' "$ZUMA_TEST_DIR/probe.err"))"
wait "$ADVANCE_PID" || true
[ "$(cat "$ZUMA_TEST_DIR/advance.status")" = 0 ] || fail "TestClock.Advance failed"
grep -q "frozen for" <(tail -n 20 "$ZUMA_TEST_DIR/schedulerd.log") ||
        fail "the scheduler did not log the thaw"
error=$(schedule_json | e2e_json 'd["last_error"]')
echo "   last error: $error"
case "$error" in "$missed: "*) ;; *) fail "LastError does not report $missed: '$error'" ;; esac
deadline=$((SECONDS + ZUMA_TEST_TIMEOUT))
until grep -q "SnapshotFailed.*'$missed'" "$ZUMA_TEST_DIR/signals"; do
        [ $SECONDS -lt $deadline ] || fail "no SnapshotFailed for $missed: $(cat "$ZUMA_TEST_DIR/signals")"
        sleep 0.05
done
grep "SnapshotFailed" "$ZUMA_TEST_DIR/signals" | sed 's/^/   /'
umount "$MNT" 2>/dev/null || umount -l "$MNT"

step "the server back: the missed instant is taken, then the next one frozen as usual"
zuma_test_start_daemon || fail "cannot restart zuma-snapshotd"
e2e_fsck "$(e2e_volume_device $VOL)" ext4
echo "   the file system frozen when the server died is clean"
clock_call Advance 0
echo "$NOW" >>"$LOOKS"
[ "$(schedule_json | e2e_json 'd["last_snapshot"]')" = "$missed" ] ||
        fail "the missed $missed was not taken when the server came back"
mount_origin
write_some
freeze_for_next_instant
resume_and_wait
E2E_FROZEN=
echo "$NOW" >>"$LOOKS"
next=$(instant_name $INSTANT)
[ "$(schedule_json | e2e_json 'd["last_snapshot"]')" = "$next" ] || fail "$next was not taken"
error=$(schedule_json | e2e_json 'd["last_error"]')
[ -z "$error" ] || fail "last error after the recovery: $error"

check_model "after the server's death"
echo "   took $missed and $next"
kill "$MONITOR_PID"
MONITOR_PID=

# --- 3. the real clock ---

if [ "$REAL_CLOCK" = 1 ]; then
        step "the real clock: --every 1m --keep 2 takes a snapshot when the minute turns"
        sched_stop
        sched_start
        zctl define schedule $VOL --every 1m --keep 2 >/dev/null
        first=$(schedule_json | e2e_json 'd["last_snapshot"]')
        first_instant=$(date -u -d "$(echo "${first#"$VOL-every-"}" |
                sed -E 's/^([0-9-]{10})-/\1 /')" +%s) || fail "the first snapshot is '$first'"
        boundary=$((first_instant + 60))
        second=$(instant_name $boundary)
        echo "   first $first; waiting for $second"
        wait_s=$((boundary - $(date +%s) - 1))
        [ $wait_s -le 0 ] || sleep $wait_s
        until [ "$(schedule_json | e2e_json 'd["last_snapshot"]')" = "$second" ]; do
                [ "$(date +%s)" -le $((boundary + 10)) ] ||
                        fail "no $second 10 s after the minute turned"
                sleep 0.2
        done
        echo "   $second taken $(($(date +%s) - boundary)) s after the minute turned"
        kept=$(scheduled_table | cut -d' ' -f1 | tr '\n' ' ')
        [ "$kept" = "$first $second " ] || fail "kept: $kept, not $first $second"
        echo "   pruned to 2: $kept"
else
        echo "ZUMA_SCHED_REAL_CLOCK=0: the real clock left out"
fi

step "forget"
zctl forget schedule $VOL >/dev/null
sched_stop
echo "PASS"
