#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# test-e2e-schedule.sh: zuma-schedulerd against the real zuma-snapshotd, a
# real ext4 on loop devices, udev names and a private bus, on the daemon's
# test clock (--test-clock: the org.zumastor.Scheduler1.TestClock interface
# moves the time and answers once the scheduler has acted on it).
#
#   1. volume schedvol, ext4, mounted; schedule hourly 24, daily 7,
#      weekly 3, monthly 2, yearly 1 from 2027-03-20 10:30 UTC for a
#      simulated year, the scheduler in TZ=Europe/Berlin (the year crosses
#      both of its summer time changes);
#   2. bad input (0 and negative counts, an unknown unit, a 10,000-byte
#      command, a missing volume) and an unprivileged caller (setpriv
#      --reuid=65534) are refused with their error codes and change
#      nothing;
#   3. a hand-taken snapshot of each kind (named, server-named) and a
#      pinned scheduled one;
#   4. ZUMA_SCHED_DAYS (default 8) simulated days, hour by hour, with
#      writes between the ticks, and on the way:
#        kill -9 of the scheduler (restarted 2 h later: one catch-up),
#        kill -9 of the server (2 h down; the scheduler follows its name
#          back and catches up),
#        3 days of downtime (exactly one catch-up snapshot),
#        a writer writing through a day of scheduled snapshots (freezes)
#          that never hangs,
#        the scheduler killed with the file system frozen
#          (--test-hang-after-freeze): the watchdog thaws it at once;
#      then the clock set back 3 h and forward again takes and deletes
#      nothing;
#   5. the rest of the year to 2028-03-20 10:30 UTC in steps of 6 h to
#      ZUMA_SCHED_STRIDE_MAX_H (default 42) h from the seed (about 330
#      steps), with writes between them: each
#      step takes exactly one snapshot (the hourly catch-up, named after the
#      largest class it serves), some days get several, some none; the
#      snapshots and kept counts are checked against the model at each new
#      month, and the yearly rolls over to the first snapshot of 2028;
#   6. the scheduled snapshots are exactly those tests/e2e/sched-model.py
#      computes from the times the scheduler looked (names, priorities,
#      kept counts per class), no instant twice, hand-taken and pinned ones
#      untouched, every kept snapshot passes e2fsck -fn, zumactl check
#      says OK (and CRITICAL with a tiny --max-age), forget works.
#
# About 1.5 minutes (one tick costs 0.1-0.2 s: a pre command, a freeze, a
# snapshot, a deletion, each through the bus).  The seed (file sizes, the
# coarse steps) is printed; ZUMA_TEST_SEED=N replays a run.  Needs root,
# loop devices, /dev/fuse, dbus-daemon, python3, mkfs.ext4, e2fsck, setpriv;
# exits 77 (skip) without them.  tests/e2e/test-e2e-schedule-edges.sh has
# --every, the server killed during a freeze and the real clock.
set -euo pipefail

# shellcheck source=e2e-lib.sh
. "$(dirname "$(realpath "$0")")/e2e-lib.sh"
# shellcheck source=e2e-scheduler.sh
. "$(dirname "$(realpath "$0")")/e2e-scheduler.sh"

for tool in mkfs.ext4 e2fsck setpriv gdbus; do
        command -v "$tool" >/dev/null || zuma_test_skip "$tool is not installed"
