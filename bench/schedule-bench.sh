#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# schedule-bench.sh: zuma-schedulerd against the real zuma-snapshotd on a
# private bus (tests/bus/zuma-test-bus.sh), on the scheduler's test clock
# (--test-clock; TestClock.Advance answers once the scheduler has acted on
# the new time).  One JSON object per metric on stdout, in zuma-bench's
# format; progress on stderr.  Nothing is asserted: the goals are printed
# in the notes.
#
# The run, on one volume with ext4 mounted on its origin, schedule
# --hourly 2 (so each look takes one snapshot, freezing the file system,
# and prunes one):
#   freeze idle   FREEZES looks an hour apart on the clock, FREEZE_GAP_S
#                 seconds apart in time, nothing writing: the freeze
#                 window of each, from the scheduler's log line "MNT was
#                 frozen for X ms" (zuma-scheduled-snapshot.c)
#   freeze load   the same with fio writing into the file system (buffered
#                 64 KiB random writes over a 64 MiB file, fsync every 32)
#   prune         N snapshots named as the scheduler names its hourlies
#                 (VOL-hourly-YYYY-MM-DD-HH:00, priority -50), created
#                 through the server in one process, for the N hours after
#                 the clock: an instant after now is kept, so the scheduler
#                 leaves them; then the clock jumps N+1 hours in one
#                 Advance, whose look takes one snapshot and deletes N-1 of
#                 them (and what the freeze phases left).  The Advance's time
#                 over the snapshots deleted is the prune's cost.  A probe
#                 creates snapshots (hand-named, so the scheduler never
#                 touches them) every PROBE_INTERVAL ms, first PROBES of
#                 them with nothing else running, then throughout the
#                 Advance: the longest creation in each.
#   zumactl       zumactl status, status VOL and list VOL, each the
#                 median of 5 runs, before the N snapshots are made and
#                 after: what an administrator waits for with N snapshots.
#
# The scheduler recognises its snapshots by name alone (docs/schedules.md),
# so the snapshots made here are its own to prune; making them through the
# server costs one durable commit each, without a process per call, and
# without 10,000 looks of the scheduler.
#
# Environment (bench/README.md): ZUMA_BENCH_QUICK, ZUMA_BENCH_PRUNE_SNAPSHOTS,
# ZUMA_BENCH_FREEZES, ZUMA_BENCH_FREEZE_GAP_S, ZUMA_BENCH_PROBES,
# ZUMA_BENCH_KEEP; from meson:
# ZUMA_BUILD_DIR, ZUMA_SOURCE_DIR, ZUMA_SNAPSHOTD, ZUMA_SCHEDULERD, ZUMACTL,
# ZUMA_SCHEDULE_BENCH_CLIENT (bench/schedule-bench-client.c: the timed bus
# calls, from one process).
set -euo pipefail
export LC_ALL=C

: "${ZUMA_SOURCE_DIR:=$(realpath "$(dirname "$(realpath "$0")")/..")}"
: "${ZUMA_BUILD_DIR:=${MESON_BUILD_ROOT:-$ZUMA_SOURCE_DIR/build}}"
: "${ZUMACTL:=$ZUMA_BUILD_DIR/zumactl/zumactl}"
: "${ZUMA_SCHEDULERD:=$ZUMA_BUILD_DIR/agents/schedulerd/zuma-schedulerd}"
: "${ZUMA_SCHEDULE_BENCH_CLIENT:=$ZUMA_BUILD_DIR/bench/schedule-bench-client}"
export ZUMA_SOURCE_DIR ZUMA_BUILD_DIR
client=$ZUMA_SCHEDULE_BENCH_CLIENT

if [ "${ZUMA_BENCH_QUICK:-0}" != 0 ]; then
        quick=1
        prune_snapshots=${ZUMA_BENCH_PRUNE_SNAPSHOTS:-1000}
        freezes=${ZUMA_BENCH_FREEZES:-10}
        probes=${ZUMA_BENCH_PROBES:-100}
