#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# mount-bench.sh: zuma-mounterd against the real zuma-snapshotd on a private
# bus (tests/bus/zuma-test-bus.sh), one volume with ext4 on its origin.  One
# JSON object per metric on stdout, in zuma-bench's format; progress on
# stderr.  Nothing is asserted: the goals are printed in the notes.
#
#   mount_follow_ms      from `zumactl snapshot VOL NAME --no-attach` starting
#                        to the snapshot's mount appearing under the template
#                        (the mounter attaches the device and mounts it);
#                        median of ROUNDS.  The baseline, in the same run, is
#                        what a script would do by hand with the mounter told
#                        to mount no snapshots: `zumactl snapshot` (which
#                        attaches the device) then `mount -o ro,noload`.
#   hotplug_to_mounted_ms  from the loop attach of the volume's last device
#                        (the volume stopped, both devices detached) to its
#                        origin mounted by the mounter; median of ROUNDS.
#                        The baseline: the same attach with the mounter
#                        stopped, then `zumactl start` and `mount` by hand.
#                        (Left out when udevd cannot run.)
#
# Times come from bench/mount-wait.py, which sees the mount through a
# poll() on /proc/self/mountinfo, so they are the kernel's, not a polling
# interval's.
#
# Environment (bench/README.md): ZUMA_BENCH_QUICK, ZUMA_BENCH_MOUNT_ROUNDS;
# from meson: ZUMA_BUILD_DIR, ZUMA_SOURCE_DIR, ZUMA_SNAPSHOTD, ZUMA_MOUNTERD,
# ZUMACTL.
set -euo pipefail
export LC_ALL=C

: "${ZUMA_SOURCE_DIR:=$(realpath "$(dirname "$(realpath "$0")")/..")}"
: "${ZUMA_BUILD_DIR:=${MESON_BUILD_ROOT:-$ZUMA_SOURCE_DIR/build}}"
: "${ZUMACTL:=$ZUMA_BUILD_DIR/zumactl/zumactl}"
: "${ZUMA_MOUNTERD:=$ZUMA_BUILD_DIR/agents/mounterd/zuma-mounterd}"
export ZUMA_SOURCE_DIR ZUMA_BUILD_DIR

if [ "${ZUMA_BENCH_QUICK:-0}" != 0 ]; then
        rounds=${ZUMA_BENCH_MOUNT_ROUNDS:-10}
else
        rounds=${ZUMA_BENCH_MOUNT_ROUNDS:-30}
fi
volume=mbench
wait_s=60
mount_wait=("python3" "$ZUMA_SOURCE_DIR/bench/mount-wait.py" "$wait_s")

BENCH_NAME=mount-bench
# shellcheck source-path=SCRIPTDIR source=bench-lib.sh
. "$ZUMA_SOURCE_DIR/bench/bench-lib.sh"

require_positive rounds

# stats: "COUNT MEDIAN MAX" of the numbers on stdin, one a line.
stats() {
        sort -g | awk '{ v[NR] = $1 } END {
                if (NR == 0) { print 0, "nan", "nan"; exit }
                m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
                printf "%d %.3f %.3f\n", NR, m, v[NR] }'
}

# shellcheck source-path=SCRIPTDIR source=../tests/bus/zuma-test-bus.sh
. "$ZUMA_SOURCE_DIR/tests/bus/zuma-test-bus.sh"

zuma_test_require_root
for tool in python3 mkfs.ext4 losetup mountpoint sed; do
        command -v "$tool" >/dev/null || zuma_test_skip "$tool is not installed"
done
[ -x "$ZUMACTL" ] || zuma_test_skip "no zumactl at $ZUMACTL (build first)"
[ -x "$ZUMA_MOUNTERD" ] || zuma_test_skip "no zuma-mounterd at $ZUMA_MOUNTERD (build first)"
[ -c /dev/fuse ] || zuma_test_skip "no /dev/fuse"
"$ZUMA_SNAPSHOTD" --help 2>&1 | grep "default auto" >/dev/null ||
        zuma_test_skip "zuma-snapshotd was built without the FUSE frontend"
export ZUMA_TEST_FRONTEND=fuse

zuma_test_setup
T=$ZUMA_TEST_DIR
home=$T/home
mounter_pid=

