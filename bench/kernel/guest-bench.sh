#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# guest-bench.sh: the in-guest half of bench/kernel-bench.sh (issue 16).
# Runs as root in the qemu guest of tests/vm/run-guest.sh, on its two
# scratch disks, and prints one JSON line per metric on stdout (the format
# of bench/bench-lib.sh's emit); progress on stderr.
#
# Origin write throughput, fio with O_DIRECT (libaio), through:
#   raw        /dev/vda itself (measured first and last, the passes summed)
#   dmsnap1/8  snapshot-origin on /dev/vda with 1 or 8 persistent `snapshot`
#              targets, each COW a linear slice of /dev/vdb, 16 KiB chunks
#   dmthin     thin-pool (data: a slice of /dev/vda after the origin area,
#              metadata: a slice of /dev/vdb, 64 KiB blocks, the minimum),
#              thin volume written through once, one thin snapshot, then the
#              thin volume is the origin written
#   zuma1/1000 the `zumastor` target, origin /dev/vda, store /dev/vdb, 16 KiB
#              chunks (zumastor's default), after 1 and after 1,000 snapshots
#              (snapshots 2..1000 taken with no write between them)
# Each configuration is set up, its snapshots taken, then timed: one
# sequential pass of 1 MiB writes (iodepth 4) over the first SEQ_MB of the
# origin, then RAND_IOS random 4 KiB writes (iodepth 16, the same sequence
# each time) over the next RAND_MB; every chunk they touch was last written
# before the newest snapshot, so every first write of a chunk copies out
# (dm-thin: breaks sharing; a whole 64 KiB block overwritten needs no copy).
# Each pass ends with an fsync, counted.  Everything the timed passes
# write was written once before (the disks are sparse files on the host,
# whose first write of a block costs up to 4x).
#
# The zumastor server (ZUMA_KBENCH_SERVER):
#   real   zuma-snapshotd --frontend=kernel on a private bus
#          (tests/bus/zuma-test-bus.sh), the volume defined with
#          `zumactl define volume ... --initialize`, snapshot 1 with
#          zumactl, 2..1000 with one process's CreateSnapshot calls
#          (bench/schedule-bench-client create)
#   fake   tests/kernel/zuma-fake-server.c (a linear exception list, no
#          real store: its figures say nothing about zuma-snapshotd)
#   auto   real when zuma-snapshotd --help offers a kernel frontend, else
#          fake (the default)
#
#   guest-bench.sh --module KO [--fake-server BIN]
#
# Environment: ZUMA_VM_DISKS (two disks, from run-guest.sh),
# ZUMA_BENCH_SEQ_MB, ZUMA_BENCH_RAND_MB, ZUMA_BENCH_RAND_IOS,
# ZUMA_BENCH_QUICK, ZUMA_BENCH_PHASES (comma list of raw, dmsnap1, dmsnap8,
# dmthin, zuma; default all), ZUMA_KBENCH_SERVER, ZUMA_SOURCE_DIR,
# ZUMA_BUILD_DIR, ZUMA_SNAPSHOTD, ZUMACTL, ZUMA_SCHEDULE_BENCH_CLIENT.
set -euo pipefail
export LC_ALL=C

: "${ZUMA_SOURCE_DIR:=$(realpath "$(dirname "$(realpath "$0")")/../..")}"
: "${ZUMA_BUILD_DIR:=$ZUMA_SOURCE_DIR/build}"
: "${ZUMA_SNAPSHOTD:=$ZUMA_BUILD_DIR/agents/snapshotd/zuma-snapshotd}"
: "${ZUMACTL:=$ZUMA_BUILD_DIR/zumactl/zumactl}"
: "${ZUMA_SCHEDULE_BENCH_CLIENT:=$ZUMA_BUILD_DIR/bench/schedule-bench-client}"
export ZUMA_SOURCE_DIR ZUMA_BUILD_DIR ZUMA_SNAPSHOTD

