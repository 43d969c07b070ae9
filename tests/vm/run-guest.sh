#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs one command as root in a qemu guest that has device-mapper and
# loadable modules, which this machine's own kernel lacks (issue 16).
#
# How: Debian's stock kernel (linux-image-amd64, the newest version in
# /lib/modules that has a /boot/vmlinuz) boots under TCG with a small
# busybox initramfs (tests/vm/guest-init.sh as /init, plus the modules it
# needs to reach the host's files: virtio, 9p, overlay; and dm-mod,
# dm-snapshot, dm-thin-pool, dm-bufio, loop already loaded).  The host's
# root is shared read-only over 9p, under a tmpfs overlay in the guest, so
# the command runs in a chroot that looks like the host (same binaries,
# same paths, the build tree included) and may write anywhere without
# changing the host.  /tmp, /run and /var/tmp are fresh tmpfs (or ext4 on
# a disk of their own, --tmp-disk); /dev, /proc, /sys are the guest's.  Directories given with --share are the exception:
# mounted read-write at their own path, writes there reach the host.
#
# The command's stdout and stderr come back on ours, as they are written
# (through files in the run directory, shared read-write over 9p), never
# mixed with the guest's console, which goes to a file (--console,
# --verbose).  Its exit status is ours.  qemu itself exits 0 whenever the
# guest powers off, so the status travels in a file the guest's init
# writes after the command; no such file (a hang, a panic, a failed boot)
# is a failure of the run: exit 125 with the reason and the console's tail.
#
# The initramfs is built once per kernel version and per content of this
# script and guest-init.sh, under the cache directory.  --help lists the
# options; docs/HACKING.md ("The qemu guest") has timings and gotchas.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROG="run-guest"
HARNESS_FAILED=125

usage() {
        cat <<EOF
Usage: tests/vm/run-guest.sh [OPTION...] [--] COMMAND [ARG...]
       tests/vm/run-guest.sh --shell [OPTION...] [[--] COMMAND [ARG...]]

Boots Debian's kernel in qemu (TCG) with this machine's root read-only
under a writable overlay, runs COMMAND as root in it, and exits with its
status; COMMAND's stdout and stderr are ours.

Options:
  --disks N            attach N sparse scratch disks: /dev/vda, /dev/vdb, ...
  --disk-size SIZE     size of each scratch disk (truncate(1) syntax; 1G)
  --tmp-disk SIZE      /tmp and /var/tmp on ext4 on a disk of SIZE instead of
                       tmpfs (tmpfs has no O_DIRECT in 6.1); not a scratch disk
  --share DIR          share host DIR read-write at the same path (repeatable)
  --modprobe MOD[,..]  modprobe these in the guest before COMMAND (repeatable)
  --insmod FILE.ko     insmod an out-of-tree module by host path (repeatable;
                       after --modprobe; its dependencies must be loaded)
  --udev               start systemd-udevd --daemon, trigger and settle first
                       (without it DM_DISABLE_UDEV=1 is set: libdevmapper and
                       LVM make their /dev nodes themselves)
  --env NAME=VALUE     put NAME in COMMAND's environment (repeatable)
  --cwd DIR            COMMAND's working directory (default: the current one)
  --timeout SECONDS    the whole run, boot included (600; --shell: 0, none)
  --memory SIZE        guest memory (qemu -m syntax; 2G)
  --smp N              guest CPUs (2)
  --no-overlay         keep the root read-only (only /tmp, /run, /var/tmp and
                       the shares are writable)
  --append ARGS        add to the kernel command line
  --console FILE       write the guest's console (kernel messages) to FILE
  --kernel-log FILE    write the guest's whole kernel log (dmesg, all levels,
                       taken after COMMAND) to FILE
  --fail-on-kernel-warnings
                       exit $HARNESS_FAILED when the kernel log has a splat (WARNING:,
                       BUG:, Oops, a hung task, ...) even if COMMAND passed
  --verbose            copy the console to stderr as it comes
  --shell              interactive: the console is this terminal and COMMAND
                       (default: bash --norc -i) runs on it; exit to power off;
                       no timeout unless --timeout; Ctrl-A x kills qemu
  --keep               keep the run directory (its path is printed)
  --cache-dir DIR      where initramfs images are kept
                       (\$ZUMA_VM_CACHE_DIR, else /var/tmp/zuma-vm-cache)
  --initramfs          only build (or find) the initramfs; print its path
  --kernel-version     only print the guest's kernel version (for building
                       modules: make -C /lib/modules/KV/build M=DIR modules)
  -h, --help           this text

