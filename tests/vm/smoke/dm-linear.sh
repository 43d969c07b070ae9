#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest test: device-mapper works.  A dm-linear device on the first scratch
# disk (made the way a guest without udevd makes one: --noudevsync, then
# mknodes) holds an ext4 file system whose data reads back after a remount
# with the page cache dropped; the table and the removal are checked too.
set -euo pipefail

read -r disk _ <<< "$ZUMA_VM_DISKS"
[ -b "$disk" ] || { echo "no scratch disk (ZUMA_VM_DISKS='$ZUMA_VM_DISKS')"; exit 1; }
dmsetup targets | grep -q '^linear' || { echo "no linear target: dm-mod not loaded?"; exit 1; }

name=zvm-linear
mnt=/mnt/zvm-linear
sectors=$(blockdev --getsz "$disk")
size=$((sectors < 131072 ? sectors : 131072)) # 64 MiB at most
offset=2048                                   # 1 MiB into the disk
size=$((size - offset))

dmsetup create --noudevsync "$name" --table "0 $size linear $disk $offset"
dmsetup mknodes "$name"
[ -b "/dev/mapper/$name" ] || { echo "no /dev/mapper/$name after mknodes"; exit 1; }
table=$(dmsetup table "$name")
echo "table: $table"
[[ $table == "0 $size linear "*" $offset" ]] || { echo "unexpected table"; exit 1; }

mkfs.ext4 -q -F "/dev/mapper/$name"
mkdir -p "$mnt"
mount "/dev/mapper/$name" "$mnt"
head -c 4M /dev/urandom > "$mnt/data"
written=$(sha256sum < "$mnt/data")
umount "$mnt"
echo 3 > /proc/sys/vm/drop_caches
mount -o ro "/dev/mapper/$name" "$mnt"
read_back=$(sha256sum < "$mnt/data")
umount "$mnt"
[ "$written" = "$read_back" ] || { echo "data differs after remount"; exit 1; }
echo "4 MiB written and read back through ext4 on dm-linear"

# The file system starts at the mapping's offset on the disk itself.
magic=$(dd if="$disk" bs=512 skip=$((offset + 2)) count=1 status=none | od -An -tx1 -j56 -N2 | tr -d ' ')
[ "$magic" = 53ef ] || { echo "no ext4 magic at the mapped offset of $disk (found $magic)"; exit 1; }

dmsetup remove "$name"
[ ! -e "/dev/mapper/$name" ] || { echo "/dev/mapper/$name is still there after remove"; exit 1; }
echo "ok"
