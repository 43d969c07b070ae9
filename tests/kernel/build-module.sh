#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Builds kernel/ (dm-zumastor.ko) out of tree for the qemu guest's kernel,
# with the extra warnings (W=1) as errors, in a copy under the build
# directory so the source tree stays clean:
#
#   build-module.sh KERNEL_SRC_DIR OUTPUT.ko
#
# The kernel version is the guest's (tests/vm/run-guest.sh --kernel-version:
# Debian's kernel whose headers build-aux/install-deps.sh installs), never
# this machine's own.
set -euo pipefail

[ $# = 2 ] || { echo "usage: build-module.sh KERNEL_SRC_DIR OUTPUT.ko" >&2; exit 2; }
src=$(cd "$1" && pwd)
out=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

kv=$("$here/../vm/run-guest.sh" --kernel-version) ||
        { echo "build-module: no Debian kernel to build for (make deps installs it)" >&2; exit 1; }
kdir=/lib/modules/$kv/build
[ -d "$kdir" ] || { echo "build-module: no headers for $kv at $kdir (package linux-headers-$kv)" >&2; exit 1; }

work=$(cd "$(dirname "$out")" && pwd)/dm-zumastor-build
rm -rf "$work"
mkdir -p "$work"
cp -r "$src"/. "$work"/
make -s -C "$kdir" M="$work" W=1 KCFLAGS=-Werror modules
cp "$work/dm-zumastor.ko" "$out"
