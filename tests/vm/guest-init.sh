#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=dash
#
# /init of the guest's initramfs (tests/vm/run-guest.sh builds it).  Runs
# under busybox: loads the modules listed in /modules/order, mounts the
# host's root (9p tag "hostroot", read-only) under a tmpfs overlay so the
# guest can write anywhere without touching the host, mounts the run's
# directory (tag "zumarun", read-write: config, run.sh, stdout, stderr,
# status, dmesg) and the extra shares (tags "share0".., read-write, each at its
# host path), then runs /run/zuma-vm/run.sh in a chroot of that root with
# stdout and stderr into the run directory, writes the exit status next to
# them and powers off.  Everything this file says goes to the console
# (ttyS0) only; the command's own output never does.
#
# The run directory's "config" sets SHARES ("TAG=PATH" words), OVERLAY
# (1: the overlay root, 0: the read-only root alone), TMP_DISK (1: /tmp
# and /var/tmp on the disk with serial zuma-tmp) and INTERACTIVE (1: the
# command runs on the console, run-guest.sh --shell).  "times" gets the
# guest's uptime at the command's start and end.

PATH=/bin
export PATH
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# What udev or systemd would add to a devtmpfs (bash's <(...) needs /dev/fd).
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr

say() {
        echo "zuma-vm-init: $*" > /dev/console
}

# Leaves a reason where the host looks for one, then powers off: the host
# reports a run without a status file as a failure of the guest itself.
die() {
        say "FAILED: $*"
        if [ -d /out ] && mountpoint -q /out; then
                echo "$*" > /out/init-failed
                sync
        fi
        poweroff -f
        sleep 60
}

# Not fatal: a module may not fit this CPU (crc32c-intel without SSE4.2);
# the mounts below fail, and say so, if one they need is missing.
while read -r module; do
        insmod "/modules/$module" || say "insmod $module failed"
done < /modules/order

P9="trans=virtio,version=9p2000.L,msize=262144"
mkdir -p /out /hostroot /newroot /rw
mount -t 9p -o "$P9" zumarun /out || die "cannot mount the run directory (9p tag zumarun)"
. /out/config

# cache=loose: the host does not change its root during the run, and
# without a page cache every exec reads the binary over 9p again.
mount -t 9p -o "$P9,ro,cache=loose" hostroot /hostroot ||
        die "cannot mount the host's root (9p tag hostroot)"

root=/hostroot
if [ "$OVERLAY" = 1 ]; then
        mount -t tmpfs -o mode=755 rw /rw &&
                mkdir -p /rw/upper /rw/work &&
                mount -t overlay -o lowerdir=/hostroot,upperdir=/rw/upper,workdir=/rw/work \
                        overlay /newroot && root=/newroot ||
                say "overlay root failed: the root stays read-only"
fi

mount --bind /dev "$root/dev" || die "cannot bind /dev"
mkdir -p "$root/dev/pts" "$root/dev/shm"
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts "$root/dev/pts"
mount -t tmpfs -o mode=1777 shm "$root/dev/shm"
mount --bind /proc "$root/proc" || die "cannot bind /proc"
mount --bind /sys "$root/sys" || die "cannot bind /sys"

# The kernel loads modules on demand (a file system type at mount, a dm
# target at table load) through /sbin/modprobe in PID 1's root, this
# initramfs, which holds no /lib/modules: send it into the chroot.
printf '#!/bin/sh\nexec /bin/chroot %s /sbin/modprobe "$@"\n' "$root" > /bin/modprobe-in-root
chmod 755 /bin/modprobe-in-root
echo /bin/modprobe-in-root > /proc/sys/kernel/modprobe

mount -t tmpfs -o mode=755 run "$root/run" || die "cannot mount /run"
if [ "$TMP_DISK" != 1 ]; then
        mount -t tmpfs -o mode=1777 tmp "$root/tmp" || die "cannot mount /tmp"
        mount -t tmpfs -o mode=1777 vartmp "$root/var/tmp" || die "cannot mount /var/tmp"
fi
mkdir -p "$root/run/lock" "$root/run/zuma-vm"
# --tmp-disk: /tmp and /var/tmp on the ext4 the host made, found by its
# serial (ext4 loads on demand, through the chroot's modprobe).
if [ "$TMP_DISK" = 1 ]; then
        tmpdev=""
        for serial in /sys/block/vd*/serial; do
                [ "$(cat "$serial")" = zuma-tmp ] && tmpdev=/dev/${serial#/sys/block/} && tmpdev=${tmpdev%/serial}
        done
        [ -n "$tmpdev" ] || die "no disk with serial zuma-tmp (--tmp-disk)"
        mkdir -p /tmpdisk
        mount -t ext4 "$tmpdev" /tmpdisk || die "cannot mount the tmp disk $tmpdev"
        mkdir -p /tmpdisk/tmp /tmpdisk/var-tmp
        chmod 1777 /tmpdisk/tmp /tmpdisk/var-tmp
        mount --bind /tmpdisk/tmp "$root/tmp" && mount --bind /tmpdisk/var-tmp "$root/var/tmp" ||
                die "cannot bind the tmp disk on /tmp and /var/tmp"
fi

mount --bind /out "$root/run/zuma-vm" || die "cannot bind the run directory"
# The shares last, so that one under /tmp is not hidden by it.
for share in $SHARES; do
        tag=${share%%=*}
        path=${share#*=}
        mkdir -p "$root$path" 2>/dev/null
        mount -t 9p -o "$P9" "$tag" "$root$path" || die "cannot mount share $tag at $path"
done

read -r up _ < /proc/uptime
echo "start $up" > /out/times
say "running the command (uptime $up s)"
if [ "$INTERACTIVE" = 1 ]; then
        # run-guest.sh --shell: the console is the command's terminal, with
        # job control (cttyhack makes it the controlling tty).
        setsid cttyhack chroot "$root" /bin/bash /run/zuma-vm/run.sh
        status=$?
else
        chroot "$root" /bin/bash /run/zuma-vm/run.sh < /dev/null > /out/stdout 2> /out/stderr
        status=$?
fi
read -r up _ < /proc/uptime
echo "end $up" >> /out/times
dmesg > /out/dmesg
echo "$status" > /out/status
say "the command exited $status (uptime $up s)"
sync
poweroff -f
sleep 60