else
        quick=0
        prune_snapshots=${ZUMA_BENCH_PRUNE_SNAPSHOTS:-10000}
        freezes=${ZUMA_BENCH_FREEZES:-30}
        probes=${ZUMA_BENCH_PROBES:-200}
fi
keep=${ZUMA_BENCH_KEEP:-0}
# Seconds between two looks of the freeze phases: what the writer dirties
# meanwhile is what a freeze must write out.
freeze_gap_s=${ZUMA_BENCH_FREEZE_GAP_S:-2}
probe_interval_ms=20
volume=sbench
origin_mb=256
store_mb=2048

BENCH_NAME=schedule-bench
# shellcheck source-path=SCRIPTDIR source=bench-lib.sh
. "$ZUMA_SOURCE_DIR/bench/bench-lib.sh"

require_positive prune_snapshots freezes probes freeze_gap_s
if [ "$prune_snapshots" -lt 2 ] || [ "$prune_snapshots" -gt 60000 ]; then
        echo "schedule-bench: ZUMA_BENCH_PRUNE_SNAPSHOTS must be 2..60000" >&2
        exit 2
fi

# stats: "COUNT MEDIAN MAX" of the numbers on stdin, one a line.
stats() {
        sort -g | awk '{ v[NR] = $1 } END {
                if (NR == 0) { print 0, "nan", "nan"; exit }
                m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
                printf "%d %.3f %.3f\n", NR, m, v[NR] }'
}

# zumactl_ms ARG...: the median milliseconds of 5 runs of zumactl ARG...,
# output discarded (a whole run: the process, the bus calls, the table).
zumactl_ms() {
        local i start end
        for i in 1 2 3 4 5; do
                start=$(date +%s%N)
                zumactl "$@" >/dev/null
                end=$(date +%s%N)
                echo $(((end - start) / 1000))
        done | stats | awk '{ printf "%.1f\n", $2 / 1000 }'
}

# zumactl_times: "SERVER_MS VOLUME_MS LIST_MS" for zumactl status,
# zumactl status VOL and zumactl list VOL.
zumactl_times() {
        echo "$(zumactl_ms status) $(zumactl_ms status "$volume") $(zumactl_ms list "$volume")"
}

meets() {
        awk -v v="$1" -v goal="$2" 'BEGIN { print (v != "nan" && v + 0 < goal) ? "meets it" : "misses it" }'
}

# shellcheck source-path=SCRIPTDIR source=../tests/bus/zuma-test-bus.sh
. "$ZUMA_SOURCE_DIR/tests/bus/zuma-test-bus.sh"

zuma_test_require_root
for tool in fio python3 mkfs.ext4 findmnt; do
        command -v "$tool" >/dev/null || zuma_test_skip "$tool is not installed"
done
[ -x "$client" ] || zuma_test_skip "no schedule-bench-client at $client (build first)"
[ -x "$ZUMACTL" ] || zuma_test_skip "no zumactl at $ZUMACTL (build first)"
[ -x "$ZUMA_SCHEDULERD" ] || zuma_test_skip "no zuma-schedulerd at $ZUMA_SCHEDULERD (build first)"
[ -c /dev/fuse ] || zuma_test_skip "no /dev/fuse"
"$ZUMA_SNAPSHOTD" --help 2>&1 | grep "default auto" >/dev/null ||
        zuma_test_skip "zuma-snapshotd was built without the FUSE frontend"
export ZUMA_TEST_FRONTEND=fuse

zuma_test_setup
mnt=$ZUMA_TEST_DIR/mnt
sched_log=$ZUMA_TEST_DIR/schedulerd.log
sched_pid=
fio_pid=
probe_pid=