mounter_start() {
        G_DEBUG=fatal-criticals "$ZUMA_MOUNTERD" --bus-address "$DBUS_SYSTEM_BUS_ADDRESS" \
                --state-dir "$T/mounter-state" --run-dir "$T/mounter-run" \
                --template "$T/snaps/{volume}@{snapshot}" \
                >>"$T/mounterd.log" 2>&1 </dev/null &
        mounter_pid=$!
        zuma_test_wait_name org.zumastor.Mounter1 || die "zuma-mounterd did not take its name"
}

mounter_stop() {
        kill -TERM "$mounter_pid"
        zuma_test_wait_exit "$mounter_pid" 30 || die "zuma-mounterd exited with $?"
        mounter_pid=
}

bench_cleanup() {
        local status=$?

        set +e
        [ -n "$mounter_pid" ] && zuma_test_alive "$mounter_pid" && mounter_stop
        (exit $status)
        zuma_test_cleanup
}
trap bench_cleanup EXIT

start_server

# --- setup ---

origin=$(zuma_test_loop_device origin 256M)
store=$(zuma_test_loop_device store 1024M)
zumactl define volume "$volume" "$origin" "$store" --initialize >/dev/null
dev=$(zumactl --json status "$volume" | json_field device)
[ -b "$dev" ] || die "volume $volume has no origin device"
mkfs.ext4 -q -F -E nodiscard "$dev" || die "mkfs.ext4 $dev failed"
mounter_start
mkdir -p "$home"
zumactl mount "$volume" --at "$home" --snapshots all >/dev/null
deadline=$((SECONDS + wait_s))
until mountpoint -q "$home"; do
        [ $SECONDS -lt $deadline ] || die "the mounter did not mount $home"
        sleep 0.05
done
note="ext4 on the origin of $volume (FUSE image over loop devices on sparse files in $(dirname "$T")), $rounds rounds"
progress "volume $volume mounted at $home; $rounds rounds"

# --- mount_follow_ms ---

progress "mount_follow: zumactl snapshot, the mounter mounts it"
for ((i = 0; i < rounds; i++)); do
        head -c 1M /dev/urandom >"$home/f$((i % 8))"
        sync -f "$home"
        "${mount_wait[@]}" "$T/snaps/$volume@follow$i" -- \
                "$ZUMACTL" --no-progress snapshot "$volume" "follow$i" --no-attach ||
                die "snapshot follow$i was not mounted (log: $(tail -n 5 "$T/mounterd.log"))"
done >"$T/follow"
read -r follow_n follow_median follow_max < <(stats <"$T/follow")
progress "  $follow_n snapshots: median $follow_median ms, max $follow_max ms"

progress "baseline: the mounter mounts no snapshots; zumactl snapshot, then mount by hand"
zumactl mount "$volume" --at "$home" --snapshots none >/dev/null
mountpoint -q "$home" || die "the origin left $home when the snapshots were set to none"
# shellcheck disable=SC2016 # expanded by the inner shell
by_hand='"$1" --no-progress snapshot "$2" "$3" >/dev/null &&
        dev=$("$1" --no-progress --json status "$2" "$3" |
                sed -n "s/.*\"device\" *: *\"\([^\"]*\)\".*/\1/p") &&
        mkdir -p "$4" && mount -t ext4 -o ro,noload "$dev" "$4"'
for ((i = 0; i < rounds; i++)); do
        head -c 1M /dev/urandom >"$home/f$((i % 8))"
        sync -f "$home"
        "${mount_wait[@]}" "$T/hand/hand$i" -- \
                bash -c "$by_hand" by-hand "$ZUMACTL" "$volume" "hand$i" "$T/hand/hand$i" ||
                die "hand$i: the mount by hand failed"
        umount "$T/hand/hand$i"
done >"$T/hand-times"
read -r hand_n hand_median hand_max < <(stats <"$T/hand-times")
progress "  $hand_n snapshots: median $hand_median ms, max $hand_max ms"
emit mount_follow_ms "$follow_median" ms "$hand_median" \
        "median of $follow_n, from zumactl snapshot starting to the mount seen in mountinfo (max $follow_max ms); baseline: zumactl snapshot (attaching its device) + zumactl status (its device) + mount -o ro,noload by hand (median of $hand_n, max $hand_max ms); $note"
