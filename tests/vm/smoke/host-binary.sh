#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest test: the project's binaries, built on the host, run unchanged in
# the guest's chroot.  test-blockdev (libsnapstore's file backend, O_DIRECT
# under /var/tmp) runs on ext4 on a dm-linear device, since the guest's
# /var/tmp is a tmpfs, which has no O_DIRECT in this kernel.
set -euo pipefail

bin=$ZUMA_BUILD_ROOT/tests/test-blockdev
[ -x "$bin" ] || { echo "no $bin: build the tree first (meson compile -C build)"; exit 1; }
read -r disk _ <<< "$ZUMA_VM_DISKS"
[ -b "$disk" ] || { echo "no scratch disk"; exit 1; }

dmsetup create zvm-vartmp --table "0 $(blockdev --getsz "$disk") linear $disk 0"
mkfs.ext4 -q -F /dev/mapper/zvm-vartmp
mount /dev/mapper/zvm-vartmp /var/tmp
trap 'umount /var/tmp; dmsetup remove zvm-vartmp' EXIT

"$bin"
echo "ok: $bin ran in the guest on $(uname -r)"