Preloaded: dm-mod dm-bufio dm-snapshot dm-thin-pool loop overlay (and the
virtio and 9p drivers); other modules load on demand or with --modprobe.
In the guest: ZUMA_VM_DISKS lists the scratch disks ("/dev/vda /dev/vdb"),
ZUMA_VM_GUEST=1 and SYSTEMD_IGNORE_CHROOT=1 are set, PATH is the usual
root PATH, HOME=/root.  The host's /tmp is not the guest's: put scripts
for the guest elsewhere (the build tree, the source tree).

Exit status: COMMAND's; $HARNESS_FAILED when the guest could not run it (missing
packages, a failed boot, a module that would not load, a panic, the
timeout), with the reason and the console's last lines on stderr.

Environment: ZUMA_VM_KERNEL (a kernel version in /lib/modules; default the
newest with a /boot/vmlinuz), ZUMA_VM_CACHE_DIR, ZUMA_VM_QEMU
(qemu-system-x86_64).  Packages: build-aux/install-deps.sh.
EOF
}

fail() {
        echo "$PROG: $*" >&2
        exit "$HARNESS_FAILED"
}

disks=0
disk_size=1G
tmp_disk=""
shares=()
modprobes=()
insmods=()
udev=0
envs=()
cwd=$PWD
timeout_s=""
memory=2G
smp=2
overlay=1
append=""
console_out=""
kernel_log_out=""
fail_on_warnings=0
verbose=0
keep=0
cache_dir=${ZUMA_VM_CACHE_DIR:-/var/tmp/zuma-vm-cache}
only_initramfs=0
only_kernel_version=0
shell=0

need_arg() {
        [ "$2" -ge 2 ] || fail "$1 needs an argument (--help)"
}

while [ $# -gt 0 ]; do
        case $1 in
        --disks) need_arg "$1" $#; disks=$2; shift 2 ;;
        --disk-size) need_arg "$1" $#; disk_size=$2; shift 2 ;;
        --tmp-disk) need_arg "$1" $#; tmp_disk=$2; shift 2 ;;
        --share) need_arg "$1" $#; shares+=("$2"); shift 2 ;;
        --modprobe) need_arg "$1" $#; IFS=, read -r -a more <<< "$2"; modprobes+=("${more[@]}"); shift 2 ;;
        --insmod) need_arg "$1" $#; insmods+=("$2"); shift 2 ;;
        --udev) udev=1; shift ;;
        --env) need_arg "$1" $#; envs+=("$2"); shift 2 ;;
        --cwd) need_arg "$1" $#; cwd=$2; shift 2 ;;
        --timeout) need_arg "$1" $#; timeout_s=$2; shift 2 ;;
        --memory) need_arg "$1" $#; memory=$2; shift 2 ;;
        --smp) need_arg "$1" $#; smp=$2; shift 2 ;;
        --no-overlay) overlay=0; shift ;;
        --append) need_arg "$1" $#; append="$append $2"; shift 2 ;;
        --console) need_arg "$1" $#; console_out=$2; shift 2 ;;
        --kernel-log) need_arg "$1" $#; kernel_log_out=$2; shift 2 ;;
        --fail-on-kernel-warnings) fail_on_warnings=1; shift ;;
        --verbose) verbose=1; shift ;;
        --shell) shell=1; shift ;;
        --keep) keep=1; shift ;;
        --cache-dir) need_arg "$1" $#; cache_dir=$2; shift 2 ;;
        --initramfs) only_initramfs=1; shift ;;
        --kernel-version) only_kernel_version=1; shift ;;
        -h | --help) usage; exit 0 ;;
        --) shift; break ;;
        -*) fail "unknown option $1 (--help)" ;;
        *) break ;;
        esac
done

[[ $disks =~ ^[0-9]+$ ]] && [ "$disks" -le 20 ] || fail "--disks takes 0..20, not $disks"
if [ -z "$timeout_s" ]; then
        timeout_s=600
        [ "$shell" = 0 ] || timeout_s=0 # no limit