done
SEED=${ZUMA_TEST_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "seed: $SEED (replay with ZUMA_TEST_SEED=$SEED)"
RANDOM=$SEED
DAYS=${ZUMA_SCHED_DAYS:-8}
STRIDE_MAX_H=${ZUMA_SCHED_STRIDE_MAX_H:-42}
[ "$DAYS" -ge 4 ] && [ "$STRIDE_MAX_H" -gt 6 ] ||
        { echo "ZUMA_SCHED_DAYS must be 4 or more, ZUMA_SCHED_STRIDE_MAX_H over 6" >&2; exit 2; }
TICKS=$((DAYS * 24))
VOL=schedvol
KEEP=(24 7 3 2 1) # hourly daily weekly monthly yearly
# The scheduler's TZ, which must change nothing:
SCHED_TZ=Europe/Berlin
# The hourly days from here cross the change to summer time in
# Europe/Berlin (the scheduler's TZ: it must change nothing) on 2027-03-28,
# the rest of the year its end on 2027-10-31 and the turn of the year.
NOW=$(date -u -d '2027-03-20 10:30:00' +%s)
YEAR_END=$(date -u -d '2028-03-20 10:30:00' +%s)

step() { e2e_step "$@"; }
fail() { e2e_fail "$@"; }
zctl() { e2e_zumactl "$@"; }

SCHED_STATE=
SCHED_RUN=
MNT=
LOOKS=
PINNED=

sched_cleanup() {
        local status=$?

        set +e
        sched_cleanup_kill
        [ -n "$MNT" ] && fsfreeze -u "$MNT" 2>/dev/null
        [ -n "$MNT" ] && mountpoint -q "$MNT" && umount "$MNT"
        (exit "$status")
        e2e_cleanup
}

# All snapshot names with priority and pin, one "NAME PRIORITY PINNED" a line.
snapshot_table() {
        zctl --json status $VOL |
                python3 -c 'import json, sys
d = json.load(sys.stdin)
for s in d.get("snapshots", []):
        print(s["name"], s["priority"], "pinned" if s["pinned"] else "-")' | LC_ALL=C sort
}

scheduled_table() {
        snapshot_table | grep -E "^$VOL-(every|hourly|daily|weekly|monthly|yearly)-[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{2}:[0-9]{2} " || true
}

# check_model WHEN: the scheduled snapshots (names, priorities) and the
# schedule's kept counts per class are those sched-model.py computes from
# the looks so far.
check_model() {
        local expected=$ZUMA_TEST_DIR/expected actual=$ZUMA_TEST_DIR/actual

        python3 "$E2E_LIB_DIR/sched-model.py" $VOL "$LOOKS" "$PINNED" "${KEEP[@]}" >"$expected"
        scheduled_table | awk '{ print $1, $2 }' >"$actual"
        if ! cmp -s "$expected" "$actual"; then
                diff -u "$expected" "$actual" | head -n 60 >&2
                fail "$1: the scheduled snapshots differ from the model"
        fi
        python3 "$E2E_LIB_DIR/sched-model.py" --counts $VOL "$LOOKS" "$PINNED" "${KEEP[@]}" \
                >"$expected.counts"
        schedule_json | python3 -c 'import json, sys
for cls, n in sorted(json.load(sys.stdin)["kept"].items()):
        print(cls, n)' | LC_ALL=C sort >"$actual.counts"
        LC_ALL=C sort -o "$expected.counts" "$expected.counts"
        if ! cmp -s "$expected.counts" "$actual.counts"; then
                diff -u "$expected.counts" "$actual.counts" >&2
                fail "$1: the kept counts per class differ from the model"
        fi
}

# expect_refused CODE WHAT ARGS...: zumactl ARGS exits with CODE and the
# schedule and the snapshots stay as they were.
expect_refused() {
        local want=$1 what=$2 before_sched before_snaps status=0

        shift 2
        before_sched=$(schedule_json)
        before_snaps=$(snapshot_table)
        "$@" >/dev/null 2>"$ZUMA_TEST_DIR/refused.err" || status=$?
        [ "$status" = "$want" ] ||
                fail "$what: exit $status, expected $want: $(cat "$ZUMA_TEST_DIR/refused.err")"
        echo "   refused ($status): $what: $(head -c 200 "$ZUMA_TEST_DIR/refused.err")"
        [ "$(schedule_json)" = "$before_sched" ] || fail "$what changed the schedule"
        [ "$(snapshot_table)" = "$before_snaps" ] || fail "$what changed the snapshots"
}

mount_origin() {
        local dev

        dev=$(e2e_volume_device $VOL)
        mount -t ext4 "$dev" "$MNT" || fail "cannot mount $dev"
}

# --- setup ---

e2e_init
trap sched_cleanup EXIT
SCHED_STATE=$ZUMA_TEST_DIR/sched-state
SCHED_RUN=$ZUMA_TEST_DIR/sched-run
MNT=$ZUMA_TEST_DIR/mnt/$VOL
LOOKS=$ZUMA_TEST_DIR/looks
PINNED=$ZUMA_TEST_DIR/pinned
: >"$LOOKS"
: >"$PINNED"
mkdir -p "$MNT"

step "volume $VOL on ext4"
origin=$(zuma_test_loop_device origin 128M)
store=$(zuma_test_loop_device store 256M)
zctl define volume $VOL "$origin" "$store" --initialize >/dev/null
dev=$(e2e_volume_device $VOL)
mkfs.ext4 -q -F "$dev" || fail "mkfs.ext4 failed"
mount_origin
mkdir -p "$MNT/data"

step "scheduler on the test clock at $(date -u -d "@$NOW" '+%F %T') UTC"
sched_start --test-clock
# A pre command that counts its runs, a post command that always fails
# (reported; the snapshot stands and the file system is thawed all the same).
zctl define schedule $VOL --hourly "${KEEP[0]}" --daily "${KEEP[1]}" --weekly "${KEEP[2]}" \
        --monthly "${KEEP[3]}" --yearly "${KEEP[4]}" \
        --pre "/bin/sh -c 'echo pre >>$ZUMA_TEST_DIR/pre.count'" --post /bin/false \
        --command-timeout 30s >/dev/null
echo "$NOW" >>"$LOOKS"
first=$(schedule_json | e2e_json 'd["last_snapshot"]')
[ "$first" = "$VOL-yearly-2027-03-20-10:00" ] ||
        fail "the first snapshot is '$first', not $VOL-yearly-2027-03-20-10:00"
zctl schedule $VOL
zctl status $VOL | grep "^Schedule:" || fail "zumactl status shows no schedule"
[ "$(zctl --json status $VOL | e2e_json 'd["schedule"]["kept"]["yearly"]')" = 1 ] ||
        fail "zumactl --json status shows no yearly snapshot kept"

step "bad input and unprivileged callers change nothing"
long_command=/bin/$(head -c 10000 /dev/zero | tr '\0' x)
expect_refused 8 "a count of 0" "$ZUMACTL" define schedule $VOL --hourly 0
expect_refused 8 "a negative count" "$ZUMACTL" define schedule $VOL --daily=-3
expect_refused 8 "an unknown unit" "$ZUMACTL" define schedule $VOL --every 15x --keep 3
expect_refused 8 "a 10,000-character command" "$ZUMACTL" define schedule $VOL --hourly 2 \
        --pre "$long_command"
expect_refused 8 "a command without absolute path" "$ZUMACTL" define schedule $VOL --hourly 2 \
        --pre "sync"
expect_refused 3 "a missing volume" "$ZUMACTL" define schedule novol --hourly 2
expect_refused 3 "forgetting a missing volume's schedule" "$ZUMACTL" forget schedule novol
expect_refused 6 "an unprivileged define" setpriv --reuid=65534 --regid=65534 --clear-groups \
        "$ZUMACTL" define schedule $VOL --hourly 2
expect_refused 6 "an unprivileged forget" setpriv --reuid=65534 --regid=65534 --clear-groups \
        "$ZUMACTL" forget schedule $VOL
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups gdbus call --system -d $SCHED \
        -o $SCHED_MANAGER -m $SCHED.TestClock.Advance 3600 '{}' 2>&1) &&
        fail "an unprivileged caller moved the test clock"
