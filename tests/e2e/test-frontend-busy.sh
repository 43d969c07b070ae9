#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The server must never wait on itself (issue 9).  zuma-snapshotd is its
# own FUSE server and, through the loop devices it attaches, a client of
# itself: LOOP_CONFIGURE makes the kernel ask its file system for statfs,
# opening an image file for lookup and open.  Here every FUSE worker the
# data path can take is kept busy on purpose, deterministically: the
# origin device is a loop device on a file in an ext4 file system that the
# test freezes (fsfreeze) under a deep queue of writes, so each write the
# frontend passes on to the origin waits for the thaw, holding its worker.
# While they wait, the server must attach snapshots, answer the bus, and
# once thawed take snapshots and restart as usual.
#
# Before the fix (64 background requests for 16 workers, and a FLUSH at
# every close that waited for the devices), the first attach below hung
# the main loop: its statfs queued behind writes that waited for the thaw.
#
# A second round freezes the file system under the STORE instead, so a
# copy-out holds the engine lock while it waits: an attach then needs that
# lock and cannot finish, and must come back as TimedOut within the
# server's --frontend-timeout while the bus keeps answering; after the thaw
# the attach is found done.
set -euo pipefail
. "$(dirname "$0")/e2e-lib.sh"

for tool in fio fsfreeze mkfs.ext4; do
        command -v "$tool" >/dev/null || zuma_test_skip "$tool is not installed"
done
FRONTEND_TIMEOUT=5
e2e_init
zuma_test_restart_daemon --frontend-timeout=$FRONTEND_TIMEOUT ||
        e2e_fail "cannot restart zuma-snapshotd with --frontend-timeout"
FROZEN_FS=
FIO_PID=
origin=
store=

busy_cleanup() {
        local status=$?

        set +e
        [ -z "$FROZEN_FS" ] || fsfreeze -u "$FROZEN_FS"
        [ -z "$FIO_PID" ] || { kill "$FIO_PID" 2>/dev/null; wait "$FIO_PID" 2>/dev/null; }
        # Detached now (autoclear: they go when the daemon lets go): once the
        # harness has lazily unmounted their file system, their backing
        # files no longer look like ours, and they would keep it alive.
        for loop in ${origin:-} ${store:-}; do
                losetup -d "$loop" 2>/dev/null
        done
        (exit "$status")
        e2e_cleanup
}
trap busy_cleanup EXIT

# A small ext4 on its own loop device, mounted in the test directory; the
# files under the volume's devices live there, so fsfreeze stalls them.
fs_dev=$(zuma_test_loop_device freezable 1200M)
mkfs.ext4 -q -E nodiscard "$fs_dev"
fs_dir=$ZUMA_TEST_DIR/freezable
mkdir -p "$fs_dir"
mount "$fs_dev" "$fs_dir"
truncate -s 256M "$fs_dir/origin.img"
truncate -s 768M "$fs_dir/store.img"
origin=$(losetup --find --show --direct-io=on "$fs_dir/origin.img")
store=$(losetup --find --show --direct-io=on "$fs_dir/store.img")
echo "$origin" >>"$ZUMA_TEST_DIR/loops"
echo "$store" >>"$ZUMA_TEST_DIR/loops"

# The FUSE connection's count of requests waiting for an answer.
mountpoint -q /sys/fs/fuse/connections ||
        mount -t fusectl fusectl /sys/fs/fuse/connections ||
        zuma_test_skip "fusectl cannot be mounted here"
fuse_waiting() {
        local dev

        dev=$(awk -v dir="$ZUMA_TEST_RUN_DIR/fuse" '$5 == dir { print $3 }' /proc/self/mountinfo |
                tail -n 1)
        [ -n "$dev" ] || return 1
        cat "/sys/fs/fuse/connections/${dev#*:}/waiting"
}

# Writes to the origin device, a deep queue of them, in the background.
start_writer() {
        fio --name=busy --filename="$1" --rw=randwrite --bs=64k --iodepth=64 \
                --ioengine=libaio --direct=1 --time_based --runtime=600 \
                --output="$ZUMA_TEST_DIR/fio.log" >/dev/null 2>&1 &
        FIO_PID=$!
}