fi
[[ $timeout_s =~ ^[0-9]+$ ]] || fail "--timeout takes seconds, not $timeout_s"
[[ $smp =~ ^[0-9]+$ ]] || fail "--smp takes a count, not $smp"
if [ "$only_initramfs" = 0 ] && [ "$only_kernel_version" = 0 ] && [ $# -eq 0 ]; then
        [ "$shell" = 1 ] || fail "no command to run (--help)"
        # Without the host's ~/.bashrc, which may start many programs
        # (each costs ~0.5 s under TCG).
        set -- bash --norc -i
fi
for e in "${envs[@]}"; do
        [[ $e =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || fail "--env takes NAME=VALUE, not $e"
done

# --- what the host needs -------------------------------------------------

missing_packages() {
        fail "$* (install the guest's packages: build-aux/install-deps.sh, as root)"
}

find_kernel() {
        local kv best=""
        if [ -n "${ZUMA_VM_KERNEL:-}" ]; then
                echo "$ZUMA_VM_KERNEL"
                return
        fi
        for kv in /lib/modules/*; do
                kv=${kv##*/}
                [ -f "/boot/vmlinuz-$kv" ] && [ -d "/lib/modules/$kv/kernel" ] || continue
                best=$(printf '%s\n%s\n' "$best" "$kv" | sed '/^$/d' | sort -V | tail -n 1)
        done
        echo "$best"
}

QEMU=${ZUMA_VM_QEMU:-qemu-system-x86_64}
KV=$(find_kernel)
[ -n "$KV" ] || missing_packages "no kernel with modules: no /boot/vmlinuz-KV beside /lib/modules/KV (linux-image-amd64)"
KERNEL=/boot/vmlinuz-$KV
[ -r "$KERNEL" ] || missing_packages "cannot read $KERNEL (ZUMA_VM_KERNEL=$KV?)"
[ -d "/lib/modules/$KV/kernel" ] || missing_packages "no modules in /lib/modules/$KV"
if [ "$only_kernel_version" = 1 ]; then
        echo "$KV"
        exit 0
fi
command -v "$QEMU" > /dev/null || missing_packages "no $QEMU (qemu-system-x86)"
command -v modprobe > /dev/null || missing_packages "no modprobe (kmod)"
command -v cpio > /dev/null || missing_packages "no cpio"
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] && ! LC_ALL=C ldd "$BUSYBOX" > /dev/null 2>&1 ||
        missing_packages "no static $BUSYBOX (busybox-static)"

# --- the initramfs, cached ---------------------------------------------------

INITRAMFS_MODULES="dm-mod dm-bufio dm-snapshot dm-thin-pool loop virtio_pci virtio_blk 9p 9pnet_virtio overlay"

# Copies MODULE and what it depends on, in load order, into DIR/modules and
# appends their file names to DIR/modules/order (each once).
add_module() {
        local dir=$1 module=$2 path base
        local lines
        lines=$(modprobe -S "$KV" --show-depends "$module" 2>&1) ||
                fail "modprobe -S $KV --show-depends $module: $lines"
        while read -r verb path _; do
                [ "$verb" = insmod ] || continue # "builtin MOD" needs nothing
                base=${path##*/}
                base=${base%.xz}
                base=${base%.zst}
                base=${base%.gz}
                grep -qxF "$base" "$dir/modules/order" && continue
                case $path in
                *.ko) cp "$path" "$dir/modules/$base" ;;
                *.ko.xz) xz -dc "$path" > "$dir/modules/$base" ;;
                *.ko.zst) zstd -qdc "$path" > "$dir/modules/$base" ;;
                *.ko.gz) gzip -dc "$path" > "$dir/modules/$base" ;;
                *) fail "unexpected module file $path" ;;
                esac
                echo "$base" >> "$dir/modules/order"
        done <<< "$lines"
}

build_initramfs() {
        local out=$1 dir module
        dir=$(mktemp -d "${TMPDIR:-/tmp}/zuma-vm-initramfs.XXXXXX")
        mkdir -p "$dir/bin" "$dir/modules" "$dir/proc" "$dir/sys" "$dir/dev"
        : > "$dir/modules/order"
        cp "$BUSYBOX" "$dir/bin/busybox"
        cp "$HERE/guest-init.sh" "$dir/init"
        chmod 755 "$dir/init"
        for module in $INITRAMFS_MODULES; do
                add_module "$dir" "$module"
        done
        (cd "$dir" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) > "$out.tmp.$$"
        mv "$out.tmp.$$" "$out"
        rm -rf "$dir"
}

