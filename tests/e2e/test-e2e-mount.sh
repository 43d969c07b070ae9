#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# test-e2e-mount.sh: zuma-mounterd against the real zuma-snapshotd, real
# loop devices, a real ext4 and a private bus.
#
#   1. volume mvol, ext4; `zumactl mount mvol --at DIR/home`: the origin
#      is mounted there; snapshots appear read-only (ro,noload) under the
#      daemon's template (DIR/snaps/{volume}@{snapshot}) as they are
#      created, with their contents;
#   2. a renamed snapshot's mount moves; a deleted one (mounted, idle) is
#      unmounted by the handshake, no manual unmount;
#   3. a busy snapshot mount (a process with its cwd inside) makes the
#      delete fail Busy naming the mount within the release timeout, the
#      snapshot intact and still mounted; once the process ends the delete
#      succeeds; a scheduled-style DeleteSnapshots goes the same way;
#   4. zuma-schedulerd (on its test clock) prunes mounted hourly snapshots
#      through the same handshake; --snapshots newest:2 keeps exactly the
#      two newest mounted; a revert lets go of the mounted origin and it
#      comes back reverted; an xfs volume's snapshots mount
#      ro,norecovery,nouuid;
#   5. bad mount points (relative, "/", inside a snapshot's mount, a
#      directory that is not empty without --force, an unknown volume)
#      are refused with their error codes; an unprivileged caller
#      (setpriv --reuid=65534) is refused; `mounts` is open to it;
#   6. `zumactl stop mvol` with everything mounted: the mounter releases
#      the whole volume first; nothing of the volume is left mounted or
#      attached; the server restarted, the mounter follows its new
#      instance: start again mounts again; `zumactl unmount` unmounts all.
#
# Needs root, loop devices, /dev/fuse, dbus-daemon, python3, mkfs.ext4,
# setpriv; exits 77 (skip) without them.  Without mkfs.xfs (or xfs in the
# kernel) the xfs part is skipped, said so.
set -euo pipefail

# shellcheck source=e2e-lib.sh
. "$(dirname "$(realpath "$0")")/e2e-lib.sh"
# shellcheck source=e2e-mounter.sh
. "$(dirname "$(realpath "$0")")/e2e-mounter.sh"

for tool in mkfs.ext4 setpriv mountpoint fsfreeze; do
        command -v "$tool" >/dev/null || zuma_test_skip "$tool is not installed"
done
: "${ZUMA_SCHEDULERD:=$ZUMA_BUILD_DIR/agents/schedulerd/zuma-schedulerd}"
VOL=mvol
SCHED_PID=
T=
BUSY_PID=

step() { e2e_step "$@"; }
fail() { e2e_fail "$@"; }
zctl() { e2e_zumactl "$@"; }

mount_cleanup() {
        local status=$?

        set +e
        [ -n "$BUSY_PID" ] && kill "$BUSY_PID" 2>/dev/null
        if [ -n "$SCHED_PID" ] && zuma_test_alive "$SCHED_PID"; then
                kill -KILL "$SCHED_PID"
                zuma_test_wait_exit "$SCHED_PID" 10
        fi
        e2e_mounter_kill
        (exit "$status")
        e2e_cleanup
}

# The source device of the mount at $1, or nothing.
mounted_from() {
        awk -v p="$1" '$2 == p { print $1 }' /proc/self/mounts | tail -n 1
}

# wait_mounted PATH [SECONDS]: until PATH is a mount point.
wait_mounted() {
        local deadline=$((SECONDS + ${2:-$ZUMA_TEST_TIMEOUT}))

        until mountpoint -q "$1"; do
                [ $SECONDS -lt $deadline ] || fail "$1 was not mounted in time (log: $(tail -n 5 "$ZUMA_TEST_DIR/mounterd.log"))"
                sleep 0.05
        done
}

wait_unmounted() {
        local deadline=$((SECONDS + ${2:-$ZUMA_TEST_TIMEOUT}))

        while mountpoint -q "$1" 2>/dev/null; do
                [ $SECONDS -lt $deadline ] || fail "$1 is still mounted"
                sleep 0.05
        done
}

# take NAME: a snapshot with the origin's file system frozen (consistent).
take() { e2e_snapshot_frozen "$T/home" "$VOL" "$1"; }

attached_count() {
        e2e_served_devices | wc -l
}