echo "$out" | grep -q AccessDenied || fail "an unprivileged clock call: $out"
# Reading is open to all.
setpriv --reuid=65534 --regid=65534 --clear-groups "$ZUMACTL" schedule $VOL >/dev/null ||
        fail "an unprivileged caller cannot read the schedule"

step "hand-taken snapshots"
zctl snapshot $VOL handmade --no-attach >/dev/null
server_named=$(zctl snapshot $VOL --no-attach)
hand_before=$(snapshot_table | grep -E "^(handmade|$server_named) ")
echo "$hand_before"

# --- the simulated days ---

pin_at=5
sched_kill_at=$((TICKS * 2 / 10))
server_kill_at=$((TICKS * 4 / 10))
downtime_at=$((TICKS * 5 / 10))
writer_from=$((TICKS * 6 / 10))
writer_to=$((writer_from + 24))
freeze_kill_at=$((TICKS * 8 / 10))
WRITER_PID=

writer() {
        local i=0

        mkdir -p "$MNT/writer"
        while [ ! -e "$ZUMA_TEST_DIR/writer.stop" ]; do
                if ! timeout 30 dd if=/dev/urandom of="$MNT/writer/f$((i % 8))" bs=64k count=4 \
                        conv=fsync status=none; then
                        echo "write $i did not finish in 30 s" >"$ZUMA_TEST_DIR/writer.fail"
                        return
                fi
                i=$((i + 1))
                echo "$i" >"$ZUMA_TEST_DIR/writer.count"
        done
}

