# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# guest-lib.sh: what the guest tests of zuma-snapshotd's kernel frontend
# (e2e.sh, hotplug.sh, nfs.sh) share.  Source it after e2e-lib.sh's
# e2e_init (same_files uses $ZUMA_TEST_DIR).
#
#   guest_load_module                  insmod dm-zumastor from the build tree
#   guest_lvm_volume VG ORIGIN STORE   a volume group on $ZUMA_VM_DISKS and
#                                      LVs VG/origin and VG/store of those
#                                      sizes (lvcreate -L), their first MiB
#                                      zeroed (an earlier test's store there
#                                      is not ours)
#   write_files DIR TAG N [KIB]        N files of seeded random sizes up to
#                                      KIB (96) and contents: $RANDOM
#   same_files MANIFEST DIR WHAT       DIR holds what MANIFEST lists

guest_load_module() {
        grep -q '^dm_zumastor ' /proc/modules ||
                insmod "$ZUMA_BUILD_ROOT/tests/kernel/dm-zumastor.ko"
}

guest_lvm_volume() {
        local vg=$1 lv disks
        read -r -a disks <<< "$ZUMA_VM_DISKS"
        [ "${#disks[@]}" -ge 2 ] || e2e_fail "two scratch disks needed (ZUMA_VM_DISKS='$ZUMA_VM_DISKS')"
        pvcreate -q "${disks[@]}"
        vgcreate -q "$vg" "${disks[@]}"
        lvcreate -q -y -L "$2" -n origin "$vg"
        lvcreate -q -y -L "$3" -n store "$vg"
        for lv in origin store; do
                dd if=/dev/zero of="/dev/$vg/$lv" bs=1M count=1 oflag=direct status=none
        done
}

write_files() {
        local dir=$1 tag=$2 i max=${4:-96}
        mkdir -p "$dir"
        for ((i = 0; i < $3; i++)); do
                head -c $(((RANDOM % max + 1) * 1024)) /dev/urandom > "$dir/$tag-$i"
        done
}

same_files() {
        e2e_manifest "$2" > "$ZUMA_TEST_DIR/found"
        e2e_same_manifest "$1" "$ZUMA_TEST_DIR/found" "$3"
}