e2e_init
trap mount_cleanup EXIT
T=$ZUMA_TEST_DIR
START=$SECONDS

step "volume $VOL, ext4"
dev=$(e2e_ext4_volume "$VOL")
e2e_mounter_start

step "the origin mounted where configured"
mkdir -p "$T/home"
zctl mount "$VOL" --at "$T/home"
wait_mounted "$T/home"
[ "$(mounted_from "$T/home")" = "$dev" ] || fail "$T/home is not mounted from $dev"
echo one >"$T/home/file"

step "snapshots appear under the template as they are created"
take s1
wait_mounted "$T/snaps/$VOL@s1"
[ "$(cat "$T/snaps/$VOL@s1/file")" = one ] || fail "s1 does not hold the first contents"
grep -q " $T/snaps/$VOL@s1 ext4 ro,.*" /proc/self/mounts || fail "s1 is not mounted read-only ext4"
if touch "$T/snaps/$VOL@s1/x" 2>/dev/null; then fail "s1 is writable"; fi
echo two >"$T/home/file"
take s2
wait_mounted "$T/snaps/$VOL@s2"
[ "$(cat "$T/snaps/$VOL@s2/file")" = two ] || fail "s2 does not hold the second contents"

step "a rename moves the mount"
zctl rename "$VOL" s1 old1
wait_mounted "$T/snaps/$VOL@old1"
wait_unmounted "$T/snaps/$VOL@s1"
[ ! -e "$T/snaps/$VOL@s1" ] || fail "the old mount point of s1 was left behind"
[ "$(cat "$T/snaps/$VOL@old1/file")" = one ] || fail "old1 does not hold s1's contents"

step "deleting a mounted snapshot needs no manual unmount"
zctl delete "$VOL" old1
[ ! -e "$T/snaps/$VOL@old1" ] || fail "the mount point of old1 is still there"
mountpoint -q "$T/snaps/$VOL@old1" 2>/dev/null && fail "old1 is still mounted"

step "a busy snapshot mount makes the delete fail Busy, naming the mount"
(cd "$T/snaps/$VOL@s2" && exec sleep 1000) &
BUSY_PID=$!
sleep 0.2
t0=$SECONDS
e2e_expect_exit 5 "mounted at $T/snaps/$VOL@s2" delete "$VOL" s2
[ $((SECONDS - t0)) -le 20 ] || fail "the busy delete took $((SECONDS - t0)) s"
zctl list "$VOL" | grep -qx s2 || fail "s2 was deleted all the same"
wait_mounted "$T/snaps/$VOL@s2"
[ "$(cat "$T/snaps/$VOL@s2/file")" = two ] || fail "s2 changed"
kill "$BUSY_PID"
wait "$BUSY_PID" 2>/dev/null || true
BUSY_PID=
zctl delete "$VOL" s2
[ ! -e "$T/snaps/$VOL@s2" ] || fail "the mount point of s2 is still there"

step "scheduled pruning reaches mounted snapshots"
NOW=$(date -u -d '2027-03-20 10:30:00' +%s)
G_DEBUG=fatal-criticals "$ZUMA_SCHEDULERD" --bus-address "$DBUS_SYSTEM_BUS_ADDRESS" \
        --state-dir "$T/sched-state" --run-dir "$T/sched-run" --test-clock "$NOW" --verbose \
        >>"$ZUMA_TEST_DIR/schedulerd.log" 2>&1 </dev/null &
SCHED_PID=$!
zuma_test_wait_name org.zumastor.Scheduler1 || fail "zuma-schedulerd did not start"
zctl define schedule "$VOL" --hourly 2
for _ in 1 2 3; do
        gdbus call --system --timeout 120 -d org.zumastor.Scheduler1 \
                -o /org/zumastor/Scheduler1/Manager \
                -m org.zumastor.Scheduler1.TestClock.Advance -- 3600 '{}' >/dev/null ||
                fail "the scheduler's clock did not move"
done
hourlies=$(zctl list "$VOL" | grep -c hourly || true)
[ "$hourlies" = 2 ] || fail "$hourlies hourly snapshots kept, not 2: $(zctl list "$VOL")"
for snap in $(zctl list "$VOL" | grep hourly); do
        wait_mounted "$T/snaps/$VOL@$snap"
done
[ "$(e2e_our_mounts | grep -c "$T/snaps/")" = 2 ] ||
        fail "pruned snapshots are still mounted: $(e2e_our_mounts)"