stop_writer() {
        kill "$FIO_PID" 2>/dev/null || true
        wait "$FIO_PID" 2>/dev/null || true
        FIO_PID=
}

# Freezes the file system and waits until at least N requests wait in the
# frontend, which then stay waiting until the thaw.
freeze_until_waiting() {
        local want=$1 deadline=$((SECONDS + 60)) n=0

        fsfreeze -f "$fs_dir"
        FROZEN_FS=$fs_dir
        while :; do
                n=$(fuse_waiting) || e2e_fail "no FUSE connection for $ZUMA_TEST_RUN_DIR/fuse"
                [ "$n" -ge "$want" ] && break
                [ $SECONDS -lt $deadline ] || e2e_fail "only $n FUSE requests waiting after 60 s"
                sleep 0.2
        done
        e2e_step "frozen with $n FUSE requests waiting"
}

thaw() {
        fsfreeze -u "$fs_dir"
        FROZEN_FS=
}

# zumactl with a deadline; prints its exit status and output.
zumactl_within() {
        local seconds=$1 status=0 out

        shift
        out=$(timeout "$seconds" "$ZUMACTL" --no-progress "$@" 2>&1) || status=$?
        echo "$status $out"
}

e2e_step "a volume on the freezable file system, snapshots not attached"
e2e_zumactl define volume busy "$origin" "$store" --initialize --chunk-size 64K
dev=$(e2e_volume_device busy)
dd if=/dev/urandom of="$dev" bs=1M count=16 oflag=direct status=none
for s in s1 s2 s3; do
        e2e_zumactl snapshot busy "$s" --no-attach
done
# Every chunk is copied out once, before the freeze: in the first round
# origin writes need no copy-out, so only the origin device stalls them.
dd if=/dev/zero of="$dev" bs=1M oflag=direct status=none 2>/dev/null || true

e2e_step "round 1: origin writes wait on a frozen origin; attach must not"
start_writer "$dev"
freeze_until_waiting 16
read -r status out < <(zumactl_within 30 attach busy s1)
[ "$status" = 0 ] || e2e_fail "attach with every data worker busy exited $status: $out"
case "$out" in /dev/loop*) ;; *) e2e_fail "attach printed '$out', not a device" ;; esac
e2e_step "attached s1 as $out while frozen"
read -r status out < <(zumactl_within 10 status busy)
[ "$status" = 0 ] || e2e_fail "status while frozen exited $status: $out"
thaw
stop_writer

e2e_step "round 2: a copy-out holds the engine lock on a frozen store"
e2e_zumactl snapshot busy s4 --no-attach
start_writer "$dev"
freeze_until_waiting 16
read -r status out < <(zumactl_within 60 attach busy s2)
case "$status $out" in
0\ /dev/loop*) e2e_step "attach finished while frozen: $out" ;;
*TimedOut* | *"timed out"* | *"no answer from the kernel"*)
        e2e_step "attach timed out as it must: $out" ;;
*) e2e_fail "attach with the engine lock held on a frozen store exited $status: $out" ;;
esac
read -r status out < <(zumactl_within 10 status busy)
[ "$status" = 0 ] || e2e_fail "status while the store is frozen exited $status: $out"
thaw
stop_writer
# The attach that timed out finished in the background: asking again
# returns its device.
s2dev=$(e2e_snapshot_device busy s2)
e2e_step "s2 is $s2dev after the thaw"

e2e_step "after the thaw: snapshots, attach, restart"
start_writer "$dev"
for i in 5 6 7; do
        e2e_zumactl snapshot busy "s$i"
done
e2e_snapshot_device busy s1 >/dev/null
zuma_test_restart_daemon --frontend-timeout=$FRONTEND_TIMEOUT || e2e_fail "restart under writes failed"
stop_writer
e2e_zumactl --json status busy | e2e_json 'd["state"]' | grep -qx running ||
        e2e_fail "volume busy is not running after the restart"
for s in s1 s5 s6 s7; do
        e2e_snapshot_device busy "$s" >/dev/null
done
e2e_step "PASS"
