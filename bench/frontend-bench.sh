#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# frontend-bench.sh: the data frontend of zuma-snapshotd (FUSE image file +
# direct-I/O loop device) against a plain direct-I/O loop device on the
# origin's own image file, both driven by fio with O_DIRECT and measured in
# the same run.  One JSON object per metric on stdout, in zuma-bench's
# format; progress on stderr.  Nothing is asserted: the goals are printed
# in the notes.
#
# The run, on a private bus with a private daemon (tests/bus/zuma-test-bus.sh):
#   setup     origin image written through once (no sparse blocks), sparse
#             store image; both files are given to `zumactl define volume`
#             directly, so the daemon does O_DIRECT on the very file the
#             baseline loop device (losetup --direct-io=on) sits on
#   0snap     rounds of (baseline, frontend) fio runs, who starts alternating:
#             1 MiB sequential writes, then 4 KiB random writes
#   1snap     one snapshot; one sequential pass over the whole origin copies
#             every chunk out (reported as first_after_snapshot); then the
#             same rounds as 0snap: the steady-state cost with 1 snapshot
#   1000snap  999 more snapshots (timed), the copy-out pass again, the rounds
#   read      the newest snapshot attached: its every chunk was copied out by
#             the sequential pass, so all of it is read from the store, in the
#             order the pass wrote it; rounds of (origin, snapshot) reads
#   read-churn one more snapshot, random chunk writes of a quarter of the
#             origin's size, then rounds of (origin, that snapshot) reads: part origin,
#             part store in the order of the writes
#
# Environment (bench/README.md): ZUMA_BENCH_QUICK, ZUMA_BENCH_ORIGIN_MB,
# ZUMA_BENCH_CHUNK_KB, ZUMA_BENCH_FIO_SECONDS, ZUMA_BENCH_ROUNDS,
# ZUMA_BENCH_PREALLOC, ZUMA_BENCH_KEEP, ZUMA_BENCH_PHASES; from meson: ZUMA_BUILD_DIR,
# ZUMA_SOURCE_DIR, ZUMA_SNAPSHOTD, ZUMACTL.
set -euo pipefail
export LC_ALL=C

: "${ZUMA_SOURCE_DIR:=$(realpath "$(dirname "$(realpath "$0")")/..")}"
: "${ZUMA_BUILD_DIR:=${MESON_BUILD_ROOT:-$ZUMA_SOURCE_DIR/build}}"
: "${ZUMACTL:=$ZUMA_BUILD_DIR/zumactl/zumactl}"
export ZUMA_SOURCE_DIR ZUMA_BUILD_DIR

if [ "${ZUMA_BENCH_QUICK:-0}" != 0 ]; then
        quick=1
        origin_mb=${ZUMA_BENCH_ORIGIN_MB:-256}
        run_seconds=${ZUMA_BENCH_FIO_SECONDS:-3}
        rounds=${ZUMA_BENCH_ROUNDS:-2}
else
        quick=0
        origin_mb=${ZUMA_BENCH_ORIGIN_MB:-1024}
        run_seconds=${ZUMA_BENCH_FIO_SECONDS:-8}
        rounds=${ZUMA_BENCH_ROUNDS:-3}
fi
chunk_kb=${ZUMA_BENCH_CHUNK_KB:-16}
prealloc=${ZUMA_BENCH_PREALLOC:-0}
keep=${ZUMA_BENCH_KEEP:-0}
# A comma list of the phases to run (default all); a phase left out is
# skipped with its metrics, and the read phases read the newest snapshot
# the phases before them left.
phases=${ZUMA_BENCH_PHASES:-0snap,1snap,1000snap,read,read-churn}
# The metric names carry this number; it is not a knob.
many_snapshots=1000
seq_depth=4
rand_depth=16
volume=fe-bench

BENCH_NAME=frontend-bench
# shellcheck source-path=SCRIPTDIR source=bench-lib.sh
. "$ZUMA_SOURCE_DIR/bench/bench-lib.sh"

require_positive origin_mb run_seconds rounds chunk_kb
for phase in ${phases//,/ }; do
        case "$phase" in
        0snap | 1snap | 1000snap | read | read-churn) ;;
        *)
                echo "$BENCH_NAME: ZUMA_BENCH_PHASES: unknown phase $phase (0snap, 1snap, 1000snap, read, read-churn)" >&2
                exit 2
                ;;
        esac
done

