#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest test: NFS exports of a volume's origin and snapshots, mounted by
# zuma-mounterd from the kernel frontend's devices on LVM, read over the
# guest's loopback by the kernel's NFS client.
#
# Neither zuma-mounterd nor zumactl exports anything (no NFS code in
# agents/, zumactl/ or docs/), so this test exports with exportfs itself,
# with the fsid an exporter must use: every snapshot of an ext4 carries the
# origin's file system UUID, which is what nfs-utils identifies an export
# by when none is given, so origin and snapshots would share one identity
# and a client's file handles could reach the wrong one.  The fsid here is
# a UUID derived from the volume's UUID and the snapshot's id (0 for the
# origin): the same across remounts, server restarts and device numbers.
#
#   1. volume nv on LVs, ext4, files; snapshots s1 and s2 (frozen), the
#      origin changed after each; the origin and both snapshots mounted by
#      zuma-mounterd (zumactl mount, all snapshots); the snapshots' file
#      systems have the origin's UUID (why the fsid is explicit);
#   2. nfsd on the loopback (rpcbind, rpc.nfsd, rpc.mountd), the origin
#      exported read-write and each snapshot read-only, each with its fsid;
#   3. NFSv3 (nolock) mounts of s1 and s2 by their paths, NFSv4.2 mounts
#      of the origin and of s2 under the test directory's pseudo root: every file's sha256 is that of its moment; a file
#      written through the v4 mount of the origin is on the origin;
#   4. the server restarted with the snapshots unmounted and mounted again
#      (zuma-mounterd stopped and started, the exports made again with the
#      same fsids): the v3 client's mount of s1, its caches dropped, reads
#      the same files with the file handles it had.
#
# ZUMA_TEST_SEED=N replays the files' sizes and contents.
set -euo pipefail