step "$DAYS simulated days, hourly ($TICKS ticks)"
started=$SECONDS
for ((tick = 1; tick <= TICKS; tick++)); do
        head -c $((RANDOM * 4 % 65536 + 1)) /dev/urandom >"$MNT/data/f$((RANDOM % 64))"
        advance 3600

        if [ $tick = $pin_at ]; then
                # An hourly that would expire after a day, pinned by hand.
                name=$(schedule_json | e2e_json 'd["last_snapshot"]')
                zctl pin $VOL "$name"
                echo "$name" >>"$PINNED"
                echo "   pinned $name"
        elif [ $tick = $sched_kill_at ]; then
                step "kill -9 of the scheduler; back 2 h later"
                sched_kill
                NOW=$((NOW + 7200))
                sched_start --test-clock
                look_again
        elif [ $tick = $server_kill_at ]; then
                step "kill -9 of the server, 2 h without it"
                umount "$MNT"
                zuma_test_kill_daemon
                NOW=$((NOW + 3600))
                clock_call Advance 3600
                NOW=$((NOW + 3600))
                clock_call Advance 3600
                health=$(schedule_json | e2e_json 'd["last_error"]')
                echo "   while the server is away: $health"
                case "$health" in *"not on the bus"*) ;; *) fail "while the server was away: '$health'" ;; esac
                zuma_test_start_daemon || fail "cannot restart zuma-snapshotd"
                look_again
                mount_origin
        elif [ $tick = $downtime_at ]; then
                step "3 days of downtime: one catch-up snapshot"
                before=$(scheduled_table | wc -l)
                before_names=$(scheduled_table | cut -d' ' -f1)
                advance $((3 * 86400))
                new=$(LC_ALL=C comm -13 <(echo "$before_names") <(scheduled_table | cut -d' ' -f1))
                [ "$(echo "$new" | grep -c .)" = 1 ] || fail "catch-up took: $new"
                echo "   catch-up: $new (before: $before scheduled)"
        elif [ $tick = $writer_from ]; then
                step "a writer during a day of scheduled snapshots"
                writer &
                WRITER_PID=$!
        elif [ $tick = $writer_to ]; then
                touch "$ZUMA_TEST_DIR/writer.stop"
                wait "$WRITER_PID" || true
                [ ! -e "$ZUMA_TEST_DIR/writer.fail" ] || fail "$(cat "$ZUMA_TEST_DIR/writer.fail")"
                echo "   the writer wrote $(cat "$ZUMA_TEST_DIR/writer.count") times, never hung"
        elif [ $tick = $freeze_kill_at ]; then
                step "the scheduler killed with the file system frozen"
                sched_stop
                sched_start --test-clock --test-hang-after-freeze --freeze-timeout 300
                (gdbus call --system --timeout 600 -d $SCHED -o $SCHED_MANAGER \
                        -m $SCHED.TestClock.Advance 3600 '{}' >/dev/null 2>&1 || true) &
                deadline=$((SECONDS + 60))
                until [ -e "$SCHED_RUN/frozen" ]; do
                        [ $SECONDS -lt $deadline ] || fail "the scheduler did not freeze"
                        sleep 0.05
                done
                E2E_FROZEN=$MNT
                (echo probe >"$MNT/probe") &
                probe=$!
                sleep 1
                zuma_test_alive $probe || fail "a write went through a frozen file system"
                sched_kill
                deadline=$((SECONDS + 10))
                while zuma_test_alive $probe; do
                        [ $SECONDS -lt $deadline ] ||
                                fail "the file system stayed frozen after the scheduler died"
                        sleep 0.05
                done
                wait $probe || fail "the write after the thaw failed"
                E2E_FROZEN=
                rm -f "$SCHED_RUN/frozen"
                echo "   thawed by the watchdog within $((SECONDS - deadline + 10)) s"
                NOW=$((NOW + 3600))
                sched_start --test-clock
                look_again
        fi
