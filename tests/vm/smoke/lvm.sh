#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest test: LVM works on the scratch disks.  A volume group on two disks,
# a logical volume spanning both, its device nodes, lvchange -an removing
# them and -ay bringing them back with the data intact.
set -euo pipefail

read -r -a disks <<< "$ZUMA_VM_DISKS"
[ "${#disks[@]}" -ge 2 ] || { echo "two scratch disks needed (ZUMA_VM_DISKS='$ZUMA_VM_DISKS')"; exit 1; }
vg=zvmsmoke
lv=lv0
d1=${disks[0]} d2=${disks[1]}
disk_mib=$(($(blockdev --getsize64 "$d1") / 1048576))

pvcreate -q "$d1" "$d2"
vgcreate -q "$vg" "$d1" "$d2"
# More than one disk holds: the volume spans both.
lvcreate -q -y -L "$((disk_mib + disk_mib / 2))M" -n "$lv" "$vg"
segments=$(dmsetup table "$vg-$lv" | grep -c linear)
[ "$segments" -ge 2 ] || { echo "the volume does not span both disks: $(dmsetup table "$vg-$lv")"; exit 1; }

check_nodes() {
        [ -b "/dev/$vg/$lv" ] && [ -b "/dev/mapper/$vg-$lv" ] || {
                echo "no device nodes for $vg/$lv:"
                ls -l "/dev/$vg" /dev/mapper || true
                exit 1
        }
}
check_nodes

size=$(blockdev --getsize64 "/dev/$vg/$lv")
# A block at each end, so both disks hold some of it.
head -c 1M /dev/urandom > /tmp/block
dd if=/tmp/block of="/dev/$vg/$lv" bs=1M oflag=direct status=none
dd if=/tmp/block of="/dev/$vg/$lv" bs=1M seek=$((size / 1048576 - 1)) oflag=direct status=none

lvchange -an "$vg/$lv"
if [ -e "/dev/$vg/$lv" ] || [ -e "/dev/mapper/$vg-$lv" ] || dmsetup info "$vg-$lv" > /dev/null 2>&1; then
        echo "$vg/$lv is still there after lvchange -an"
        exit 1
fi
lvchange -ay "$vg/$lv"
check_nodes
first=$(dd if="/dev/$vg/$lv" bs=1M count=1 iflag=direct status=none | sha256sum)
last=$(dd if="/dev/$vg/$lv" bs=1M skip=$((size / 1048576 - 1)) count=1 iflag=direct status=none | sha256sum)
want=$(sha256sum < /tmp/block)
[ "$first" = "$want" ] && [ "$last" = "$want" ] || { echo "data differs after lvchange -an/-ay"; exit 1; }
echo "$vg/$lv (${size} bytes over $d1 and $d2): nodes gone after -an, back after -ay, data intact"

lvremove -q -y "$vg/$lv"
vgremove -q -y "$vg"
pvremove -q "$d1" "$d2"
echo "ok"