mkdir -p "$cache_dir" || fail "cannot create the cache directory $cache_dir"
key=$( { echo "$KV"; cat "${BASH_SOURCE[0]}" "$HERE/guest-init.sh"; cksum < "$BUSYBOX"; } | sha256sum | cut -c1-16)
INITRAMFS=$cache_dir/initramfs-$KV-$key.cpio.gz
if [ ! -s "$INITRAMFS" ]; then
        exec 9> "$cache_dir/.lock"
        flock 9
        if [ ! -s "$INITRAMFS" ]; then
                t0=$SECONDS
                build_initramfs "$INITRAMFS"
                echo "$PROG: built $INITRAMFS in $((SECONDS - t0)) s" >&2
                # Images unused for a day go: other checkouts (another
                # version of this script) may share the cache directory.
                find "$cache_dir" -maxdepth 1 -name 'initramfs-*.cpio.gz' -mmin +1440 -delete
        fi
        exec 9>&-
fi
touch "$INITRAMFS" # in use
if [ "$only_initramfs" = 1 ]; then
        echo "$INITRAMFS"
        exit 0
fi

# --- the run directory -------------------------------------------------------

work=$(mktemp -d "${TMPDIR:-/var/tmp}/zuma-vm-run.XXXXXX") || fail "cannot make a run directory"
run=$work/run # shared with the guest (9p tag zumarun)
mkdir -p "$run" "$work/disks"
qemu_pid=""
tail_pids=()

cleanup() {
        local pid
        if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2> /dev/null; then
                kill "$qemu_pid" 2> /dev/null || true
                wait "$qemu_pid" 2> /dev/null || true
        fi
        for pid in "${tail_pids[@]}"; do
                kill "$pid" 2> /dev/null || true
        done
        if [ "$keep" = 1 ]; then
                echo "$PROG: kept the run directory $work" >&2
        else
                rm -rf "$work"
        fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

share_words=""
virtfs=(-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
        -virtfs "local,path=$run,mount_tag=zumarun,security_model=none,multidevs=remap")
i=0
for dir in "${shares[@]}"; do
        [ -d "$dir" ] || fail "--share $dir: not a directory"
        dir=$(cd "$dir" && pwd -P)
        case $dir in *[[:space:]=]*) fail "--share $dir: no spaces or '=' in shared paths, please" ;; esac
        virtfs+=(-virtfs "local,path=$dir,mount_tag=share$i,security_model=passthrough,multidevs=remap")
        share_words="$share_words share$i=$dir"
        i=$((i + 1))
done

# Each disk carries a serial (/sys/block/vdX/serial) by which the guest
# tells the scratch disks (zuma-scratch-N, ZUMA_VM_DISKS) from the tmp disk.
drives=()
for ((i = 0; i < disks; i++)); do
        truncate -s "$disk_size" "$work/disks/disk$i.img" || fail "--disk-size $disk_size: cannot make a disk"
        drives+=(-drive "file=$work/disks/disk$i.img,if=none,id=scratch$i,format=raw,cache=unsafe"
                -device "virtio-blk-pci,drive=scratch$i,serial=zuma-scratch-$i")
done
if [ -n "$tmp_disk" ]; then
        command -v mkfs.ext4 > /dev/null || missing_packages "no mkfs.ext4 (e2fsprogs)"
        truncate -s "$tmp_disk" "$work/disks/tmp.img" || fail "--tmp-disk $tmp_disk: cannot make a disk"
        mkfs.ext4 -q -F -L zuma-tmp "$work/disks/tmp.img" || fail "--tmp-disk: mkfs.ext4 failed"
        drives+=(-drive "file=$work/disks/tmp.img,if=none,id=tmpdisk,format=raw,cache=unsafe"
                -device "virtio-blk-pci,drive=tmpdisk,serial=zuma-tmp")
fi

for ko in "${insmods[@]}"; do
        [ -f "$ko" ] || fail "--insmod $ko: no such file"
done

printf 'SHARES="%s"\nOVERLAY=%s\nTMP_DISK=%s\nINTERACTIVE=%s\n' \
        "$share_words" "$overlay" "${tmp_disk:+1}" "$shell" > "$run/config"