emit mount_follow_ratio_vs_by_hand "$(ratio "$follow_median" "$hand_median")" ratio "$hand_median" \
        "mount_follow_ms over the by-hand baseline; $note"

# --- hotplug_to_mounted_ms ---

origin_image=$T/images/origin.img
store_image=$T/images/store.img
[ -f "$origin_image" ] && [ -f "$store_image" ] || die "no images at $T/images"

volume_state() {
        zumactl --json status "$volume" | json_field state
}

# unplug: detach both loop devices; waits until the volume stopped and its
# origin is unmounted (by the mounter when it runs).
unplug() {
        local deadline=$((SECONDS + wait_s)) dev

        for dev in $(losetup -n -O NAME -j "$store_image") $(losetup -n -O NAME -j "$origin_image"); do
                losetup -d "$dev"
        done
        while [ "$(volume_state)" != stopped ] || mountpoint -q "$home"; do
                [ $SECONDS -lt $deadline ] || die "$volume did not stop after its devices left"
                sleep 0.05
        done
        # The server lets go of them: their autoclear detaches them.
        while [ -n "$(losetup -n -O NAME -j "$origin_image")$(losetup -n -O NAME -j "$store_image")" ]; do
                [ $SECONDS -lt $deadline ] || die "the loop devices stayed attached"
                sleep 0.05
        done
}

if [ $udev = 1 ]; then
        progress "hotplug: detach both loop devices, attach the store, time the origin's attach to the origin mounted"
        for ((i = 0; i < rounds; i++)); do
                unplug
                losetup -f "$store_image"
                "${mount_wait[@]}" "$home" -- losetup -f "$origin_image" ||
                        die "round $i: the origin was not mounted after the attach (log: $(tail -n 5 "$T/mounterd.log"))"
        done >"$T/hotplug"
        read -r hot_n hot_median hot_max < <(stats <"$T/hotplug")
        progress "  $hot_n hot-plugs: median $hot_median ms, max $hot_max ms"

        progress "baseline: the mounter stopped; attach, zumactl start and mount by hand"
        mounter_stop
        # The volume's own "device" comes before its snapshots'.
        # shellcheck disable=SC2016 # expanded by the inner shell
        start_by_hand='losetup -f "$1" && "$2" --no-progress start "$3" &&
                dev=$("$2" --no-progress --json status "$3" |
                        sed -n "s/.*\"device\" *: *\"\([^\"]*\)\".*/\1/p" | head -n 1) &&
                mount -t ext4 "$dev" "$4"'
        for ((i = 0; i < rounds; i++)); do
                umount "$home" 2>/dev/null || true
                zumactl stop "$volume" >/dev/null 2>&1 || true
                unplug
                losetup -f "$store_image"
                "${mount_wait[@]}" "$home" -- \
                        bash -c "$start_by_hand" by-hand "$origin_image" "$ZUMACTL" "$volume" "$home" \
                        2>"$T/hand.err" || die "round $i: the start by hand failed: $(cat "$T/hand.err")"
        done >"$T/hotplug-hand"
        umount "$home"
        read -r hhand_n hhand_median hhand_max < <(stats <"$T/hotplug-hand")
        progress "  $hhand_n starts by hand: median $hhand_median ms, max $hhand_max ms"
        emit hotplug_to_mounted_ms "$hot_median" ms "$hhand_median" \
                "median of $hot_n, from losetup of the origin (the store attached first) to the origin mounted by zuma-mounterd (max $hot_max ms; goal < 1000 ms: $(awk -v v="$hot_median" 'BEGIN { print (v + 0 < 1000) ? "meets it" : "misses it" }')); baseline: the same attach then zumactl start, zumactl status and mount by hand with the mounter stopped (median of $hhand_n, max $hhand_max ms); $note"
        emit hotplug_ratio_vs_by_hand "$(ratio "$hot_median" "$hhand_median")" ratio "$hhand_median" \
                "hotplug_to_mounted_ms over the by-hand baseline; $note"
else
        progress "hotplug: udevd cannot run here; hotplug_to_mounted_ms is left out"
fi