BENCH_NAME=kernel-bench
# shellcheck source-path=SCRIPTDIR source=../bench-lib.sh
. "$ZUMA_SOURCE_DIR/bench/bench-lib.sh"

module="" fake_server=""
while [ $# -gt 0 ]; do
        case $1 in
        --module) module=$2; shift 2 ;;
        --fake-server) fake_server=$2; shift 2 ;;
        *) die "usage: guest-bench.sh --module KO [--fake-server BIN]" ;;
        esac
done
[ -f "$module" ] || die "no module (--module KO)"
[ "$(id -u)" = 0 ] || die "needs root (the qemu guest)"

if [ "${ZUMA_BENCH_QUICK:-0}" != 0 ]; then
        seq_mb=${ZUMA_BENCH_SEQ_MB:-32} rand_mb=${ZUMA_BENCH_RAND_MB:-16} rand_ios=${ZUMA_BENCH_RAND_IOS:-512}
        run_kind="quick run"
else
        seq_mb=${ZUMA_BENCH_SEQ_MB:-512} rand_mb=${ZUMA_BENCH_RAND_MB:-128} rand_ios=${ZUMA_BENCH_RAND_IOS:-4096}
        run_kind="full run"
fi
require_positive seq_mb rand_mb rand_ios
phases=${ZUMA_BENCH_PHASES:-raw,dmsnap1,dmsnap8,dmthin,zuma}
phase_on() { [[ ",$phases," == *",$1,"* ]]; }

many=1000        # the metric names carry it: not a knob
chunk_sectors=32 # 16 KiB: SS_CHUNK_SIZE_DEFAULT, zumactl's default
thin_block=128   # 64 KiB: the smallest dm-thin block
origin_mb=$((seq_mb + rand_mb))
origin_sectors=$((origin_mb * 2048))
# A COW holds the chunks the passes copy out (the sequential area and at
# most one chunk per random write) plus one 16-byte exception per chunk in
# 16 KiB metadata chunks (1/1024) and the header: 1/32 and 8 MiB spare.
cow_data_mb=$((seq_mb + (rand_ios * chunk_sectors / 2048 < rand_mb ? rand_ios * chunk_sectors / 2048 : rand_mb)))
cow_mb=$((cow_data_mb + cow_data_mb / 32 + 8))
pool_mb=$((2 * origin_mb + 64)) # the thin volume and its snapshot's old blocks
thin_meta_mb=64
store_span_mb=$((8 * cow_mb > 3 * origin_mb ? 8 * cow_mb : 3 * origin_mb))
tag=kbench

# shellcheck disable=SC2206 # two disk names
disks=(${ZUMA_VM_DISKS:-})
[ ${#disks[@]} -ge 2 ] || die "needs two scratch disks (run-guest.sh --disks 2), ZUMA_VM_DISKS='${ZUMA_VM_DISKS:-}'"
vda=${disks[0]} vdb=${disks[1]}
size_mb() { echo $(($(blockdev --getsize64 "$1") / 1048576)); }
[ "$(size_mb "$vda")" -ge $((origin_mb + pool_mb)) ] ||
        die "$vda: $(size_mb "$vda") MiB, needs $((origin_mb + pool_mb))"
[ "$(size_mb "$vdb")" -ge "$store_span_mb" ] ||
        die "$vdb: $(size_mb "$vdb") MiB, needs $store_span_mb"

server=${ZUMA_KBENCH_SERVER:-auto}
server_asked=$server
if [ "$server" = auto ]; then
        server=fake
        if [ -x "$ZUMA_SNAPSHOTD" ] && "$ZUMA_SNAPSHOTD" --help 2>&1 | grep -- '--frontend=' | grep -qw kernel; then
                server=real
        fi
fi
case $server in
real)
        for tool in "$ZUMACTL" "$ZUMA_SCHEDULE_BENCH_CLIENT"; do
                [ -x "$tool" ] || die "server real: no $tool"
        done
        ;;
fake) [ -x "$fake_server" ] || die "server fake: no fake server (--fake-server BIN)" ;;
*) die "ZUMA_KBENCH_SERVER=$server: real, fake or auto" ;;
esac

