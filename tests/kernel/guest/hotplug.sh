#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest test: zuma-mounterd's hot-plug with the kernel frontend, on LVM
# logical volumes (origin and store) of the guest's two scratch disks,
# with systemd-udevd running the build tree's rules.
#
# What LVM allows: the kernel frontend's zumastor dm devices hold the
# origin and store LVs open (dm claims a table's devices), and LVM refuses
# to deactivate an LV that another device holds ("Logical volume VG/LV is
# used by another device.", exit 5), before anything changes and
# without an event.  So `lvchange -an` of a running volume's LV can never
# reach the hot-plug logic: the volume must stop first (zumactl stop, or
# the mounter's hot-plug when a device leaves), and only then can the LVs
# go.  What this test checks is what is possible and true:
#
#   1. volume hp on LVs, defined with the dm identity of its origin LV
#      (dm:LVM-...), ext4, its origin mounted by zuma-mounterd
#      (zumactl mount) and a seeded 1 MiB file written;
#   2. `lvchange -an` of both LVs while the volume runs mounted: refused
#      by LVM ("is used by another device"), the volume still
#      running and mounted, the file the same (sha256);
#   3. rounds: zumactl stop (the mounter releases its mount: the origin is
#      unmounted), the volume stays stopped while its LVs stay; both LVs
#      deactivated (-an), nothing starts; one LV activated (-ay), nothing
#      starts; the other activated: the mounter starts the volume by
#      itself and mounts its origin again, the file the same.  The orders
#      alternate by round; the time from the last -ay to the mount is
#      printed (lv_hotplug_to_mounted_ms, never asserted);
#   4. the mounter stopped (it unmounts), the volume stopped, the store
#      checks clean (zumastor-check).
#
# ZUMA_TEST_SEED=N replays the file's contents; ZUMA_HOTPLUG_ROUNDS=N
# (default 2) sets the rounds of step 3.
set -euo pipefail