# phase_on NAME: whether ZUMA_BENCH_PHASES asks for phase NAME.
phase_on() {
        [[ ",$phases," == *",$1,"* ]]
}

# calc EXPRESSION: floating-point arithmetic, "nan" when it divides by zero.
calc() {
        awk "BEGIN { d = ($1); print d }" 2>/dev/null || echo nan
}

mibps() {
        awk -v bytes="$1" -v ms="$2" 'BEGIN {
                if (ms + 0 == 0) print "nan"; else printf "%.1f\n", bytes / 1048576 / (ms / 1000) }'
}

# shellcheck source-path=SCRIPTDIR source=../tests/bus/zuma-test-bus.sh
. "$ZUMA_SOURCE_DIR/tests/bus/zuma-test-bus.sh"

zuma_test_require_root
command -v fio >/dev/null || zuma_test_skip "fio is not installed"
command -v python3 >/dev/null || zuma_test_skip "python3 is not installed"
[ -x "$ZUMACTL" ] || zuma_test_skip "no zumactl at $ZUMACTL (build first)"
[ -c /dev/fuse ] || zuma_test_skip "no /dev/fuse"
"$ZUMA_SNAPSHOTD" --help 2>&1 | grep "default auto" >/dev/null ||
        zuma_test_skip "zuma-snapshotd was built without the FUSE frontend"
export ZUMA_TEST_FRONTEND=fuse

zuma_test_setup
images=$ZUMA_TEST_DIR/images
baseline_dev=