: > "$run/stdout"
: > "$run/stderr"

# run.sh: what runs in the chroot, bash from the host's root.
{
        echo '#!/bin/bash'
        echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
        echo 'export HOME=/root LANG=C.UTF-8 TERM=dumb ZUMA_VM_GUEST=1'
        [ "$shell" = 0 ] || echo "export TERM=${TERM:-vt100} PS1='zuma-vm:\w# '"
        # systemd's tools see the chroot and do nothing ("Running in
        # chroot, ignoring request": udevadm settle among them) unless told.
        echo 'export SYSTEMD_IGNORE_CHROOT=1'
        # Without udevd, libdevmapper and LVM would wait for it to make the
        # device nodes (LVM: "not found: device not cleared"); this makes
        # them make the nodes themselves.
        [ "$udev" = 1 ] || echo 'export DM_DISABLE_UDEV=1'
        # The scratch disks in order, by their serials.
        cat <<'EOF'
ZUMA_VM_DISKS=""
for serial in /sys/block/vd*/serial; do
        [ -e "$serial" ] || continue
        case $(cat "$serial") in
        zuma-scratch-*) echo "$(cat "$serial") /dev/${serial#/sys/block/}" ;;
        esac
done | sed 's|/serial$||; s/^zuma-scratch-//' | sort -n > /run/zuma-vm-disks
while read -r _ disk; do ZUMA_VM_DISKS="$ZUMA_VM_DISKS $disk"; done < /run/zuma-vm-disks
export ZUMA_VM_DISKS=${ZUMA_VM_DISKS# }
EOF
        for e in "${envs[@]}"; do
                printf 'export %s=%q\n' "${e%%=*}" "${e#*=}"
        done
        cat <<'EOF'
setup_failed() {
        echo "run-guest (in the guest): $*" >&2
        echo "$*" > /run/zuma-vm/setup-failed
        exit 125
}
EOF
        for m in "${modprobes[@]}"; do
                printf 'modprobe %q || setup_failed %q\n' "$m" "modprobe $m failed"
        done
        for ko in "${insmods[@]}"; do
                ko=$(realpath "$ko")
                printf 'insmod %q || setup_failed %q\n' "$ko" "insmod $ko failed"
        done
        if [ "$udev" = 1 ]; then
                # The guest's udevd log goes to /run/udevd.log (debug with --env SYSTEMD_LOG_LEVEL=debug).
                echo '/lib/systemd/systemd-udevd --daemon > /run/udevd.log 2>&1 || setup_failed "systemd-udevd --daemon failed: $(cat /run/udevd.log)"'
                echo 'udevadm trigger --action=add > /dev/null 2>&1 || setup_failed "udevadm trigger failed"'
                echo 'udevadm settle --timeout=60 || setup_failed "udevadm settle failed"'
        fi
        printf 'cd %q || setup_failed %q\n' "$cwd" "cannot cd to $cwd"
        printf 'exec'
        printf ' %q' "$@"
        printf '\n'
} > "$run/run.sh"

# --- the run -----------------------------------------------------------------

console=$run/console.log
: > "$console"
cmdline="console=ttyS0 panic=-1 oops=panic loglevel=5$append"
t0=$(date +%s.%N)
# -no-reboot turns the panic's reboot (panic=-1) into an exit.
qemu_args=(-accel tcg -cpu max -m "$memory" -smp "$smp"
        -nodefaults -no-user-config -nographic -no-reboot -nic none
        -kernel "$KERNEL" -initrd "$INITRAMFS" -append "$cmdline"
        "${virtfs[@]}" "${drives[@]}")
qemu_status=0
if [ "$shell" = 1 ]; then
        # The terminal is the console (and, after Ctrl-A c, the monitor);
        # signal=off: Ctrl-C goes to the guest; the console is logged to
        # the file as well.  In the foreground, since a background job's
        # stdin would be /dev/null.
        timeout --foreground --kill-after=10 "$timeout_s" "$QEMU" "${qemu_args[@]}" \
                -chardev "stdio,id=term,mux=on,signal=off,logfile=$console" \
                -serial chardev:term -mon chardev=term 2> "$work/qemu.log" || qemu_status=$?