seed=${ZUMA_TEST_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "seed $seed (ZUMA_TEST_SEED=$seed replays)"
: "${ZUMA_HOTPLUG_ROUNDS:=2}"

export ZUMA_BUILD_DIR=$ZUMA_BUILD_ROOT ZUMA_SOURCE_DIR=$ZUMA_SOURCE_ROOT
export ZUMA_TEST_FRONTEND=kernel ZUMA_TEST_TIMEOUT=60
read -r -a disks <<< "$ZUMA_VM_DISKS"
[ "${#disks[@]}" -ge 2 ] || { echo "two scratch disks needed (ZUMA_VM_DISKS='$ZUMA_VM_DISKS')"; exit 1; }

# shellcheck source=guest-lib.sh
. "$ZUMA_SOURCE_ROOT/tests/kernel/guest/guest-lib.sh"
guest_load_module
echo 60 > /sys/module/dm_zumastor/parameters/timeout

vg=zuma-hp

# shellcheck source=../../e2e/e2e-lib.sh
. "$ZUMA_SOURCE_ROOT/tests/e2e/e2e-lib.sh"
# shellcheck source=../../e2e/e2e-mounter.sh
. "$ZUMA_SOURCE_ROOT/tests/e2e/e2e-mounter.sh"
hotplug_cleanup() {
        local status=$?
        set +e
        e2e_mounter_kill
        umount -l "$ZUMA_TEST_DIR/hp" 2>/dev/null
        (exit "$status")
        e2e_cleanup
        vgchange -q -an "$vg" > /dev/null 2>&1
        vgremove -q -y "$vg" > /dev/null 2>&1
        pvremove -q -y "${disks[@]}" > /dev/null 2>&1
        exit "$status"
}
e2e_init
trap hotplug_cleanup EXIT
[ "$E2E_UDEV" = 1 ] || e2e_fail "hot-plug needs systemd-udevd"
T=$ZUMA_TEST_DIR
START=$SECONDS

fail() { e2e_fail "$@"; }
zctl() { e2e_zumactl "$@"; }
log_tail() {
        echo "(mounterd: $(tail -n 8 "$T/mounterd.log" | tr '\n' '|'))"
}
# poll TEXT COMMAND...: until COMMAND succeeds, or fail saying TEXT.
poll() {
        local text=$1 deadline=$((SECONDS + ZUMA_TEST_TIMEOUT))
        shift
        until "$@"; do
                [ $SECONDS -lt $deadline ] || fail "$text $(log_tail)"
                sleep 0.05
        done
}
volume_field() {
        "$ZUMACTL" --json status "$1" | e2e_json "d.get('$2', '')"
}
is_state() { [ "$(volume_field "$1" state)" = "$2" ]; }
not_mounted() { ! mountpoint -q "$1" 2>/dev/null; }
lv_active() { [ -b "/dev/mapper/${vg//-/--}-$1" ]; }
lv_gone() { ! lv_active "$1"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
same_data() {
        [ "$(sha256sum < "$T/hp/data")" = "$want" ] || fail "hp's data changed ($1)"
}

e2e_step "LVM: $vg/origin and $vg/store on ${disks[*]}"
guest_lvm_volume "$vg" 96M 96M

e2e_step "volume hp, its origin mounted by zuma-mounterd"
zctl define volume hp "/dev/$vg/origin" "/dev/$vg/store" --initialize > /dev/null
# udev's store probe on the LVs as they are now, for the mounter's scan.
udevadm trigger --action=change "/dev/$vg/origin" "/dev/$vg/store"
zuma_test_settle
identity=$(volume_field hp origin_identity)
[[ "$identity" == dm:LVM-* ]] || fail "hp's origin identity is '$identity', not the LV's dm:LVM-..."
echo "origin identity $identity"
mkfs.ext4 -q -F -E nodiscard "$(volume_field hp device)"
e2e_mounter_start
mkdir -p "$T/hp"
zctl mount hp --at "$T/hp" --snapshots none
poll "hp was not mounted" mountpoint -q "$T/hp"
python3 -c 'import random, sys
r = random.Random(int(sys.argv[1]))
sys.stdout.buffer.write(r.randbytes(1 << 20))' "$seed" > "$T/hp/data"
sync -f "$T/hp/data"
want=$(sha256sum < "$T/hp/data")

e2e_step "lvchange -an of a running volume's LVs: refused by LVM"
status=0
lvchange -an "$vg/origin" "$vg/store" > "$T/an.out" 2>&1 || status=$?
echo "lvchange -an $vg/origin $vg/store: exit $status:"
cat "$T/an.out"
[ $status != 0 ] || fail "LVM deactivated the LVs under the running volume"
for lv in origin store; do
        grep -q "$vg/$lv is used by another device\|$vg/$lv in use" "$T/an.out" ||
                fail "LVM did not refuse $vg/$lv as in use"
        lv_active "$lv" || fail "$vg/$lv is gone after a refused -an"
done
zuma_test_settle
is_state hp running || fail "hp is $(volume_field hp state) after the refused -an"
mountpoint -q "$T/hp" || fail "hp's origin was unmounted after the refused -an"
same_data "after the refused -an"
lv_node=$(stat -L -c '%t %T' "/dev/$vg/origin")
holders=$(ls "/sys/dev/block/$((0x${lv_node% *})):$((0x${lv_node#* }))/holders")
echo "the origin LV's holders: $holders (the zumastor origin device)"

declare -a latencies=()
for ((round = 0; round < ZUMA_HOTPLUG_ROUNDS; round++)); do
        if ((round % 2 == 0)); then first=origin second=store; else first=store second=origin; fi
        e2e_step "round $round: zumactl stop; -an of both LVs; -ay of $first, then of $second"
        e2e_zumactl_closed stop hp
        poll "hp's origin is still mounted after zumactl stop" not_mounted "$T/hp"
        is_state hp stopped || fail "hp is $(volume_field hp state) after zumactl stop"
        # An administrator's stop holds while the devices stay.
        zuma_test_settle
        is_state hp stopped || fail "hp started again with its LVs still there"
        lvchange -an "$vg/origin" "$vg/store" || fail "LVM could not deactivate the stopped volume's LVs"
        { lv_gone origin && lv_gone store; } || fail "the LVs are still there after -an"
        zuma_test_settle
        is_state hp stopped || fail "hp is $(volume_field hp state) without its LVs"
        lvchange -ay "$vg/$first"
        zuma_test_settle
        # The mounter's look runs on its next idle after the event.
        sleep 0.5
        is_state hp stopped || fail "hp started with only its $first LV active"
        t0=$(now_ms)
        lvchange -ay "$vg/$second"
        poll "hp was not mounted again after -ay" mountpoint -q "$T/hp"
        latencies+=($(($(now_ms) - t0)))
        is_state hp running || fail "hp's origin is mounted but hp is $(volume_field hp state)"
        same_data "after -an and -ay, round $round"
        [ "$(grep -c "hp: started by hot-plug" "$T/mounterd.log")" = $((round + 1)) ] ||
                fail "the mounter did not say it started hp $((round + 1)) times"
done
echo "lv_hotplug_to_mounted_ms: ${latencies[*]}"

e2e_step "the mounter stops: nothing mounted; the store checks clean"
e2e_mounter_stop
not_mounted "$T/hp" || fail "hp is still mounted after the mounter stopped"
e2e_zumactl_closed stop hp
left=$(dmsetup table --target zumastor 2>/dev/null | grep -v "^No devices" || true)
[ -z "$left" ] || fail "zumastor devices left after stop: $left"
"$ZUMA_BUILD_ROOT/snapstore/zumastor-check" -q --origin "/dev/$vg/origin" "/dev/$vg/store" ||
        fail "zumastor-check found problems"
e2e_mounter_quiet '^$'
echo "ok ($((SECONDS - START)) s)"