bench_cleanup() {
        local status=$?

        set +e
        [ -n "$baseline_dev" ] && losetup -d "$baseline_dev" 2>/dev/null
        # The images are large: gone even when the harness keeps the logs.
        [ "$keep" != 0 ] || rm -f "$images"/*.img
        (exit $status)
        zuma_test_cleanup
}
trap bench_cleanup EXIT

start_server

zumactl() {
        timeout 120 "$ZUMACTL" "$@"
}

origin_bytes=$((origin_mb * 1024 * 1024))
# Two full copy-out passes (1 and 1000 snapshots) plus metadata; --full-policy
# refuse makes a store that is too small fail the run instead of deleting
# snapshots behind the benchmark's back.
store_bytes=$((origin_bytes * 3 + 256 * 1024 * 1024))
fs_type=$(findmnt -n -o FSTYPE --target "$images" || stat -f -c %T "$images")
fs_dev=$(df --output=source "$images" | tail -n 1)

progress "writing the ${origin_mb} MiB origin image on $fs_type ($fs_dev)"
timeout 600 dd if=/dev/zero of="$images/origin.img" bs=1M count="$origin_mb" oflag=direct \
        status=none || die "cannot write the origin image"
if [ "$prealloc" != 0 ]; then
        progress "writing zeros through the $((store_bytes / 1048576)) MiB store image"
        timeout 600 dd if=/dev/zero of="$images/store.img" bs=1M \
                count=$((store_bytes / 1048576)) oflag=direct status=none ||
                die "cannot write the store image"
        store_note="zero-written store image"
else
        truncate -s "$store_bytes" "$images/store.img"
        store_note="sparse store image"
fi

zumactl define volume "$volume" "$images/origin.img" "$images/store.img" --initialize \
        --chunk-size "${chunk_kb}K" --full-policy refuse >/dev/null
status_json=$(zumactl --json status "$volume")
frontend_dev=$(json_field device <<<"$status_json")
[ -b "$frontend_dev" ] || die "volume $volume has no origin device (status: $status_json)"
origin_path=$frontend_dev
origin_how="device from zumactl --json status ($frontend_dev), udev not running"
if [ $udev = 1 ]; then
        if zuma_test_wait_link "/dev/zumastor/$volume" "$frontend_dev" 20; then
                origin_path=/dev/zumastor/$volume
                origin_how="/dev/zumastor/$volume via udev"
        else
                origin_how="device from zumactl --json status ($frontend_dev), no udev link"
        fi
fi

baseline_dev=$(losetup -f --show --direct-io=on "$images/origin.img")
echo "$baseline_dev" >>"$ZUMA_TEST_DIR/loops"

loop_dio() {
        local dev

        dev=$(basename "$(readlink -f "$1")")
        cat "/sys/block/$dev/loop/dio" 2>/dev/null || echo "?"
}

setup_note="origin $origin_path ($origin_how, loop dio=$(loop_dio "$frontend_dev")) vs plain loop $baseline_dev (losetup --direct-io=on, dio=$(loop_dio "$baseline_dev")) on the same file: origin image of ${origin_mb} MiB written through once, $store_note, on $fs_type $(dirname "$ZUMA_TEST_DIR"), chunk ${chunk_kb} KiB; fio libaio O_DIRECT, ${rounds} rounds of ${run_seconds} s per side, sides alternating who starts, writes end with fsync (counted)"
if [ "$quick" = 1 ]; then
        setup_note="$setup_note; quick run"
fi
progress "frontend $origin_path ($origin_how), baseline $baseline_dev"

# fio_run DEVICE RW BS DEPTH time|pass: prints "BYTES MILLISECONDS" of one
# fio job: time-based for the rounds, one pass over the origin otherwise.
# A write job ends with an fsync, which fio counts in its runtime.
fio_run() {
        local dev=$1 rw=$2 bs=$3 depth=$4 mode=$5 dir=write out=$ZUMA_TEST_DIR/fio.json
        local -a args=(--name=fe --filename="$dev" --ioengine=libaio --direct=1 --rw="$rw"
                --bs="$bs" --iodepth="$depth" --size="$origin_bytes" --randrepeat=0
                --norandommap --output-format=json --output="$out")
        local limit=$((run_seconds * 4 + 60))

        case "$rw" in
        read | randread) dir="read" ;;
        *) args+=(--end_fsync=1) ;;
        esac
        if [ "$mode" = time ]; then
                args+=(--time_based --runtime="$run_seconds")
        else
                limit=900
        fi
        timeout "$limit" fio "${args[@]}" >&2 || die "fio $rw on $dev failed (status $?)"
        json_field "jobs.0.$dir.io_bytes" "jobs.0.$dir.runtime" <"$out"
}

# measure_pair BASE_DEV TEST_DEV RW BS DEPTH: rounds of one time-based job on
# each device, who starts alternating; sets base_mibps, test_mibps and
# rounds_note (each round's MiB/s).
measure_pair() {
        local base=$1 test=$2 rw=$3 bs=$4 depth=$5 r side bytes ms result
        local base_bytes=0 base_ms=0 test_bytes=0 test_ms=0 base_list="" test_list=""

        for ((r = 1; r <= rounds; r++)); do
                for side in base test; do
                        if [ $((r % 2)) = 0 ]; then
                                [ $side = base ] && side="test" || side="base"
                        fi
                        if [ $side = base ]; then
                                result=$(fio_run "$base" "$rw" "$bs" "$depth" time)
                                read -r bytes ms <<<"$result"
                                base_bytes=$((base_bytes + bytes))
                                base_ms=$((base_ms + ms))
                                base_list="$base_list${base_list:+,}$(mibps "$bytes" "$ms")"
                        else
                                result=$(fio_run "$test" "$rw" "$bs" "$depth" time)
                                read -r bytes ms <<<"$result"
                                test_bytes=$((test_bytes + bytes))
                                test_ms=$((test_ms + ms))
                                test_list="$test_list${test_list:+,}$(mibps "$bytes" "$ms")"
                        fi
                done
        done
        base_mibps=$(mibps "$base_bytes" "$base_ms")
        test_mibps=$(mibps "$test_bytes" "$test_ms")
        rounds_note="per round MiB/s: $test_list vs $base_list"
        progress "$rw $bs qd$depth: $test_mibps MiB/s vs $base_mibps MiB/s ($rounds_note)"
}

# measure_writes: the sequential and the random rounds of one phase; sets
# seq_ratio, seq_base, seq_detail and the rand_ counterparts.
measure_writes() {
        local data_before data_after

        data_before=$(store_data_bytes)
        measure_pair "$baseline_dev" "$origin_path" write 1M $seq_depth
        seq_base=$base_mibps
        seq_ratio=$(ratio "$test_mibps" "$base_mibps")
        seq_detail="1 MiB sequential writes over the whole origin, iodepth $seq_depth, frontend $test_mibps MiB/s vs plain loop $base_mibps MiB/s ($rounds_note)"
        measure_pair "$baseline_dev" "$origin_path" randwrite 4k $rand_depth
        rand_base=$base_mibps
        rand_ratio=$(ratio "$test_mibps" "$base_mibps")
        rand_detail="4 KiB random writes over the whole origin, iodepth $rand_depth, frontend $test_mibps MiB/s vs plain loop $base_mibps MiB/s ($rounds_note)"
        data_after=$(store_data_bytes)
        seq_detail="$seq_detail; store data bytes added during the write rounds of this phase: +$((data_after - data_before))"
        rand_detail="$rand_detail; store data bytes added during the write rounds of this phase: +$((data_after - data_before))"
}

# first_write_pass: one sequential 1 MiB pass over the whole origin right
# after snapshots were taken, so that every chunk is copied out; sets
# first_mibps and first_copied (store data bytes the pass added).
first_write_pass() {
        local bytes ms result data_before

        data_before=$(store_data_bytes)
        result=$(fio_run "$origin_path" write 1M $seq_depth pass)
        read -r bytes ms <<<"$result"
        [ "$bytes" = "$origin_bytes" ] || die "the copy-out pass wrote $bytes of $origin_bytes bytes"
        first_mibps=$(mibps "$bytes" "$ms")
        first_copied=$(($(wait_store_data $((data_before + origin_bytes))) - data_before))
}

# wait_store_data BYTES: the volume's store data bytes once they reach BYTES
# (the server samples the figure about once a second), or after 10 s.
wait_store_data() {
        local want=$1 deadline=$((SECONDS + 10)) have

        while :; do
                have=$(store_data_bytes)
                if [ "$have" -ge "$want" ] || [ $SECONDS -ge $deadline ]; then
                        echo "$have"
                        return
                fi
                sleep 0.2
        done
}

store_data_bytes() {
        zumactl --json status "$volume" | json_field store_data_bytes
}

snapshot_count() {
        zumactl --json status "$volume" | json_field snapshot_count
}

# within_goal A B: "meets" when A is within 5% of B (A >= 0.95 B), else "misses".
within_goal() {
        awk -v a="$1" -v b="$2" 'BEGIN { print (b > 0 && a >= 0.95 * b) ? "meets it" : "misses it" }'
}

at_least() {
        awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b) ? "meets it" : "misses it" }'
}

steady_note="steady state: one sequential pass after the last snapshot copied every chunk out before these rounds, so no round copies out"
first_note="every ${chunk_kb} KiB chunk is copied out before its first write (read it, write it to the store, commit); ~0.33 of plain loop is the device-bound ceiling, as the device moves 3x the bytes"

# What the phases before a phase left: the 1snap figures the 1000snap notes
# compare with, and the newest snapshot (the read phase reads it).
seq_ratio_1=nan
rand_ratio_1=nan
first_1=nan
newest=
snapshots=0

# --- 0 snapshots ------------------------------------------------------------
if phase_on 0snap; then
        progress "phase 0snap"
        measure_writes
        emit frontend_write_seq_ratio_0snap "$seq_ratio" ratio "$seq_base" \
                "$seq_detail; no snapshot; goal >= 0.5 of plain loop: $(at_least "$seq_ratio" 0.5); $setup_note"
        emit frontend_write_rand4k_ratio_0snap "$rand_ratio" ratio "$rand_base" \
                "$rand_detail; no snapshot; goal >= 0.5 of plain loop: $(at_least "$rand_ratio" 0.5); $setup_note"
fi

# --- 1 snapshot -------------------------------------------------------------
if phase_on 1snap; then
        progress "phase 1snap: snapshot 1, then the copy-out pass"
        zumactl snapshot "$volume" s1 --no-attach >/dev/null
        newest=s1
        snapshots=1
        first_write_pass
        first_1=$first_mibps
        copied_1=$first_copied
        progress "copy-out pass after 1 snapshot: $first_1 MiB/s, $copied_1 bytes copied out"
        measure_writes
        seq_ratio_1=$seq_ratio
        rand_ratio_1=$rand_ratio
        emit frontend_write_seq_ratio_1snap "$seq_ratio" ratio "$seq_base" \
                "$seq_detail; 1 snapshot, $steady_note; $setup_note"
        emit frontend_write_rand4k_ratio_1snap "$rand_ratio" ratio "$rand_base" \
                "$rand_detail; 1 snapshot, $steady_note; $setup_note"
        emit frontend_write_seq_first_after_snapshot_mbps "$first_1" MiB/s nan \
                "one 1 MiB sequential pass (iodepth $seq_depth, ending with fsync) over the whole ${origin_mb} MiB origin right after the first snapshot: $first_note; the store grew by $copied_1 data bytes during the pass; $setup_note"
        emit frontend_write_seq_first_after_snapshot_ratio "$(ratio "$first_1" "$seq_base")" ratio \
                "$seq_base" \
                "frontend_write_seq_first_after_snapshot_mbps against the plain loop's sequential MiB/s of the 1snap rounds; $first_note; $setup_note"
fi

# --- 1000 snapshots ---------------------------------------------------------
if phase_on 1000snap; then
        # Snapshots 2..(N - zumactl_samples) are created with one CreateSnapshot
        # D-Bus call each (gdbus), the cost of the server alone.  The last few go
        # through zumactl, to report what a user sees (process start, the volume's
        # lookup with Manager.FindVolume, the create).
        zumactl_samples=10
        bus_creates=$((many_snapshots - 1 - zumactl_samples))
        volume_path=$(json_field object_path <<<"$status_json")
        progress "phase ${many_snapshots}snap: creating snapshots 2..$many_snapshots"
        # Without the 1snap phase, snapshot 1 first (untimed).
        [ "$snapshots" = 1 ] || zumactl snapshot "$volume" s1 --no-attach >/dev/null
        create_start=$(date +%s%N)
        for ((i = 2; i <= bus_creates + 1; i++)); do
                timeout 60 gdbus call --system --dest org.zumastor.Zumastor1 --object-path "$volume_path" \
                        --method org.zumastor.Zumastor1.Volume.CreateSnapshot "s$i" \
                        "{'attach': <false>}" >/dev/null
                if ((i % 200 == 0)); then
                        progress "  $i snapshots"
                fi
        done
        create_end=$(date +%s%N)
        for ((; i <= many_snapshots; i++)); do
                zumactl snapshot "$volume" "s$i" --no-attach >/dev/null
        done
        zumactl_end=$(date +%s%N)
        count=$(snapshot_count)
        [ "$count" = "$many_snapshots" ] || die "the volume holds $count snapshots, not $many_snapshots"
        newest=s$many_snapshots
        snapshots=$many_snapshots
        create_s=$(calc "($create_end - $create_start) / 1e9")
        create_ms=$(calc "($create_end - $create_start) / 1e6 / $bus_creates")
        zumactl_ms=$(calc "($zumactl_end - $create_end) / 1e6 / $zumactl_samples")
        progress "$bus_creates snapshots in $create_s s over D-Bus; zumactl snapshot: $zumactl_ms ms each"
        emit "frontend_snapshot_create_ms_to_$many_snapshots" "$create_ms" ms nan \
                "mean wall time of one gdbus call of Volume.CreateSnapshot (attach false; process start, D-Bus round trip, durable create) for snapshots 2..$((bus_creates + 1)), no writes between them, $create_s s in all"
        emit "zumactl_snapshot_ms_at_$many_snapshots" "$zumactl_ms" ms nan \
                "mean wall time of zumactl snapshot VOL NAME --no-attach for snapshots $((bus_creates + 2))..$many_snapshots: the same create plus zumactl's process start and its lookup of the volume (FindVolume); compare frontend_snapshot_create_ms_to_$many_snapshots"

        first_write_pass
        first_many=$first_mibps
        copied_many=$first_copied
        progress "copy-out pass after $many_snapshots snapshots: $first_many MiB/s, $copied_many bytes copied out"
        measure_writes
        emit "frontend_write_seq_ratio_${many_snapshots}snap" "$seq_ratio" ratio "$seq_base" \
                "$seq_detail; $many_snapshots snapshots, $steady_note; goal within 5% of the 1snap figure $seq_ratio_1: $(ratio "$seq_ratio" "$seq_ratio_1")x, $(within_goal "$seq_ratio" "$seq_ratio_1"); $setup_note"
        emit "frontend_write_rand4k_ratio_${many_snapshots}snap" "$rand_ratio" ratio "$rand_base" \
                "$rand_detail; $many_snapshots snapshots, $steady_note; goal within 5% of the 1snap figure $rand_ratio_1: $(ratio "$rand_ratio" "$rand_ratio_1")x, $(within_goal "$rand_ratio" "$rand_ratio_1"); $setup_note"
        emit "frontend_write_seq_first_after_snapshot_mbps_${many_snapshots}snap" "$first_many" MiB/s nan \
                "the copy-out pass again, right after snapshots 2..$many_snapshots (no writes between them, so every chunk is shared by $((many_snapshots - 1)) snapshots and copied out once): $first_note; after 1 snapshot it was $first_1 MiB/s; the store grew by $copied_many data bytes during the pass; $setup_note"
        emit "frontend_write_seq_first_after_snapshot_ratio_${many_snapshots}snap" \
                "$(ratio "$first_many" "$seq_base")" ratio "$seq_base" \
                "frontend_write_seq_first_after_snapshot_mbps_${many_snapshots}snap against the plain loop's sequential MiB/s of the ${many_snapshots}snap rounds; $setup_note"
fi

# --- snapshot reads ---------------------------------------------------------
if phase_on read && [ -z "$newest" ]; then
        progress "phase read skipped: no phase before it took a snapshot"
elif phase_on read; then
        last=$newest
        progress "phase read: attaching snapshot $last"
        snapshot_dev=$(zumactl attach "$volume" "$last")
        [ -b "$snapshot_dev" ] || die "zumactl attach $volume $last printed no device: $snapshot_dev"
        snapshot_path=$snapshot_dev
        snapshot_how="device printed by zumactl attach"
        if [ $udev = 1 ] && zuma_test_wait_link "/dev/zumastor/$volume@$last" "$snapshot_dev" 20; then
                snapshot_path=/dev/zumastor/$volume@$last
                snapshot_how="via udev"
        fi
        measure_pair "$origin_path" "$snapshot_path" read 1M $seq_depth
        read_ratio=$(ratio "$test_mibps" "$base_mibps")
        emit frontend_read_seq_ratio_snapshot_vs_origin "$read_ratio" ratio "$base_mibps" \
                "1 MiB sequential reads, iodepth $seq_depth, of snapshot $last ($snapshot_path, $snapshot_how, loop dio=$(loop_dio "$snapshot_dev")) at $test_mibps MiB/s vs the origin device $origin_path at $base_mibps MiB/s ($rounds_note); the snapshot's every chunk was copied out by the sequential pass after it was taken, so all of it is read from the store, laid out in the order of that pass, with $snapshots snapshots in the store; goal >= 0.8: $(at_least "$read_ratio" 0.8); $setup_note"

        count=$(snapshot_count)
        [ "$count" = "$snapshots" ] || die "the volume ends with $count snapshots, not $snapshots"
fi

# --- reads of a snapshot after churn ----------------------------------------
if phase_on read-churn; then
        # The snapshot above was copied out whole, in order.  A snapshot of a live
        # volume sees random writes after it was taken: part of it is read from the
        # origin, part from the store, copied out in the order the writes came.
        progress "phase read-churn: one more snapshot, then random ${chunk_kb} KiB writes of a quarter of the origin's size"
        zumactl snapshot "$volume" churned --no-attach >/dev/null
        # A fixed amount, not a time: the share copied out must not depend on how
        # fast copy-out is.  Writes of a quarter of the origin, one chunk each, at
        # random (with repeats) hit 1 - e^-0.25, about 22%, of its chunks.
        timeout 900 fio --name=churn --filename="$origin_path" --ioengine=libaio --direct=1 \
                --rw=randwrite --bs="${chunk_kb}K" --iodepth=$rand_depth --size="$origin_bytes" \
                --io_size=$((origin_bytes / 4)) --randrepeat=0 --norandommap --end_fsync=1 \
                --output=/dev/null >&2 || die "fio randwrite on $origin_path failed (status $?)"
        churn_dev=$(zumactl attach "$volume" churned)
        [ -b "$churn_dev" ] || die "zumactl attach $volume churned printed no device: $churn_dev"
        measure_pair "$origin_path" "$churn_dev" read 1M $seq_depth
        churn_ratio=$(ratio "$test_mibps" "$base_mibps")
        emit frontend_read_seq_ratio_churned_snapshot_vs_origin "$churn_ratio" ratio "$base_mibps" \
                "1 MiB sequential reads, iodepth $seq_depth, of a snapshot ($churn_dev, loop dio=$(loop_dio "$churn_dev")) that saw random ${chunk_kb} KiB writes (iodepth $rand_depth) of a quarter of the origin's size after it was taken: about 22% of its chunks copied out in the order of the writes, the rest read from the origin; $test_mibps MiB/s vs the origin device $origin_path at $base_mibps MiB/s ($rounds_note); goal >= 0.8: $(at_least "$churn_ratio" 0.8); $setup_note"
fi
progress "done in $((SECONDS - bench_start)) s"