else
        # The console is a file; stdin is /dev/null so qemu never touches
        # the terminal.  The command's output is followed as it is written.
        timeout --kill-after=10 "$timeout_s" "$QEMU" "${qemu_args[@]}" \
                -monitor none -serial "file:$console" \
                < /dev/null > "$work/qemu.log" 2>&1 &
        qemu_pid=$!
        tail -n +1 -s 0.2 -f --pid="$qemu_pid" "$run/stdout" &
        tail_pids+=($!)
        tail -n +1 -s 0.2 -f --pid="$qemu_pid" "$run/stderr" >&2 &
        tail_pids+=($!)
        if [ "$verbose" = 1 ]; then
                tail -n +1 -s 0.2 -f --pid="$qemu_pid" "$console" >&2 &
                tail_pids+=($!)
        fi
        wait "$qemu_pid" || qemu_status=$?
        qemu_pid=""
        for pid in "${tail_pids[@]}"; do
                wait "$pid" 2> /dev/null || true
        done
        tail_pids=()
fi
t1=$(date +%s.%N)

if [ -n "$console_out" ]; then
        cp "$console" "$console_out" || echo "$PROG: cannot write the console to $console_out" >&2
fi

# The console without SeaBIOS's escape sequences and carriage returns.
console_tail() {
        echo "$PROG: the guest's console, last 40 lines:" >&2
        sed 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g; s/\r//g' "$console" | tail -n 40 | sed 's/^/  | /' >&2
}

if [ ! -s "$run/status" ]; then
        if [ "$qemu_status" = 124 ] || [ "$qemu_status" = 137 ]; then
                echo "$PROG: the guest did not finish within $timeout_s s (--timeout): killed" >&2
        elif [ -s "$run/init-failed" ]; then
                echo "$PROG: the guest's init failed: $(cat "$run/init-failed")" >&2
        elif grep -q 'zuma-vm-init: FAILED' "$console"; then
                echo "$PROG: the guest's init failed: $(sed -n 's/.*zuma-vm-init: FAILED: //p' "$console" | head -n 1)" >&2
        elif grep -q 'Kernel panic' "$console"; then
                echo "$PROG: the guest's kernel panicked (an oops panics too: oops=panic)" >&2
        elif [ "$qemu_status" != 0 ]; then
                echo "$PROG: qemu failed (exit $qemu_status):" >&2
                sed 's/^/  | /' "$work/qemu.log" >&2
        else
                echo "$PROG: the guest stopped without a result (a panic, or a reboot?)" >&2
        fi
        console_tail
        exit "$HARNESS_FAILED"
fi

if [ -n "$kernel_log_out" ]; then
        cp "$run/dmesg" "$kernel_log_out" 2> /dev/null || echo "$PROG: no kernel log to write to $kernel_log_out" >&2
fi

status=$(cat "$run/status")
[[ $status =~ ^[0-9]+$ ]] || fail "the guest wrote a bad status: $status"
if [ -s "$run/setup-failed" ]; then
        echo "$PROG: setting up the guest failed: $(cat "$run/setup-failed")" >&2
        console_tail
        exit "$HARNESS_FAILED"
fi
# The kernel's own signs of trouble, whatever COMMAND thought of it.
SPLATS='WARNING: |BUG: |Oops|general protection fault|Call Trace:|blocked for more than|kmemleak: .*new suspected|UBSAN:|KASAN:'
if [ "$fail_on_warnings" = 1 ] && grep -Eq "$SPLATS" "$run/dmesg" 2> /dev/null; then
        echo "$PROG: the guest's kernel log shows trouble (--fail-on-kernel-warnings):" >&2
        grep -E -A 12 "$SPLATS" "$run/dmesg" | head -n 60 | sed 's/^/  | /' >&2
        exit "$HARNESS_FAILED"
fi

start=$(sed -n 's/^start //p' "$run/times")
end=$(sed -n 's/^end //p' "$run/times")
awk -v kv="$KV" -v s="$start" -v e="$end" -v t0="$t0" -v t1="$t1" -v st="$status" 'BEGIN {
        printf "%s: kernel %s, command started at %.1f s of guest uptime, ran %.1f s, exited %d; %.1f s in all\n",
                "'"$PROG"'", kv, s, e - s, st, t1 - t0 }' >&2
exit "$status"
