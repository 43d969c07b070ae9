#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest test: zuma-snapshotd with the kernel frontend, end to end, on LVM
# logical volumes (origin and store) of the guest's two scratch disks.
# The server runs with --frontend kernel, and after the kill in step 4
# with --frontend auto, which must choose the kernel frontend by itself.
#
#   1. ext4 on the origin (a zumastor dm device), files written, two
#      snapshots taken under fsfreeze; a third file set after them;
#   2. each snapshot attached (a read-only zumastor device, with its
#      /dev/zumastor name when udev runs) and mounted: its files are those
#      of its moment; the origin's are the newest;
#   3. a writable snapshot written through its device, remounted, its file
#      there; the origin and the other snapshots unchanged;
#   4. kill -9 of the server while a writer rewrites the origin's files
#      (the writes need copy-outs: a snapshot was just taken): the writer
#      waits, the restarted server answers what the kernel held, the writer
#      ends without an error and the data is there;
#   5. a snapshot deleted (its device goes; the others still verify);
#   6. revert of the origin to the first snapshot;
#   7. the volume stopped: no zumastor device is left, the store checks
#      clean (zumastor-check), the module unloads.
#
# The kernel log is checked for splats by the guest runner.
set -euo pipefail

seed=${ZUMA_TEST_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "seed $seed (ZUMA_TEST_SEED=$seed replays)"
RANDOM=$seed

export ZUMA_BUILD_DIR=$ZUMA_BUILD_ROOT ZUMA_SOURCE_DIR=$ZUMA_SOURCE_ROOT
export ZUMA_TEST_FRONTEND=kernel ZUMA_TEST_TIMEOUT=60
# shellcheck source=../../e2e/e2e-lib.sh
. "$ZUMA_SOURCE_ROOT/tests/e2e/e2e-lib.sh"
# shellcheck source=guest-lib.sh
. "$ZUMA_SOURCE_ROOT/tests/kernel/guest/guest-lib.sh"

guest_load_module
# Held I/O fails after this many seconds without an answer; the restart in
# step 4 takes a few seconds under TCG.
echo 60 > /sys/module/dm_zumastor/parameters/timeout

vg=zuma-e2e
# A store smaller than the origin, as usual (a snapshot target once
# reported the store to dm with the image's length, and failed to load).
guest_lvm_volume "$vg" 96M 64M

lvm_cleanup() {
        local status=$?
        set +e
        umount -l "$ZUMA_TEST_DIR"/mnt/* 2>/dev/null
        (exit "$status")
        e2e_cleanup
        vgremove -q -y "$vg" > /dev/null 2>&1
        exit "$status"
}
e2e_init
trap lvm_cleanup EXIT
check_frontend() {
        local frontend
        frontend=$(e2e_zumactl --json status | e2e_json 'd["server"]["frontend"]')
        [ "$frontend" = kernel ] ||
                e2e_fail "the server runs the frontend '$frontend', not kernel: $(grep -i frontend "$ZUMA_TEST_DIR/snapshotd.log")"
}
check_frontend

mnt=$ZUMA_TEST_DIR/mnt
mkdir -p "$mnt/origin" "$mnt/snap"

e2e_step "volume on LVM: $vg/origin with $vg/store"
e2e_zumactl define volume e2e "/dev/$vg/origin" "/dev/$vg/store" --initialize > /dev/null
origin=$(e2e_zumactl --json status e2e | e2e_json 'd["device"]')
table=$(dmsetup table --target zumastor 2>/dev/null | grep " origin " || true)
[ -n "$table" ] || e2e_fail "no zumastor origin target: $(dmsetup table)"
echo "origin $origin: $table"
if [ "$E2E_UDEV" = 1 ]; then
        zuma_test_wait_link /dev/zumastor/e2e "$origin" ||
                e2e_fail "udev made no /dev/zumastor/e2e for $origin"
fi
mkfs.ext4 -q -F "$origin"
mount "$origin" "$mnt/origin"

snapshot() {
        local name=$1
        shift
        sync
        fsfreeze -f "$mnt/origin"
        E2E_FROZEN=$mnt/origin
        e2e_zumactl snapshot e2e "$name" "$@" > /dev/null
        fsfreeze -u "$mnt/origin"
        E2E_FROZEN=
}

e2e_step "files, then snapshots s1 and s2"
write_files "$mnt/origin/a" a 16
e2e_manifest "$mnt/origin" > "$ZUMA_TEST_DIR/m1"; m1=$ZUMA_TEST_DIR/m1
snapshot s1
write_files "$mnt/origin/b" b 12
rm -f "$mnt/origin/a/a-1" "$mnt/origin/a/a-2"
e2e_manifest "$mnt/origin" > "$ZUMA_TEST_DIR/m2"; m2=$ZUMA_TEST_DIR/m2
snapshot s2
write_files "$mnt/origin/a" a 10 # rewrites a-0..a-9: copy-outs
e2e_manifest "$mnt/origin" > "$ZUMA_TEST_DIR/m3"; m3=$ZUMA_TEST_DIR/m3

# check_snapshot NAME MANIFEST
check_snapshot() {
        local dev
        dev=$(e2e_zumactl attach e2e "$1")
        if [ "$E2E_UDEV" = 1 ]; then
                zuma_test_wait_link "/dev/zumastor/e2e@$1" "$dev" ||
                        e2e_fail "udev made no /dev/zumastor/e2e@$1 for $dev"
        fi
        mount -o ro,noload "$dev" "$mnt/snap"
        same_files "$2" "$mnt/snap" "snapshot $1 ($dev)"
        umount "$mnt/snap"
        e2e_fsck "$dev" ext4
}

e2e_step "snapshots read back through their zumastor devices"
check_snapshot s1 "$m1"
check_snapshot s2 "$m2"
same_files "$m3" "$mnt/origin" "the origin"

e2e_step "a writable snapshot"
snapshot w1 --writable
wdev=$(e2e_zumactl attach e2e w1)
mount "$wdev" "$mnt/snap"
write_files "$mnt/snap/w" w 4
e2e_manifest "$mnt/snap" > "$ZUMA_TEST_DIR/mw"; mw=$ZUMA_TEST_DIR/mw
umount "$mnt/snap"
mount "$wdev" "$mnt/snap"
same_files "$mw" "$mnt/snap" "writable snapshot w1 after a remount"
umount "$mnt/snap"
[ ! -e "$mnt/origin/w" ] || e2e_fail "the writable snapshot's files are on the origin"
check_snapshot s2 "$m2"

e2e_step "kill -9 of the server under copy-outs"
snapshot s3
e2e_manifest "$mnt/origin" > "$ZUMA_TEST_DIR/m_s3"; m_s3=$ZUMA_TEST_DIR/m_s3
( write_files "$mnt/origin/c" c 24 && write_files "$mnt/origin/a" a 12 && sync ) &
writer=$!
sleep 0.$((RANDOM % 10))
zuma_test_kill_daemon
sleep 1
kill -0 "$writer" 2> /dev/null && echo "the writer waits for the kernel's held I/O"
zuma_test_start_daemon --frontend auto || e2e_fail "zuma-snapshotd did not start again"
check_frontend
wait "$writer" || e2e_fail "the writer failed across the restart (exit $?)"
e2e_manifest "$mnt/origin" > "$ZUMA_TEST_DIR/m4"; m4=$ZUMA_TEST_DIR/m4
check_snapshot s3 "$m_s3"
check_snapshot s1 "$m1"
echo "writer done; s1 and s3 intact after the restart"

e2e_step "delete s2"
e2e_zumactl delete e2e s2 > /dev/null
! dmsetup info "zumastor-e2e@2" > /dev/null 2>&1 || e2e_fail "s2's device is still there"
check_snapshot s1 "$m1"
same_files "$m4" "$mnt/origin" "the origin after the delete"

e2e_step "revert to s1"
umount "$mnt/origin"
e2e_zumactl revert e2e s1 > /dev/null
origin=$(e2e_zumactl --json status e2e | e2e_json 'd["device"]')
e2e_fsck "$origin" ext4
mount "$origin" "$mnt/origin"
same_files "$m1" "$mnt/origin" "the origin reverted to s1"
check_snapshot s3 "$m_s3"
umount "$mnt/origin"

e2e_step "stop: devices gone, store clean, module unloads"
e2e_zumactl stop e2e > /dev/null
left=$(dmsetup table --target zumastor 2>/dev/null | grep -v "^No devices" || true)
[ -z "$left" ] || e2e_fail "zumastor devices left after stop: $left"
zuma_test_stop_daemon
"$ZUMA_BUILD_ROOT/snapstore/zumastor-check" -q --origin "/dev/$vg/origin" "/dev/$vg/store" ||
        e2e_fail "zumastor-check found problems"
rmmod dm_zumastor || e2e_fail "the module does not unload"
echo "ok"
