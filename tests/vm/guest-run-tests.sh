#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs guest tests one after another inside the qemu guest (started by
# tests/vm/vm-suite.sh through run-guest.sh) and leaves each one's verdict
# where the host reads it:
#
#   guest-run-tests.sh OUTDIR TESTDIR NAME...
#
# runs TESTDIR/NAME.sh with bash for each NAME, as root, under `timeout`
# (ZUMA_VM_TEST_TIMEOUT seconds, 120), its stdout and stderr in
# OUTDIR/NAME.log, its exit status in OUTDIR/NAME.status (0 passed, 77
# skipped, anything else failed; 124 is the timeout), its seconds in
# OUTDIR/NAME.time and the kernel's messages while it ran in
# OUTDIR/NAME.dmesg.  A test whose kernel messages show a splat (WARNING:,
# BUG:, an Oops, a hung task, ...) fails even if it exited 0, unless
# ZUMA_VM_KERNEL_WARNINGS=ignore.  OUTDIR is on a read-write share, so the
# host sees each file as it is written.
#
# What a guest test gets: the environment of run-guest.sh (with
# ZUMA_VM_DISKS, the scratch disks: "/dev/vda /dev/vdb ..."), plus ZUMA_VM_OUT
# (OUTDIR/NAME.d, a directory of its own on the host), ZUMA_BUILD_ROOT and
# ZUMA_SOURCE_ROOT (passed through from the host).  Every test may use
# every scratch disk: between tests, every device-mapper device is removed
# and the first 4 MiB of each disk are zeroed, so no test sees another's
# volume groups or file systems.  A test still cleans up after itself (it
# unmounts what it mounted), or the next one may find a disk busy.
set -uo pipefail

[ $# -ge 3 ] || { echo "usage: guest-run-tests.sh OUTDIR TESTDIR NAME..." >&2; exit 2; }
out=$1 dir=$2
shift 2
per_test=${ZUMA_VM_TEST_TIMEOUT:-120}
SPLATS='WARNING: |BUG: |Oops|general protection fault|Call Trace:|blocked for more than|kmemleak: .*new suspected|UBSAN:|KASAN:'

# Under TCG every program started costs 0.2-0.8 s, so the bookkeeping here
# stays in bash builtins where it can.

# Microseconds since boot, from /proc/uptime (centiseconds).
uptime_us() {
        local up
        read -r up _ < /proc/uptime
        echo $((10#${up/./} * 10000))
}

# The kernel's messages stamped at or after SINCE (microseconds of uptime).
dmesg_since() {
        local line stamp
        while IFS= read -r line; do
                stamp=${line#[}
                stamp=${stamp%%]*}
                stamp=${stamp// /}
                [[ $stamp =~ ^[0-9]+\.[0-9]{6}$ ]] || continue
                [ $((10#${stamp/./})) -ge "$1" ] && printf '%s\n' "$line"
        done < <(dmesg)
}

# ZUMA_VM_DISKS comes from run-guest.sh (the disks of --disks only).
ZUMA_VM_DISKS=${ZUMA_VM_DISKS:-}

clean_disks() {
        local disk mapped
        mapped=(/dev/mapper/*)
        [ "${#mapped[@]}" -le 1 ] || dmsetup remove_all --force > /dev/null 2>&1
        for disk in $ZUMA_VM_DISKS; do
                dd if=/dev/zero of="$disk" bs=1M count=4 oflag=direct status=none 2> /dev/null
        done
}

for name in "$@"; do
        script=$dir/$name.sh
        mkdir -p "$out/$name.d"
        since=$(uptime_us)
        if [ ! -f "$script" ]; then
                echo "guest-run-tests: no test $script" > "$out/$name.log"
                status=2
        else
                ZUMA_VM_OUT=$out/$name.d timeout -k 5 "$per_test" bash "$script" > "$out/$name.log" 2>&1
                status=$?
                [ "$status" != 124 ] || echo "guest-run-tests: $name did not finish within $per_test s (ZUMA_VM_TEST_TIMEOUT)" >> "$out/$name.log"
        fi
        took=$(($(uptime_us) - since))
        dmesg_since "$since" > "$out/$name.dmesg"
        if [ "$status" = 0 ] && [ "${ZUMA_VM_KERNEL_WARNINGS:-fail}" != ignore ] &&
                [[ $(< "$out/$name.dmesg") =~ $SPLATS ]]; then
                echo "guest-run-tests: $name passed, but the kernel's log shows trouble while it ran (ZUMA_VM_KERNEL_WARNINGS=ignore lets it pass):" >> "$out/$name.log"
                grep -E -A 12 "$SPLATS" "$out/$name.dmesg" | head -n 60 >> "$out/$name.log"
                status=1
        fi
        seconds=$(printf '%d.%d' $((took / 1000000)) $((took / 100000 % 10)))
        echo "$seconds" > "$out/$name.time"
        echo "$status" > "$out/$name.status"
        case $status in
        0) verdict=ok ;;
        77) verdict=skipped ;;
        *) verdict="FAILED (exit $status)" ;;
        esac
        echo "guest: $name: $verdict, $seconds s"
        clean_disks
done
exit 0