bench_cleanup() {
        local status=$?

        set +e
        [ -n "$fio_pid" ] && kill "$fio_pid" 2>/dev/null && wait "$fio_pid" 2>/dev/null
        [ -n "$probe_pid" ] && kill "$probe_pid" 2>/dev/null && wait "$probe_pid" 2>/dev/null
        if [ -n "$sched_pid" ] && zuma_test_alive "$sched_pid"; then
                kill -TERM "$sched_pid"
                zuma_test_wait_exit "$sched_pid" 30 || kill -KILL "$sched_pid"
        fi
        fsfreeze -u "$mnt" 2>/dev/null
        mountpoint -q "$mnt" && umount "$mnt"
        [ "$keep" != 0 ] || rm -f "$ZUMA_TEST_DIR"/images/*.img
        (exit $status)
        zuma_test_cleanup
}
trap bench_cleanup EXIT

start_server

# --- setup ---

origin=$(zuma_test_loop_device origin ${origin_mb}M)
store=$(zuma_test_loop_device store ${store_mb}M)
zumactl define volume "$volume" "$origin" "$store" --initialize >/dev/null
vol_path=$(zumactl --json status "$volume" | json_field object_path)
dev=$(zumactl --json status "$volume" | json_field device)
[ -b "$dev" ] || die "volume $volume has no origin device"
if [ $udev = 1 ] && zuma_test_wait_link "/dev/zumastor/$volume" "$dev" 20; then
        dev=/dev/zumastor/$volume
fi
mkfs.ext4 -q -F "$dev" || die "mkfs.ext4 $dev failed"
mkdir -p "$mnt"
mount -t ext4 "$dev" "$mnt" || die "cannot mount $dev"
fs_note="ext4 on $dev (the origin's loop device over the FUSE image; origin and store are buffered loop devices over sparse files on $(findmnt -n -o FSTYPE --target "$ZUMA_TEST_DIR") $(dirname "$ZUMA_TEST_DIR"))"
progress "volume $volume: $fs_note"

# The clock: 2027-01-04 00:30 UTC, a Monday; hours from there on.
now=$(date -u -d '2027-01-04 00:30:00' +%s)
echo "=== zuma-schedulerd --test-clock $now" >"$sched_log"
G_DEBUG=fatal-criticals "$ZUMA_SCHEDULERD" --bus-address "$DBUS_SYSTEM_BUS_ADDRESS" \
        --state-dir "$ZUMA_TEST_DIR/sched-state" --run-dir "$ZUMA_TEST_DIR/sched-run" \
        --test-clock "$now" --verbose >>"$sched_log" 2>&1 </dev/null &
sched_pid=$!
zuma_test_wait_name org.zumastor.Scheduler1 || die "zuma-schedulerd did not take its name"
zumactl define schedule "$volume" --hourly 2 >/dev/null

advance() {
        now=$((now + $1))
        timeout 3700 "$client" advance "$1" || die "TestClock.Advance $1 failed"
}

# freeze_phase: advances the clock an hour $freezes times, $freeze_gap_s s
# apart; prints the freeze windows the scheduler logged meanwhile, one a
# line (ms).
freeze_phase() {
        local from i

        from=$(wc -l <"$sched_log")
        for ((i = 0; i < freezes; i++)); do
                sleep "$freeze_gap_s"
                advance 3600 >/dev/null
        done
        tail -n +"$((from + 1))" "$sched_log" | sed -n 's/.* was frozen for \([0-9.]*\) ms.*/\1/p'
}

# --- freeze windows ---

# (Run in this shell, not a subshell: it moves $now.)
progress "freeze idle: $freezes scheduled snapshots, nothing writing"
freeze_phase >"$ZUMA_TEST_DIR/freeze-idle"
read -r idle_n idle_median idle_max < <(stats <"$ZUMA_TEST_DIR/freeze-idle")
[ "$idle_n" -gt 0 ] || die "the scheduler logged no freeze (see $sched_log)"
progress "  $idle_n freezes: median $idle_median ms, max $idle_max ms"

progress "freeze load: $freezes scheduled snapshots under fio"
fio_args=(--name=load --directory="$mnt" --filename=load --rw=randwrite --bs=64k --size=64M
        --ioengine=psync --fsync=32)
fio "${fio_args[@]}" --create_only=1 --output="$ZUMA_TEST_DIR/fio-layout.out" >/dev/null 2>&1 ||
        die "fio could not lay out its file: $(cat "$ZUMA_TEST_DIR/fio-layout.out")"
fio "${fio_args[@]}" --time_based --runtime=3600 --output="$ZUMA_TEST_DIR/fio.out" \
        >/dev/null 2>&1 &