seed=${ZUMA_TEST_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "seed $seed (ZUMA_TEST_SEED=$seed replays)"
RANDOM=$seed

export ZUMA_BUILD_DIR=$ZUMA_BUILD_ROOT ZUMA_SOURCE_DIR=$ZUMA_SOURCE_ROOT
export ZUMA_TEST_FRONTEND=kernel ZUMA_TEST_TIMEOUT=60
read -r -a disks <<< "$ZUMA_VM_DISKS"
[ "${#disks[@]}" -ge 2 ] || { echo "two scratch disks needed (ZUMA_VM_DISKS='$ZUMA_VM_DISKS')"; exit 1; }
for tool in rpcbind rpc.nfsd rpc.mountd exportfs mount.nfs ip; do
        command -v "$tool" > /dev/null || { echo "SKIP: $tool is not installed (nfs-kernel-server)"; exit 77; }
done

# shellcheck source=guest-lib.sh
. "$ZUMA_SOURCE_ROOT/tests/kernel/guest/guest-lib.sh"
guest_load_module
echo 60 > /sys/module/dm_zumastor/parameters/timeout
# The kernel's own module requests would run the initramfs' modprobe.
modprobe nfsd
modprobe nfsv3
modprobe nfsv4

vg=zuma-nfs

# shellcheck source=../../e2e/e2e-lib.sh
. "$ZUMA_SOURCE_ROOT/tests/e2e/e2e-lib.sh"
# shellcheck source=../../e2e/e2e-mounter.sh
. "$ZUMA_SOURCE_ROOT/tests/e2e/e2e-mounter.sh"
RPCBIND_PID=
MOUNTD_PID=
nfs_server_stop() {
        rpc.nfsd 0 2> /dev/null || true
        exportfs -ua 2> /dev/null || true
        if [ -n "$MOUNTD_PID" ]; then
                kill "$MOUNTD_PID" 2> /dev/null && wait "$MOUNTD_PID" 2> /dev/null
                MOUNTD_PID=
        fi
        true
}
nfs_cleanup() {
        local status=$?
        set +e
        umount -f -l "$ZUMA_TEST_DIR"/client/* 2> /dev/null
        nfs_server_stop
        if [ -n "$RPCBIND_PID" ]; then
                kill "$RPCBIND_PID" 2> /dev/null && wait "$RPCBIND_PID" 2> /dev/null
        fi
        e2e_mounter_kill
        (exit "$status")
        e2e_cleanup
        vgchange -q -an "$vg" > /dev/null 2>&1
        vgremove -q -y "$vg" > /dev/null 2>&1
        pvremove -q -y "${disks[@]}" > /dev/null 2>&1
        exit "$status"
}
e2e_init
trap nfs_cleanup EXIT
T=$ZUMA_TEST_DIR
START=$SECONDS

fail() { e2e_fail "$@"; }
zctl() { e2e_zumactl "$@"; }
poll() {
        local text=$1 deadline=$((SECONDS + ZUMA_TEST_TIMEOUT))
        shift
        until "$@"; do
                [ $SECONDS -lt $deadline ] || fail "$text (mounterd: $(tail -n 8 "$T/mounterd.log" | tr '\n' '|'))"
                sleep 0.05
        done
}
snapshot_id() {
        "$ZUMACTL" --json status nv "$1" | e2e_json 'd["id"]'
}
# export_fsid ID: the NFS fsid of the volume's snapshot ID (0: the origin),
# a UUID made from the volume's UUID and ID.
export_fsid() {
        printf 'zumastor-nfs-fsid:%s:%s' "$volume_uuid" "$1" | sha256sum |
                sed -E 's/^(.{8})(.{4})(.{4})(.{4})(.{12}).*/\1-\2-\3-\4-\5/'
}
# export_all: the origin read-write, each snapshot read-only, and the
# test's directory as the NFSv4 pseudo root (fsid=0): nfsd's threads are
# the guest kernel's, rooted outside this chroot, so a v4 client's paths
# start at an explicit root (v3 paths are resolved by mountd, in here).
export_all() {
        local name
        exportfs -i -o "ro,no_subtree_check,fsid=0" "127.0.0.1:$T"
        exportfs -i -o "rw,sync,no_subtree_check,no_root_squash,fsid=$(export_fsid 0)" \
                "127.0.0.1:$T/nv"
        for name in s1 s2; do
                exportfs -i -o "ro,no_subtree_check,no_root_squash,fsid=$(export_fsid "${ids[$name]}")" \
                        "127.0.0.1:$T/snaps/nv@$name"
        done
}
nfs_server_start() {
        # Before nfsd runs: the NFSv4 grace period after a (re)start holds
        # OPENs back; 90 s by default, 10 s is the least.
        echo 10 > /proc/fs/nfsd/nfsv4gracetime
        echo 10 > /proc/fs/nfsd/nfsv4leasetime
        export_all
        rpc.mountd -F > "$T/mountd.log" 2>&1 &
        MOUNTD_PID=$!
        rpc.nfsd 2
}

e2e_step "LVM: $vg/origin and $vg/store; volume nv with snapshots s1, s2"
guest_lvm_volume "$vg" 64M 64M
zctl define volume nv "/dev/$vg/origin" "/dev/$vg/store" --initialize > /dev/null
# udev's store probe on the LVs as they are now, for the mounter's scan.
udevadm trigger --action=change "/dev/$vg/origin" "/dev/$vg/store"
zuma_test_settle
volume_uuid=$("$ZUMACTL" --json status nv | e2e_json 'd["uuid"]')
[ -n "$volume_uuid" ] || fail "volume nv has no UUID"
origin=$("$ZUMACTL" --json status nv | e2e_json 'd["device"]')
mkfs.ext4 -q -F -E nodiscard "$origin"
mkdir -p "$T/nv" "$T/work"
mount "$origin" "$T/work"
write_files "$T/work/a" a 6 64
e2e_manifest "$T/work" > "$T/m1"
e2e_snapshot_frozen "$T/work" nv s1
write_files "$T/work/a" a 3 64
write_files "$T/work/b" b 3 64
e2e_manifest "$T/work" > "$T/m2"
e2e_snapshot_frozen "$T/work" nv s2
write_files "$T/work/b" b 4 64
e2e_manifest "$T/work" > "$T/m3"
umount "$T/work"
declare -A ids
for name in s1 s2; do
        ids[$name]=$(snapshot_id "$name")
done
echo "volume uuid $volume_uuid; snapshot ids: s1 ${ids[s1]}, s2 ${ids[s2]}"

e2e_step "zuma-mounterd mounts the origin and the snapshots"
e2e_mounter_start
zctl mount nv --at "$T/nv" --snapshots all --views off
poll "nv's origin was not mounted" mountpoint -q "$T/nv"
poll "s1 was not mounted" mountpoint -q "$T/snaps/nv@s1"
poll "s2 was not mounted" mountpoint -q "$T/snaps/nv@s2"
same_files "$T/m3" "$T/nv" "the origin (local)"
same_files "$T/m1" "$T/snaps/nv@s1" "snapshot s1 (local)"
origin_fs=$(blkid -s UUID -o value "$(findmnt -n -o SOURCE "$T/nv")")
s1_fs=$(blkid -s UUID -o value "$(findmnt -n -o SOURCE "$T/snaps/nv@s1")")
echo "ext4 UUID: origin $origin_fs, s1 $s1_fs"
[ "$origin_fs" = "$s1_fs" ] || fail "the snapshot's ext4 UUID differs from the origin's: the reason for explicit fsids is gone"

e2e_step "nfsd on the loopback; exports with fsids from the volume UUID and snapshot id"
ip link set lo up
ip -br addr show lo
mountpoint -q /proc/fs/nfsd || mount -t nfsd nfsd /proc/fs/nfsd
mkdir -p /run/rpcbind /var/lib/nfs/v4recovery
rpcbind -f > "$T/rpcbind.log" 2>&1 &
RPCBIND_PID=$!
poll "rpcbind does not answer" rpcinfo -p 127.0.0.1 > /dev/null 2>&1
nfs_server_start
exportfs -v | tee "$T/exports"
for id in 0 "${ids[s1]}" "${ids[s2]}"; do
        grep -q "fsid=$(export_fsid "$id")" "$T/exports" || fail "no export with the fsid of snapshot id $id"
done
rpcinfo -p 127.0.0.1 | grep -q nfs || fail "nfsd did not register with rpcbind"

e2e_step "NFSv3 mounts of s1 and s2"
mkdir -p "$T/client/s1" "$T/client/s2" "$T/client/origin" "$T/client/s2v4"
v3=vers=3,nolock,proto=tcp,mountproto=tcp
mount -t nfs -o "ro,$v3" "127.0.0.1:$T/snaps/nv@s1" "$T/client/s1"
mount -t nfs -o "ro,$v3" "127.0.0.1:$T/snaps/nv@s2" "$T/client/s2"
same_files "$T/m1" "$T/client/s1" "s1 over NFSv3"
same_files "$T/m2" "$T/client/s2" "s2 over NFSv3"

e2e_step "NFSv4.2 mounts of the origin and of s2 (after the grace period)"
t0=$SECONDS
mount -t nfs -o vers=4.2 "127.0.0.1:/nv" "$T/client/origin"
mount -t nfs -o ro,vers=4.2 "127.0.0.1:/snaps/nv@s2" "$T/client/s2v4"
same_files "$T/m3" "$T/client/origin" "the origin over NFSv4.2"
same_files "$T/m2" "$T/client/s2v4" "s2 over NFSv4.2"
echo "v4 reads done in $((SECONDS - t0)) s"
head -c 65536 /dev/urandom > "$T/client/origin/over-nfs"
sync -f "$T/client/origin/over-nfs"
cmp "$T/client/origin/over-nfs" "$T/nv/over-nfs" || fail "the file written over NFS is not on the origin"
umount "$T/client/origin" "$T/client/s2v4"

e2e_step "server restart with the snapshots mounted again: the v3 client's handles still work"
nfs_server_stop
e2e_mounter_stop
mountpoint -q "$T/snaps/nv@s1" && fail "s1 is still mounted after the mounter stopped"
e2e_mounter_start
poll "s1 was not mounted again" mountpoint -q "$T/snaps/nv@s1"
poll "s2 was not mounted again" mountpoint -q "$T/snaps/nv@s2"
poll "nv's origin was not mounted again" mountpoint -q "$T/nv"
nfs_server_start
sync
echo 3 > /proc/sys/vm/drop_caches
same_files "$T/m1" "$T/client/s1" "s1 over NFSv3 after the server's restart"
same_files "$T/m2" "$T/client/s2" "s2 over NFSv3 after the server's restart"
umount "$T/client/s1" "$T/client/s2"

nfs_server_stop
e2e_mounter_stop
e2e_zumactl_closed stop nv
"$ZUMA_BUILD_ROOT/snapstore/zumastor-check" -q --origin "/dev/$vg/origin" "/dev/$vg/store" ||
        fail "zumastor-check found problems"
echo "ok ($((SECONDS - START)) s)"