grep -q "SnapshotFailed\|cannot delete" "$ZUMA_TEST_DIR/schedulerd.log" &&
        fail "the scheduler could not prune: $(grep -m2 'cannot' "$ZUMA_TEST_DIR/schedulerd.log")"
zctl forget schedule "$VOL"
kill -TERM "$SCHED_PID"
zuma_test_wait_exit "$SCHED_PID" 30 || fail "zuma-schedulerd exited with $?"
SCHED_PID=

step "newest:2 keeps the two newest mounted"
zctl mount "$VOL" --at "$T/home" --snapshots newest:2
for n in 3 4 5; do
        echo "$n" >"$T/home/file"
        take "s$n"
done
wait_mounted "$T/snaps/$VOL@s5"
wait_mounted "$T/snaps/$VOL@s4"
wait_unmounted "$T/snaps/$VOL@s3"
[ "$(e2e_our_mounts | grep -c "$T/snaps/")" = 2 ] || fail "not exactly 2 snapshots mounted: $(e2e_our_mounts)"
[ "$(cat "$T/snaps/$VOL@s4/file")" = 4 ] || fail "s4 does not hold its contents"

step "revert with the origin mounted: let go, reverted, mounted again"
# The mount ids of the snapshots' mounts: a revert leaves them mounted.
snapshot_mount_ids() {
        awk -v dir="$T/snaps/" 'index($5, dir) == 1 { print $1, $5 }' /proc/self/mountinfo | sort
}
ids_before=$(snapshot_mount_ids)
zctl revert "$VOL" s4
deadline=$((SECONDS + ZUMA_TEST_TIMEOUT))
until mountpoint -q "$T/home" && [ "$(cat "$T/home/file" 2>/dev/null)" = 4 ]; do
        [ $SECONDS -lt $deadline ] || fail "the reverted origin is not mounted with s4's contents"
        sleep 0.1
done
[ "$(snapshot_mount_ids)" = "$ids_before" ] ||
        fail "the revert remounted the snapshots: '$ids_before' became '$(snapshot_mount_ids)'"

step "zumactl mounts"
zctl --json mounts "$VOL" >"$T/mounts.json"
[ "$(e2e_json 'len(d["mounts"])' <"$T/mounts.json")" = 3 ] || fail "mounts lists $(cat "$T/mounts.json")"
[ "$(e2e_json '[m["path"] for m in d["mounts"] if m["snapshot"] == ""][0]' <"$T/mounts.json")" = "$T/home" ] ||
        fail "mounts does not list the origin at $T/home"
[ "$(e2e_json 'd["configs"][0]["snapshots"]' <"$T/mounts.json")" = newest:2 ] ||
        fail "mounts does not show newest:2"
zctl mounts | grep -q "$T/snaps/$VOL@s5" || fail "zumactl mounts does not show s5"

step "xfs snapshots mount ro,norecovery,nouuid"
if command -v mkfs.xfs >/dev/null && grep -qw xfs /proc/filesystems; then
        xorigin=$(zuma_test_loop_device xvol-origin 320M)
        xstore=$(zuma_test_loop_device xvol-store 64M)
        zctl define volume xvol "$xorigin" "$xstore" --initialize >/dev/null
        xdev=$(zctl --json status xvol | e2e_json 'd["device"]')
        mkfs.xfs -q -f -K "$xdev"
        e2e_expect_exit 8 "volume $VOL's already" mount xvol --at "$T/home"
        zctl mount xvol --at "$T/xhome"
        wait_mounted "$T/xhome"
        echo xfs >"$T/xhome/file"
        sync -f "$T/xhome"
        E2E_FROZEN=$T/xhome
        fsfreeze -f "$T/xhome"
        zctl snapshot xvol x1 >/dev/null
        fsfreeze -u "$T/xhome"
        E2E_FROZEN=
        wait_mounted "$T/snaps/xvol@x1"
        grep -q " $T/snaps/xvol@x1 xfs ro,.*norecovery" /proc/self/mounts ||
                fail "x1 is not mounted ro,norecovery: $(grep "xvol@x1" /proc/self/mounts)"
        [ "$(cat "$T/snaps/xvol@x1/file")" = xfs ] || fail "x1 does not hold its contents"
        zctl stop xvol
        ! e2e_our_mounts | grep -q -e xvol -e xhome || fail "xvol still mounted after stop"
        zctl unmount xvol
