#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# kernel-bench.sh: origin write throughput through the `zumastor` dm target
# (kernel/) against the raw disk, classic dm-snapshot (1 and 8 snapshots)
# and dm-thin (1 thin snapshot), in the qemu guest of tests/vm/run-guest.sh
# on the same two virtual disks (issue 16).  This machine's kernel has no
# device-mapper: the host half builds the module for the guest's kernel
# (tests/kernel/build-module.sh), boots the guest with two scratch disks and
# passes on the JSON lines bench/kernel/guest-bench.sh prints there (its
# header says what is measured and how).  Progress on stderr.
#
# Timings under TCG are comparable only as ratios within one run: the
# output says so, and nothing is asserted.  Exit 77 (skipped, with the
# reason) when not root, ZUMA_VM_TESTS=0, built with -Dvm_tests=false, or
# the guest's packages are missing (build-aux/install-deps.sh).
#
# Environment (bench/README.md): ZUMA_BENCH_QUICK, ZUMA_BENCH_SEQ_MB,
# ZUMA_BENCH_RAND_MB, ZUMA_BENCH_RAND_IOS, ZUMA_BENCH_PHASES,
# ZUMA_KBENCH_SERVER (auto, real, fake), ZUMA_VM_TIMEOUT; from meson:
# ZUMA_BUILD_DIR, ZUMA_SOURCE_DIR, ZUMA_SNAPSHOTD, ZUMACTL,
# ZUMA_SCHEDULE_BENCH_CLIENT, ZUMA_FAKE_SERVER, ZUMA_VM_TESTS_BUILT.
set -euo pipefail
export LC_ALL=C

: "${ZUMA_SOURCE_DIR:=$(realpath "$(dirname "$(realpath "$0")")/..")}"
: "${ZUMA_BUILD_DIR:=${MESON_BUILD_ROOT:-$ZUMA_SOURCE_DIR/build}}"
: "${ZUMA_SNAPSHOTD:=$ZUMA_BUILD_DIR/agents/snapshotd/zuma-snapshotd}"
: "${ZUMACTL:=$ZUMA_BUILD_DIR/zumactl/zumactl}"
: "${ZUMA_SCHEDULE_BENCH_CLIENT:=$ZUMA_BUILD_DIR/bench/schedule-bench-client}"
: "${ZUMA_FAKE_SERVER:=$ZUMA_BUILD_DIR/tests/kernel/zuma-fake-server}"
ZUMA_SOURCE_DIR=$(realpath "$ZUMA_SOURCE_DIR")
ZUMA_BUILD_DIR=$(realpath "$ZUMA_BUILD_DIR")

skip() {
        echo "kernel-bench: skipped: $*" >&2
        exit 77
}
die() {
        echo "kernel-bench: $*" >&2
        exit 1
}

[ "${ZUMA_VM_TESTS:-1}" != 0 ] || skip "ZUMA_VM_TESTS=0 (the qemu guest is off)"
[ "${ZUMA_VM_TESTS_BUILT:-true}" = true ] || skip "configured with -Dvm_tests=false"
[ "$(id -u)" = 0 ] || skip "the qemu guest shares this machine's root only when run as root"
command -v fio >/dev/null || skip "fio is not installed"
run_guest=$ZUMA_SOURCE_DIR/tests/vm/run-guest.sh
kv=$("$run_guest" --kernel-version 2>&1) || skip "no kernel for the guest: $kv"
command -v "${ZUMA_VM_QEMU:-qemu-system-x86_64}" >/dev/null ||
        skip "no ${ZUMA_VM_QEMU:-qemu-system-x86_64} (qemu-system-x86; build-aux/install-deps.sh)"
[ -d "/lib/modules/$kv/build" ] || skip "no headers for $kv (linux-headers-$kv; build-aux/install-deps.sh)"