done
echo "   $TICKS ticks in $((SECONDS - started)) s"
check_model "after the hourly days"

# Every hour has its snapshot here (in the coarse steps below, the clock set
# back would land in a gap and take the instant there, as documented).
step "the clock set 3 h back, then forward again: nothing taken twice"
before=$(scheduled_table | cut -d' ' -f1)
clock_call SetTime $((NOW - 3 * 3600))
[ "$(scheduled_table | cut -d' ' -f1)" = "$before" ] || fail "the clock going back changed the snapshots"
clock_call SetTime $NOW
[ "$(scheduled_table | cut -d' ' -f1)" = "$before" ] || fail "the clock coming back changed the snapshots"

# Coarse steps from the seed, 6 h to $STRIDE_MAX_H h (a day on average): several
# snapshots on some days, none on others; each step passes an hourly instant,
# so each takes exactly one snapshot (the catch-up), never a burst.
step "the rest of the year to $(date -u -d "@$YEAR_END" '+%F %T') UTC, in steps of 6 h to $STRIDE_MAX_H h"
started=$SECONDS
took_before=$(grep -c ": took $VOL-" "$ZUMA_TEST_DIR/schedulerd.log")
coarse_ticks=0
month=$(date -u -d "@$NOW" +%Y-%m)
while [ "$NOW" -lt "$YEAR_END" ]; do
        head -c $((RANDOM * 4 % 65536 + 1)) /dev/urandom >"$MNT/data/f$((RANDOM % 64))"
        stride=$((6 * 3600 + RANDOM * (STRIDE_MAX_H - 6) * 3600 / 32768))
        [ $((NOW + stride)) -le "$YEAR_END" ] || stride=$((YEAR_END - NOW))
        [ $(((NOW + stride) / 3600)) = $((NOW / 3600)) ] || coarse_ticks=$((coarse_ticks + 1))
        advance $stride
        if [ "$(date -u -d "@$NOW" +%Y-%m)" != "$month" ]; then
                month=$(date -u -d "@$NOW" +%Y-%m)
                check_model "on reaching $month"
        fi
done
took=$(($(grep -c ": took $VOL-" "$ZUMA_TEST_DIR/schedulerd.log") - took_before))
[ "$took" = $coarse_ticks ] || fail "$coarse_ticks steps past an hourly instant took $took snapshots"
echo "   $coarse_ticks steps, one snapshot each, in $((SECONDS - started)) s; the model checked monthly"
# The first snapshot of 2028 (its instant is the hour of the first look of
# the year) replaced 2027's.
yearly=$(scheduled_table | grep -- "^$VOL-yearly-" || true)
case "$yearly" in "$VOL-yearly-2028-01-"[0-9][0-9]-*) ;; *) fail "yearly snapshots: $yearly" ;; esac
[ "$(echo "$yearly" | wc -l)" = 1 ] || fail "yearly snapshots: $yearly"
echo "   the yearly rolled over: ${yearly%% *}"