else
        echo "NOTE: no mkfs.xfs or no xfs in the kernel: the xfs part is skipped"
fi

step "bad mount points and callers are refused"
e2e_expect_exit 8 "not an absolute path" mount "$VOL" --at relative/dir
e2e_expect_exit 8 '"/"' mount "$VOL" --at /
e2e_expect_exit 8 "inside $T/snaps/$VOL@s5" mount "$VOL" --at "$T/snaps/$VOL@s5/sub"
mkdir -p "$T/full"
echo keep >"$T/full/precious"
e2e_expect_exit 4 "not empty" mount "$VOL" --at "$T/full"
e2e_expect_exit 8 "{snapshot}" mount "$VOL" --template "$T/snaps/fixed"
e2e_expect_exit 8 "newest:N" mount "$VOL" --snapshots newest:0
e2e_expect_exit 3 "no volume" mount novol --at "$T/other"
status=0
setpriv --reuid=65534 --regid=65534 --clear-groups "$ZUMACTL" mount "$VOL" --at "$T/x" \
        2>"$T/nobody.err" || status=$?
[ $status = 6 ] || fail "an unprivileged caller got $status, not 6: $(cat "$T/nobody.err")"
setpriv --reuid=65534 --regid=65534 --clear-groups "$ZUMACTL" mounts "$VOL" >/dev/null ||
        fail "mounts is not open to every caller"
[ "$(cat "$T/full/precious")" = keep ] || fail "the non-empty directory changed"
mountpoint -q "$T/home" || fail "a refused change unmounted the origin"

step "stop with everything mounted: released, nothing left mounted or attached"
zctl stop "$VOL"
[ -z "$(e2e_our_mounts)" ] || fail "still mounted after stop: $(e2e_our_mounts)"
# A loop device goes at its last close: one udev still probes after the
# unmounts may outlive the stop by a moment (seen once under ASan).
deadline=$((SECONDS + ZUMA_TEST_TIMEOUT))
until [ -z "$(e2e_served_devices)" ]; do
        [ $SECONDS -lt $deadline ] ||
                fail "still attached after stop: $(e2e_served_devices | tr '\n' ' ')"
        sleep 0.1
done

step "the server restarts: the mounter follows it back; start mounts again"
zuma_test_restart_daemon || fail "zuma-snapshotd did not restart"
zctl start "$VOL"
wait_mounted "$T/home"
wait_mounted "$T/snaps/$VOL@s5"

step "forget --force with everything mounted: the mounter lets go first"
origin=$(zctl --json status "$VOL" | e2e_json 'd["origin_device"]')
store=$(zctl --json status "$VOL" | e2e_json 'd["store_device"]')
zctl forget volume "$VOL" --force
[ -z "$(e2e_our_mounts)" ] || fail "still mounted after forget --force: $(e2e_our_mounts)"
zctl define volume "$VOL" "$origin" "$store" >/dev/null
[ "$(zctl --json status "$VOL" | e2e_json 'd["state"]')" = running ] || zctl start "$VOL"
wait_mounted "$T/home"
wait_mounted "$T/snaps/$VOL@s5"
zctl unmount "$VOL"
[ -z "$(e2e_our_mounts)" ] || fail "still mounted after unmount: $(e2e_our_mounts)"
zctl mounts | grep -q "nothing mounted" || fail "mounts does not say nothing is mounted"
# What the mounter attached it detaches (asynchronously): only the
# origin's device is left.
deadline=$((SECONDS + ZUMA_TEST_TIMEOUT))
until [ "$(attached_count)" = 1 ]; do
        [ $SECONDS -lt $deadline ] ||
                fail "$(attached_count) devices attached after unmount, not just the origin's"
        sleep 0.1
done
e2e_expect_exit 3 "no mount configuration" unmount "$VOL"
zctl stop "$VOL"
e2e_mounter_stop
[ -z "$(e2e_our_mounts)" ] || fail "left mounted at the end: $(e2e_our_mounts)"
# The stores of forgotten volumes (xvol; mvol between forget --force and
# its definition again) are ones no volume owns: reported, as they should.
e2e_mounter_quiet "holds the store of volume ($VOL|xvol) .*which no volume owns"
step "done in $((SECONDS - START)) s"