if [ "${ZUMA_BENCH_QUICK:-0}" != 0 ]; then
        seq_mb=${ZUMA_BENCH_SEQ_MB:-32} rand_mb=${ZUMA_BENCH_RAND_MB:-16}
else
        seq_mb=${ZUMA_BENCH_SEQ_MB:-512} rand_mb=${ZUMA_BENCH_RAND_MB:-128}
fi
# What guest-bench.sh lays out on the disks (its sizes, with room to spare):
# vda the origin area and the thin pool (3x), vdb eight COWs (8x plus).
origin_mb=$((seq_mb + rand_mb))
disk_mb=$((9 * origin_mb + 128))

out=$ZUMA_BUILD_DIR/bench/kernel
mkdir -p "$out"
# Built again only when a file of kernel/ (or the kernel) is newer.
ko=$out/dm-zumastor.ko
if [ ! -f "$ko" ] ||
        [ -n "$(find "$ZUMA_SOURCE_DIR/kernel" "/lib/modules/$kv/build/Makefile" -newer "$ko" -print -quit)" ]; then
        echo "kernel-bench: building dm-zumastor.ko for $kv" >&2
        "$ZUMA_SOURCE_DIR/tests/kernel/build-module.sh" "$ZUMA_SOURCE_DIR/kernel" "$ko" >&2 ||
                die "the module does not build"
fi
if [ ! -x "$ZUMA_FAKE_SERVER" ]; then
        ZUMA_FAKE_SERVER=$out/zuma-fake-server
        cc -std=gnu11 -O2 -Wall -Wextra -o "$ZUMA_FAKE_SERVER" \
                "$ZUMA_SOURCE_DIR/tests/kernel/zuma-fake-server.c" || die "the fake server does not build"
fi

# The guest sees this machine's root, but /tmp, /var/tmp and /run are its
# own: a tree under one of them is shared (as tests/vm/vm-suite.sh does).
shares=()
for dir in "$ZUMA_SOURCE_DIR" "$ZUMA_BUILD_DIR"; do
        case $dir/ in
        /tmp/* | /var/tmp/* | /run/*) shares+=(--share "$dir") ;;
        esac
done

console=$out/console.log
# Other tenants of this machine slow the emulated CPU: their load is worth
# knowing when two runs disagree.
echo "kernel-bench: guest with two ${disk_mb} MiB disks (console: $console); host load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
status=0
"$run_guest" --disks 2 --disk-size "${disk_mb}M" --timeout "${ZUMA_VM_TIMEOUT:-3000}" \
        "${shares[@]}" --console "$console" \
        --env "ZUMA_SOURCE_DIR=$ZUMA_SOURCE_DIR" --env "ZUMA_BUILD_DIR=$ZUMA_BUILD_DIR" \
        --env "ZUMA_SNAPSHOTD=$ZUMA_SNAPSHOTD" --env "ZUMACTL=$ZUMACTL" \
        --env "ZUMA_SCHEDULE_BENCH_CLIENT=$ZUMA_SCHEDULE_BENCH_CLIENT" \
        --env "ZUMA_BENCH_QUICK=${ZUMA_BENCH_QUICK:-0}" \
        --env "ZUMA_BENCH_SEQ_MB=$seq_mb" --env "ZUMA_BENCH_RAND_MB=$rand_mb" \
        --env "ZUMA_BENCH_RAND_IOS=${ZUMA_BENCH_RAND_IOS:-}" \
        --env "ZUMA_BENCH_PHASES=${ZUMA_BENCH_PHASES:-}" \
        --env "ZUMA_KBENCH_SERVER=${ZUMA_KBENCH_SERVER:-auto}" \
        -- "$ZUMA_SOURCE_DIR/bench/kernel/guest-bench.sh" \
        --module "$ko" --fake-server "$ZUMA_FAKE_SERVER" || status=$?
echo "kernel-bench: host load average $(cut -d' ' -f1-3 /proc/loadavg) at the end" >&2
[ $status = 0 ] || die "the guest run failed (status $status; console: $console)"