# --- what is left ---

step "the snapshots are exactly the expected ones"
check_model "at the end"
echo "   $(wc -l <"$ZUMA_TEST_DIR/expected") scheduled snapshots as expected"
dup=$(cut -d' ' -f1 "$ZUMA_TEST_DIR/actual" | sed -E "s/^$VOL-[a-z]+-//" | sort | uniq -d)
[ -z "$dup" ] || fail "instants taken twice: $dup"
while read -r name; do
        grep -q "^$name .* pinned$" <(snapshot_table) || fail "pinned $name is gone or unpinned"
done <"$PINNED"
[ "$(snapshot_table | grep -E "^(handmade|$server_named) ")" = "$hand_before" ] ||
        fail "a hand-taken snapshot changed"

step "pre and post commands"
advance 3600
took=$(grep -c ": took $VOL-" "$ZUMA_TEST_DIR/schedulerd.log")
pre=$(wc -l <"$ZUMA_TEST_DIR/pre.count")
# One more pre than snapshots: the scheduler killed with the file system frozen.
[ "$pre" = $((took + 1)) ] || fail "the pre command ran $pre times for $took snapshots"
error=$(schedule_json | e2e_json 'd["last_error"]')
[ "$error" = "post command exited with status 1" ] || fail "last error: '$error'"
echo "   pre ran $pre times for $took snapshots; the failed post is reported: $error"

step "freeze windows"
grep -o "was frozen for [0-9.]* ms" "$ZUMA_TEST_DIR/schedulerd.log" | awk '{ print $4 }' |
        python3 -c 'import statistics, sys
v = [float(x) for x in sys.stdin]
if not v:
        sys.exit("no freeze was logged")
print("   freeze_window_ms: median %.1f, max %.1f over %d scheduled snapshots" %
      (statistics.median(v), max(v), len(v)))' || fail "no file system was frozen for a snapshot"

step "e2fsck -fn of every kept snapshot"
started=$SECONDS
mapfile -t names < <(scheduled_table | cut -d' ' -f1)
for name in "${names[@]}"; do
        sdev=$(e2e_snapshot_device $VOL "$name")
        e2e_fsck "$sdev" ext4
        e2e_zumactl_closed detach $VOL "$name"
done
echo "   ${#names[@]} snapshots clean, from ${names[0]} to ${names[-1]}, in $((SECONDS - started)) s"

step "health"
line=$("$ZUMACTL" check $VOL) || fail "check: exit $?: $line"
echo "   $line"
case "$line" in OK:*) ;; *) fail "check: $line" ;; esac
status=0
line=$("$ZUMACTL" check $VOL --max-age 1m) || status=$?
[ $status = 2 ] || fail "check --max-age 1m: exit $status: $line"
echo "   $line"
status=0
"$ZUMACTL" check $VOL --max-age 1x >/dev/null || status=$?
[ $status = 3 ] || fail "check with a bad --max-age: exit $status, not 3 (UNKNOWN)"

step "forget"
zctl forget schedule $VOL >/dev/null
status=0
"$ZUMACTL" schedule $VOL >/dev/null 2>&1 || status=$?
[ $status = 3 ] || fail "the forgotten schedule still answers ($status)"
count=$(snapshot_table | wc -l)
advance 7200
[ "$(snapshot_table | wc -l)" = "$count" ] || fail "a forgotten schedule took a snapshot"
[ ! -e "$SCHED_STATE/schedules" ] || [ -z "$(ls -A "$SCHED_STATE/schedules")" ] ||
        fail "the schedule's state file is left"
sched_stop
echo "PASS"