TMP=$(mktemp -d /tmp/kernel-bench.XXXXXX)
server_pid=
dm_names=() # created, removed in reverse order

cleanup() {
        local status=$? i

        set +e
        for ((i = ${#dm_names[@]} - 1; i >= 0; i--)); do
                dmsetup remove --noudevsync "${dm_names[i]}" 2>/dev/null
        done
        if [ -n "$server_pid" ]; then
                kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
        fi
        rm -rf "$TMP"
        if declare -F zuma_test_cleanup >/dev/null; then
                # The private bus and the daemon (tests/bus/zuma-test-bus.sh);
                # it exits with the status it finds in $?.
                (exit $status)
                zuma_test_cleanup
        fi
        exit $status
}
trap cleanup EXIT

# dm NAME TABLE: dmsetup create without udev, remembered for the cleanup.
dm() {
        dmsetup create --noudevsync "$1" --table "$2" || die "dmsetup create $1 ($2) failed"
        dm_names+=("$1")
}
# dm_concise SPEC: several devices in one dmsetup create --concise
# ("NAME,,,rw,TABLE;..."), remembered for the cleanup.
dm_concise() {
        local specs spec

        dmsetup create --noudevsync --concise "$1" || die "dmsetup create --concise '$1' failed"
        IFS=';' read -r -a specs <<<"$1"
        for spec in "${specs[@]}"; do dm_names+=("${spec%%,*}"); done
}
dm_remove_all() {
        local i

        for ((i = ${#dm_names[@]} - 1; i >= 0; i--)); do
                dmsetup remove --noudevsync "${dm_names[i]}" || die "dmsetup remove ${dm_names[i]} failed"
        done
        dm_names=()
}
# zero DEV MB_OFFSET KB: KB KiB of zeros at that offset (a header to forget).
zero() {
        dd if=/dev/zero of="$1" bs=1K count="$3" seek=$(($2 * 1024)) oflag=direct conv=notrunc status=none ||
                die "cannot zero $1 at $2 MiB"
}

# fio_pass DEV seq|rand|fill OFFSET_MB SIZE_MB: one fio job; prints
# "KIB MS" (fio's own runtime, the end fsync included).
fio_pass() {
        local dev=$1 kind=$2 args out
        args=(--name=kbench --filename="$dev" --ioengine=libaio --direct=1 --end_fsync=1
                --offset="$3M" --size="$4M" --output-format=terse --terse-version=3)
        case $kind in
        seq | fill) args+=(--rw=write --bs=1M --iodepth=4) ;;
        rand) args+=(--rw=randwrite --bs=4k --iodepth=16 --number_ios="$rand_ios" --randrepeat=1) ;;
        esac
        out=$(timeout 900 fio "${args[@]}") || die "fio $kind on $dev failed"
        # terse v3: field 47 written KiB, 50 write runtime (ms)
        awk -F';' '{ print $47, $50 }' <<<"$out"
}
mibps() { awk -v kib="$1" -v ms="$2" 'BEGIN { if (ms + 0 == 0) print "nan"; else printf "%.1f\n", kib / 1024 / (ms / 1000) }'; }

declare -A seq_mibps rand_mibps
# measure CONFIG DEV: the timed sequential and random passes.
measure() {
        local cfg=$1 dev=$2 kib ms out

        out=$(fio_pass "$dev" seq 0 "$seq_mb")
        read -r kib ms <<<"$out"
        seq_mibps[$cfg]=$(mibps "$kib" "$ms")
        out=$(fio_pass "$dev" rand "$seq_mb" "$rand_mb")
        read -r kib ms <<<"$out"
        rand_mibps[$cfg]=$(mibps "$kib" "$ms")
        progress "$cfg: sequential ${seq_mibps[$cfg]} MiB/s, random 4k ${rand_mibps[$cfg]} MiB/s"
}

# --- raw -----------------------------------------------------------------

raw_kib=0 raw_ms=0 rraw_kib=0 rraw_ms=0
raw_passes() {
        local i kib ms out

        for i in 1 2; do
                out=$(fio_pass "$vda" seq 0 "$seq_mb")
                read -r kib ms <<<"$out"
                raw_kib=$((raw_kib + kib)) raw_ms=$((raw_ms + ms))
                out=$(fio_pass "$vda" rand "$seq_mb" "$rand_mb")
                read -r kib ms <<<"$out"
                rraw_kib=$((rraw_kib + kib)) rraw_ms=$((rraw_ms + ms))
        done
        progress "raw: sequential $(mibps "$raw_kib" "$raw_ms") MiB/s, random 4k $(mibps "$rraw_kib" "$rraw_ms") MiB/s (all raw passes so far)"
}

# --- dm-snapshot ---------------------------------------------------------

dmsnap() {
        local n=$1

        local i cows="" snaps=""

        # Few processes (each ~0.1-0.4 s under TCG): the COWs, then the
        # snapshots, each set in one dmsetup --concise.  The origin is
        # suspended and resumed after them, as LVM does: snapshot-origin
        # fixes at resume the boundary it splits bios at (the smallest
        # snapshot chunk); resumed without snapshots it splits nothing
        # and copies out only the first chunk of each bio.
        for ((i = 0; i < n; i++)); do
                zero "$vdb" $((i * cow_mb)) 64
                cows+="${cows:+;}kbcow$i,,,rw,0 $((cow_mb * 2048)) linear $vdb $((i * cow_mb * 2048))"
                snaps+="${snaps:+;}kbsnap$i,,,rw,0 $origin_sectors snapshot $vda /dev/mapper/kbcow$i P $chunk_sectors"
        done
        dm_concise "$cows"
        dm kborigin "0 $origin_sectors snapshot-origin $vda"
        dm_concise "$snaps"
        dmsetup suspend kborigin || die "cannot suspend kborigin"
        dmsetup resume kborigin || die "cannot resume kborigin"
        dmsetup mknodes
        measure "dmsnap$n" /dev/mapper/kborigin
        dm_remove_all
}

# --- dm-thin -------------------------------------------------------------

dmthin() {
        zero "$vdb" 0 64
        dm kbtmeta "0 $((thin_meta_mb * 2048)) linear $vdb 0"
        dm kbtdata "0 $((pool_mb * 2048)) linear $vda $origin_sectors"
        dm kbpool "0 $((pool_mb * 2048)) thin-pool /dev/mapper/kbtmeta /dev/mapper/kbtdata $thin_block 0 1 skip_block_zeroing"
        dmsetup message kbpool 0 "create_thin 0"
        dm kbthin "0 $origin_sectors thin /dev/mapper/kbpool 0"
        dmsetup mknodes
        fio_pass /dev/mapper/kbthin fill 0 "$origin_mb" >/dev/null
        dmsetup suspend kbthin
        dmsetup message kbpool 0 "create_snap 1 0"
        dmsetup resume kbthin
        measure dmthin /dev/mapper/kbthin
        dm_remove_all
}

# --- zumastor: the fake server -------------------------------------------
# Its stdout is a FIFO this shell reads with `read` (no process per
# snapshot: under TCG each costs ~0.1 s); commands go to its FIFO.

zuma_fake_start() {
        mkfifo "$TMP/commands" "$TMP/server.out"
        "$fake_server" --tag $tag-fake --origin "$vda" --store "$vdb" --chunk-sectors $chunk_sectors \
                --commands "$TMP/commands" >"$TMP/server.out" 2>"$TMP/server.err" &
        server_pid=$!
        exec {server_out}<"$TMP/server.out" {server_in}>"$TMP/commands"
        wait_line '^serving' || die "the fake server did not start: $(cat "$TMP/server.err")"
        dm kzorigin "0 $origin_sectors zumastor origin $vda $vdb $chunk_sectors $tag-fake"
        dmsetup mknodes
        zuma_dev=/dev/mapper/kzorigin
        zuma_snapshots=0
}
wait_line() { # wait_line REGEX: read the server's lines until one matches
        local line

        while read -r -t 120 line <&"$server_out"; do
                [[ $line =~ $1 ]] && return 0
        done
        return 1
}
zuma_fake_snapshots() { # zuma_fake_snapshots COUNT: that many more
        local i

        for ((i = 0; i < $1; i++)); do
                echo snapshot >&"$server_in"
                zuma_snapshots=$((zuma_snapshots + 1))
                wait_line "^snapshot $zuma_snapshots created" || die "snapshot $zuma_snapshots failed: $(cat "$TMP/server.err")"
        done
}
zuma_fake_stop() {
        dm_remove_all
        echo quit >&"$server_in"
        wait "$server_pid" || true
        server_pid=
}

# --- zumastor: zuma-snapshotd --frontend=kernel ----------------------------

zuma_real_start() {
        local status

        # shellcheck source-path=SCRIPTDIR source=../../tests/bus/zuma-test-bus.sh
        . "$ZUMA_SOURCE_DIR/tests/bus/zuma-test-bus.sh"
        zuma_test_setup
        trap cleanup EXIT # ours, which stops the bus and the daemon too
        zuma_test_start_bus || die "no private bus"
        if ! ZUMA_TEST_FRONTEND=kernel ZUMA_TEST_TIMEOUT=60 zuma_test_start_daemon; then
                zuma_real_failed "zuma-snapshotd did not start"
                return
        fi
        if ! timeout 300 "$ZUMACTL" --no-progress define volume $tag "$vda" "$vdb" --initialize \
                --chunk-size $((chunk_sectors / 2))K --full-policy refuse >&2; then
                zuma_real_failed "zumactl define volume failed"
                return
        fi
        status=$(timeout 300 "$ZUMACTL" --json status $tag)
        read -r zuma_dev zuma_volume_path <<<"$(json_field device object_path <<<"$status")"
        [ -b "$zuma_dev" ] || die "volume $tag has no origin device (status: $status)"
        zuma_snapshots=0
}
# zuma_real_failed WHAT: ZUMA_KBENCH_SERVER=real dies; auto says so and
# falls back to the fake server (every note then names it), so that a
# server whose kernel frontend cannot run here yet leaves the rest of the
# figures.
zuma_real_failed() {
        local log

        log=$(tail -n 20 "$ZUMA_TEST_DIR/snapshotd.log")
        [ "$server_asked" = auto ] || die "$1: $log"
        progress "$1; falling back to the fake server (ZUMA_KBENCH_SERVER=real makes this fatal); the daemon's log:"
        echo "$log" >&2
        zuma_test_stop_daemon || true
        server=fake
        real_failed="zuma-snapshotd --frontend=kernel failed here ($1), so"
        zuma_fake_start
}
zuma_real_snapshots() { # zuma_real_snapshots COUNT
        local i

        if [ "$zuma_snapshots" = 0 ]; then
                timeout 300 "$ZUMACTL" --no-progress snapshot $tag s1 --no-attach >/dev/null ||
                        die "zumactl snapshot failed: $(tail -n 20 "$ZUMA_TEST_DIR/snapshotd.log")"
                zuma_snapshots=1
                set -- $(($1 - 1))
        fi
        [ "$1" -gt 0 ] || return 0
        for ((i = zuma_snapshots + 1; i <= zuma_snapshots + $1; i++)); do echo "s$i"; done |
                timeout 1800 "$ZUMA_SCHEDULE_BENCH_CLIENT" create "$zuma_volume_path" 0 >/dev/null ||
                die "CreateSnapshot failed: $(tail -n 20 "$ZUMA_TEST_DIR/snapshotd.log")"
        zuma_snapshots=$((zuma_snapshots + $1))
}
zuma_real_stop() {
        zuma_test_stop_daemon || die "zuma-snapshotd did not stop: $(tail -n 20 "$ZUMA_TEST_DIR/snapshotd.log")"
}

zuma() {
        local t0 t1

        "zuma_${server}_start"
        "zuma_${server}_snapshots" 1
        measure zuma1 "$zuma_dev"
        progress "taking snapshots 2..$many"
        t0=$(date +%s%N)
        "zuma_${server}_snapshots" $((many - 1))
        t1=$(date +%s%N)
        snapshot_ms=$(awk -v ns=$((t1 - t0)) -v n=$((many - 1)) 'BEGIN { printf "%.2f\n", ns / 1e6 / n }')
        progress "$((many - 1)) snapshots, $snapshot_ms ms each"
        measure zuma$many "$zuma_dev"
        "zuma_${server}_stop"
}

# --- the run -------------------------------------------------------------

progress "$run_kind: origin area $origin_mb MiB of $vda, stores on $vdb, server $server"
insmod "$module" timeout=120 || die "insmod $module failed"
dmesg -C 2>/dev/null || true

# Every block a timed pass writes is written once first (the host's first
# write of a block of its sparse file costs up to 4x): the origin area and
# the thin pool's data on vda, the COWs and stores on vdb; zeros, so every
# COW header and the thin metadata start out blank.  One fio, both disks.
fill_vda=$origin_mb fill_vdb=0
phase_on dmsnap1 && fill_vdb=$cow_mb
phase_on dmthin && fill_vda=$((origin_mb + pool_mb)) && fill_vdb=$((fill_vdb > thin_meta_mb ? fill_vdb : thin_meta_mb))
phase_on zuma && fill_vdb=$((fill_vdb > 3 * origin_mb ? fill_vdb : 3 * origin_mb))
phase_on dmsnap8 && fill_vdb=$((fill_vdb > 8 * cow_mb ? fill_vdb : 8 * cow_mb))
progress "writing the disks through once (vda $fill_vda MiB, vdb $fill_vdb MiB)"
fill_jobs=(--name=vda --filename="$vda" --size="${fill_vda}M")
[ "$fill_vdb" = 0 ] || fill_jobs+=(--name=vdb --filename="$vdb" --size="${fill_vdb}M")
timeout 900 fio --ioengine=libaio --direct=1 --end_fsync=1 --rw=write --bs=1M --iodepth=8 \
        --zero_buffers --output=/dev/null "${fill_jobs[@]}" || die "cannot write the disks through"

phase_on raw && raw_passes
phase_on dmsnap1 && dmsnap 1
phase_on dmsnap8 && dmsnap 8
phase_on dmthin && dmthin
phase_on zuma && zuma
phase_on raw && raw_passes

if dmesg | grep -Eq 'BUG:|WARNING:|Oops|general protection|Call Trace|INFO: task .* blocked'; then
        progress "the guest kernel logged trouble:"
        dmesg | grep -E -A 8 'BUG:|WARNING:|Oops|general protection|Call Trace|INFO: task .* blocked' | head -n 40 >&2
fi

# --- the figures -----------------------------------------------------------

tcg="qemu TCG guest: timings under TCG are comparable only as ratios within one run"
setup="$run_kind; fio libaio O_DIRECT on Debian $(uname -r) in qemu TCG; sequential: one pass of 1 MiB writes (iodepth 4) over $seq_mb MiB, random: $rand_ios 4 KiB writes (iodepth 16) over the next $rand_mb MiB, each pass ending with an fsync; every chunk written was last written before the newest snapshot; origin $vda, stores/COWs on $vdb (sparse files on the host, written through once before); 16 KiB chunks (dm-thin: 64 KiB blocks, its minimum, skip_block_zeroing); zumastor server: $server"
[ "$server" = real ] || setup="$setup (${real_failed:-} tests/kernel/zuma-fake-server.c: a stand-in, not zuma-snapshotd)"
setup="$setup; $tcg"
val() { # val ARRAY CONFIG: the figure, nan when the phase did not run
        local -n a=$1
        echo "${a[$2]:-nan}"
}
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { print (a != "nan" && a >= b) ? "meets it" : "misses it" }'; }

raw_seq=nan raw_rand=nan
if phase_on raw; then
        raw_seq=$(mibps $raw_kib $raw_ms)
        raw_rand=$(mibps $rraw_kib $rraw_ms)
fi
emit kernel_bench_note nan note nan "$tcg; every ratio below is of figures measured in this run on the same virtual disks"
emit kernel_raw_write_seq_mbps "$raw_seq" MiB/s nan "raw $vda, 4 passes (2 before, 2 after the others) summed; $setup"
emit kernel_raw_write_rand4k_mbps "$raw_rand" MiB/s nan "raw $vda, 4 passes summed; $setup"
for cfg in dmsnap1 dmsnap8 dmthin zuma1 zuma$many; do
        emit "kernel_${cfg}_write_seq_mbps" "$(val seq_mibps "$cfg")" MiB/s nan "$cfg, sequential pass; $setup"
        emit "kernel_${cfg}_write_rand4k_mbps" "$(val rand_mibps "$cfg")" MiB/s nan "$cfg, random pass; $setup"
done

z1=$(val seq_mibps zuma1) zm=$(val seq_mibps zuma$many)
z1r=$(val rand_mibps zuma1) zmr=$(val rand_mibps zuma$many)
r1=$(ratio "$z1" "$raw_seq") rm_=$(ratio "$zm" "$raw_seq")
emit kernel_origin_write_ratio_1snap "$r1" ratio "$raw_seq" \
        "zumastor origin after 1 snapshot ($z1 MiB/s) / raw ($raw_seq MiB/s), sequential; $setup"
emit kernel_origin_write_ratio_${many}snap "$rm_" ratio "$raw_seq" \
        "zumastor origin after $many snapshots ($zm MiB/s) / raw ($raw_seq MiB/s), sequential; goal within 5% of the 1snap figure $r1: $(ratio "$rm_" "$r1")x, $(at_least "$(ratio "$rm_" "$r1")" 0.95); snapshots 2..$many took ${snapshot_ms:-nan} ms each; $setup"
emit kernel_origin_write_rand4k_ratio_1snap "$(ratio "$z1r" "$raw_rand")" ratio "$raw_rand" \
        "zumastor origin after 1 snapshot ($z1r MiB/s) / raw ($raw_rand MiB/s), random 4 KiB; $setup"
emit kernel_origin_write_rand4k_ratio_${many}snap "$(ratio "$zmr" "$raw_rand")" ratio "$raw_rand" \
        "zumastor origin after $many snapshots ($zmr MiB/s) / raw ($raw_rand MiB/s), random 4 KiB; against 1snap: $(ratio "$zmr" "$z1r")x; $setup"
for n in 1 8; do
        d=$(val seq_mibps dmsnap$n) dr=$(val rand_mibps dmsnap$n)
        goal=""
        [ $n = 8 ] && goal="goal > 1 (ahead of dm-snapshot with 8 snapshots): $(at_least "$(ratio "$z1" "$d")" 1); "
        emit kernel_vs_dmsnap_${n}_ratio "$(ratio "$z1" "$d")" ratio "$d" \
                "zumastor after 1 snapshot ($z1 MiB/s) / dm-snapshot with $n persistent snapshot(s) ($d MiB/s), sequential; ${goal}random 4 KiB: $z1r vs $dr MiB/s, $(ratio "$z1r" "$dr")x; $setup"
done
t=$(val seq_mibps dmthin) tr=$(val rand_mibps dmthin)
emit kernel_vs_dmthin_ratio "$(ratio "$z1" "$t")" ratio "$t" \
        "zumastor after 1 snapshot ($z1 MiB/s) / dm-thin thin volume with 1 thin snapshot ($t MiB/s), sequential (dm-thin overwrites whole 64 KiB blocks without a copy); random 4 KiB: $z1r vs $tr MiB/s, $(ratio "$z1r" "$tr")x; $setup"