fio_pid=$!
freeze_phase >"$ZUMA_TEST_DIR/freeze-load"
zuma_test_alive "$fio_pid" || die "fio exited early: $(cat "$ZUMA_TEST_DIR/fio.out")"
read -r load_n load_median load_max < <(stats <"$ZUMA_TEST_DIR/freeze-load")
kill -INT "$fio_pid"
wait "$fio_pid" 2>/dev/null || true
fio_pid=
load_written=$(sed -n 's/.*WRITE: bw=\([^ ,]*\).*io=\([^ ,]*\).*/\2 at \1/p' "$ZUMA_TEST_DIR/fio.out")
[ "$load_n" -gt 0 ] || die "the scheduler logged no freeze under load (see $sched_log)"
progress "  $load_n freezes: median $load_median ms, max $load_max ms"

freeze_note="one scheduled snapshot an hour apart on the test clock ($load_n under load, $idle_n idle), FIFREEZE to FITHAW as the scheduler logs it (zuma-scheduled-snapshot.c), $fs_note; looks ${freeze_gap_s} s apart; load: fio buffered 64 KiB random writes over a 64 MiB file, fsync every 32 (${load_written:-amount not reported})"
if [ "$quick" = 1 ]; then
        freeze_note="$freeze_note; quick run"
fi
emit freeze_window_ms_median_idle "$idle_median" ms null "median freeze window with nothing writing; $freeze_note"
emit freeze_window_ms_median "$load_median" ms "$idle_median" \
        "median freeze window under the write load (baseline: idle median); goal < 50 ms: $(meets "$load_median" 50); $freeze_note"
emit freeze_window_ms_max "$load_max" ms "$idle_max" \
        "longest freeze window under the write load (baseline: idle longest); $freeze_note"
emit freeze_window_ratio_median_load_vs_idle "$(ratio "$load_median" "$idle_median")" ratio \
        "$idle_median" "median under load / idle median (ms); $freeze_note"

# --- the prune ---

few=$(zumactl --json status "$volume" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["snapshots"]))')
read -r few_server_ms few_volume_ms few_list_ms < <(zumactl_times)
progress "zumactl with $few snapshots: status $few_server_ms ms, status $volume $few_volume_ms ms, list $volume $few_list_ms ms"

# The hours after the clock's (at :30): every instant lies after now.
progress "making $prune_snapshots hourly snapshots for the hours after the clock"
python3 -c 'import sys, time
vol, first, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for k in range(1, n + 1):
        print(vol + "-hourly-" + time.strftime("%Y-%m-%d-%H:%M", time.gmtime(first + k * 3600)))' \
        "$volume" "$((now / 3600 * 3600))" "$prune_snapshots" >"$ZUMA_TEST_DIR/names"
read -r made made_ms made_max made_median < <("$client" create "$vol_path" -50 \
        <"$ZUMA_TEST_DIR/names")
[ "$made" = "$prune_snapshots" ] || die "made $made of $prune_snapshots snapshots"
progress "  made $made in $made_ms ms (median $made_median ms, max $made_max ms)"
many=$((few + made))
read -r many_server_ms many_volume_ms many_list_ms < <(zumactl_times)
progress "zumactl with $many snapshots: status $many_server_ms ms, status $volume $many_volume_ms ms, list $volume $many_list_ms ms"

scheduled_count() {
        zumactl --json status "$volume" | python3 -c 'import json, re, sys
d = json.load(sys.stdin)
pattern = re.compile(re.escape(sys.argv[1]) + r"-hourly-\d{4}-\d\d-\d\d-\d\d:\d\d$")
print(sum(1 for s in d["snapshots"] if pattern.match(s["name"])))' "$volume"
}

before=$(scheduled_count)
progress "scheduled snapshots before the prune: $before"

progress "creation latency, idle: $probes creates, one every $probe_interval_ms ms"
read -r probe_idle_n probe_idle_max probe_idle_median < <("$client" probe "$vol_path" \
        probe-idle "$ZUMA_TEST_DIR/never" "$probe_interval_ms" "$probes")
