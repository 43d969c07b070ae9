#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Installs the Debian packages Zumastor needs to build, test and benchmark.
# Idempotent: checks with dpkg-query what is missing and installs only that;
# runs apt-get update only when something is missing.  Run as root on
# Debian 12 (sudo is used when available and not root).
#
# The qemu guest of the vm suite (tests/vm/run-guest.sh) runs this machine's
# root read-only under Debian's own kernel, so what it uses is installed
# here too: qemu, the kernel image with its modules and headers (one
# command, so their versions match), a static busybox for the initramfs,
# kmod and cpio to build it, the device-mapper tools the guest's tests
# call, and the NFS server (rpcbind, rpc.nfsd, rpc.mountd, exportfs,
# mount.nfs) of tests/kernel/guest/nfs.sh.  About 0.6 GB and 2.5
# minutes; ZUMA_VM_TESTS=0 leaves them out (for builds configured with
# -Dvm_tests=false).
set -eu

PACKAGES="
build-essential meson ninja-build pkg-config libxxhash-dev
libfuse3-dev fuse3
e2fsprogs xfsprogs util-linux btrfs-progs rsync fio
iproute2 iputils-ping ethtool
clang libclang-rt-14-dev clang-format
python3
libglib2.0-dev libglib2.0-dev-bin libjson-glib-dev libsystemd-dev libzstd-dev
dbus libdbus-1-dev udev libudev-dev systemd bash-completion
libpolkit-gobject-1-dev polkitd
dunst xvfb xauth
samba smbclient samba-vfs-modules
glib-networking openssl openssh-client openssh-server iproute2
"

# The qemu guest (tests/vm/).
if [ "${ZUMA_VM_TESTS:-1}" != 0 ]; then
        PACKAGES="$PACKAGES
qemu-system-x86 linux-image-amd64 linux-headers-amd64 busybox-static kmod cpio
lvm2 dmsetup thin-provisioning-tools
nfs-kernel-server
"
fi

missing=""
for pkg in $PACKAGES; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
        if [ "$status" != "installed" ]; then
                missing="$missing $pkg"
        fi
done

if [ -z "$missing" ]; then
        echo "install-deps: all build dependencies are installed"
        exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
                SUDO="sudo"
        else
                echo "install-deps: missing packages:$missing" >&2
                echo "install-deps: run as root (or install sudo) to install them" >&2
                exit 1
        fi
fi

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# Others may be running apt on the same machine: wait for the lock rather
# than fail.  INITRD=No: the kernel package would otherwise build an initrd
# nobody boots (the guest has its own initramfs), about 30 s.
APT="apt-get -o DPkg::Lock::Timeout=600"
$SUDO env DEBIAN_FRONTEND=noninteractive $APT update -q
# shellcheck disable=SC2086 # word splitting of the package list is wanted
$SUDO env DEBIAN_FRONTEND=noninteractive INITRD=No $APT install -y -q --no-install-recommends $missing
echo "install-deps: done"