progress "  $probe_idle_n creates: median $probe_idle_median ms, max $probe_idle_max ms"

progress "the prune: the clock $((prune_snapshots + 1)) hours on in one Advance, creates throughout"
stop=$ZUMA_TEST_DIR/probe.stop
"$client" probe "$vol_path" probe-prune "$stop" "$probe_interval_ms" 1000000 \
        >"$ZUMA_TEST_DIR/probe.out" &
probe_pid=$!
deadline=$((SECONDS + 60))
until [ -e "$stop.started" ]; do
        zuma_test_alive "$probe_pid" || die "the probe exited"
        [ $SECONDS -lt $deadline ] || die "the probe made nothing in 60 s"
        sleep 0.01
done
prune_ms=$(advance $(((prune_snapshots + 1) * 3600)))
touch "$stop"
wait "$probe_pid" || die "the probe failed"
probe_pid=
read -r probe_prune_n probe_prune_max probe_prune_median <"$ZUMA_TEST_DIR/probe.out"
after=$(scheduled_count)
deleted=$((before + 1 - after))
progress "  $deleted deleted in $prune_ms ms; $probe_prune_n creates meanwhile: median $probe_prune_median ms, max $probe_prune_max ms"
[ "$after" = 2 ] || progress "  WARNING: $after scheduled snapshots left, not 2"

prune_note="$deleted scheduled snapshots deleted by one look of zuma-schedulerd (TestClock.Advance, which answers once the look is done: the volume listed, one snapshot taken with a freeze, the expired ones deleted with DeleteSnapshots in batches of 1,024, each a Job it waits for) in $prune_ms ms; the $prune_snapshots were made through the server as the scheduler names them, $made_ms ms in all (median $made_median ms per create); the engine frees their space in the background after"
create_note="CreateSnapshot (not attached) from one process, one every $probe_interval_ms ms, with $prune_snapshots scheduled snapshots in the store: idle $probe_idle_n creates (median $probe_idle_median ms), during the prune $probe_prune_n (median $probe_prune_median ms)"
if [ "$quick" = 1 ]; then
        prune_note="$prune_note; quick run"
        create_note="$create_note; quick run"
fi
emit schedule_prune_ms_per_snapshot "$(ratio "$prune_ms" "$deleted")" ms null "$prune_note"
emit schedule_create_ms_max_idle "$probe_idle_max" ms null "longest creation, nothing else running; $create_note"
emit schedule_create_ms_max_during_prune "$probe_prune_max" ms "$probe_idle_max" \
        "longest creation while the scheduler prunes (baseline: idle longest); $create_note"
emit schedule_create_ratio_max_prune_vs_idle "$(ratio "$probe_prune_max" "$probe_idle_max")" \
        ratio "$probe_idle_max" "longest creation during the prune / idle (ms); the prune must not block creation: ~1; $create_note"
zumactl_note="median of 5 runs of the whole command (process start, bus calls, output to /dev/null) with $many snapshots in the volume; baseline: the same with $few, before they were made"
[ "$quick" = 0 ] || zumactl_note="$zumactl_note; quick run"
emit "zumactl_status_volume_ms_at_$many" "$many_volume_ms" ms "$few_volume_ms" \
        "zumactl status $volume: the volume and a table of every snapshot; $zumactl_note"
emit "zumactl_status_volume_ratio_${many}_vs_$few" "$(ratio "$many_volume_ms" "$few_volume_ms")" \
        ratio "$few_volume_ms" "zumactl status $volume with $many snapshots / with $few; $zumactl_note"
emit "zumactl_list_volume_ms_at_$many" "$many_list_ms" ms "$few_list_ms" \
        "zumactl list $volume: every snapshot's name; $zumactl_note"
emit "zumactl_status_server_ratio_${many}_vs_$few" "$(ratio "$many_server_ms" "$few_server_ms")" \
        ratio "$few_server_ms" "zumactl status (every volume, no snapshot) with $many snapshots in a volume / with $few: ~1, the snapshots are not read; $zumactl_note"
progress "done"
