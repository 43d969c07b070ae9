# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# e2e-lib.sh: helpers shared by the end-to-end tests (tests/e2e/*.sh), on
# top of the bus harness tests/bus/zuma-test-bus.sh.  Source it after
# `set -euo pipefail`; it sources the harness itself.
#
#   . "$(dirname "$0")/e2e-lib.sh"
#   e2e_init                          root check, temp dir, bus, daemon, udev
#   e2e_step TEXT                     one log line per step
#   e2e_fail TEXT                     message on stderr, exit 1
#   e2e_zumactl ARGS...               zumactl with a deadline; exits on failure
#   e2e_zumactl_closed ARGS...        the same, for commands that need the device
#                                     closed: retries while udev's probe holds it
#   e2e_json EXPR                     python3 expression on the JSON on stdin (d)
#   e2e_volume_device VOL             the origin's device, udev name when udev runs
#   e2e_snapshot_device VOL SNAP      attach SNAP (if need be) and print its device
#   e2e_wait_gone LINK [SECONDS]      poll until udev removed the name LINK
#   e2e_fsck DEV ext4|xfs             read-only full check; fails the test on problems
#   e2e_manifest DIR                  sorted list of directories and sha256 of files
#   e2e_same_manifest WANT GOT WHAT   fail with the diff when the manifests differ
#
# Environment read: ZUMACTL (default $ZUMA_BUILD_DIR/zumactl/zumactl), and
# whatever the harness reads.  E2E_UDEV is 1 when /dev/zumastor names are used,
# 0 when udev could not run and the devices from `zumactl --json status` are.

E2E_LIB_DIR=$(dirname "$(realpath "${BASH_SOURCE[0]}")")
# shellcheck source=../bus/zuma-test-bus.sh
. "$E2E_LIB_DIR/../bus/zuma-test-bus.sh"
: "${ZUMACTL:=$ZUMA_BUILD_DIR/zumactl/zumactl}"
E2E_UDEV=0
E2E_FROZEN=

e2e_step() {
        echo "== [$(date +%T)] $*"
}

e2e_fail() {
        echo "FAIL: $*" >&2
        exit 1
}

# A file system left frozen would hang the harness' cleanup.
e2e_cleanup() {
        local status=$?

        set +e
        if [ -n "$E2E_FROZEN" ]; then
                fsfreeze -u "$E2E_FROZEN" 2>/dev/null
        fi
        (exit "$status")
        zuma_test_cleanup
}

e2e_init() {
        local tool

        zuma_test_require_root
        for tool in python3 sha256sum; do
                command -v "$tool" >/dev/null || zuma_test_skip "$tool is not installed"
        done
        [ -x "$ZUMACTL" ] || zuma_test_skip "no zumactl at $ZUMACTL (build first)"
        zuma_test_setup
        trap e2e_cleanup EXIT
        zuma_test_start_bus || e2e_fail "cannot start the private bus"
        zuma_test_start_daemon || e2e_fail "cannot start zuma-snapshotd"
        [ "$ZUMA_TEST_FRONTEND" = fuse ] || [ "$ZUMA_TEST_FRONTEND" = kernel ] ||
                zuma_test_skip "the daemon has no data frontend here (no /dev/fuse or built without FUSE)"
        if zuma_test_start_udev; then
                E2E_UDEV=1
        else
                E2E_UDEV=0
                echo "NOTE: udev cannot run here: using the device paths from zumactl --json status," \
                        "not /dev/zumastor names"
        fi
        mkdir -p "$ZUMA_TEST_DIR/mnt"
}

# e2e_served_devices: the block devices zuma-snapshotd serves now, one a
# line, whatever its frontend: the loop devices over its FUSE images, or
# its zumastor device-mapper devices (dm uuid ZUMASTOR-...).
e2e_served_devices() {
        if [ "$ZUMA_TEST_FRONTEND" = kernel ]; then
                dmsetup info -c --noheadings -o name,uuid 2>/dev/null |
                        awk -F: '$2 ~ /^ZUMASTOR-/ { print "/dev/mapper/" $1 }'
        else
                losetup -n -O NAME,BACK-FILE -l |
                        awk -v dir="$ZUMA_TEST_RUN_DIR" 'index($2, dir) == 1 { print $1 }'
        fi
}

e2e_zumactl() {
        local out status=0 err=$ZUMA_TEST_DIR/zumactl.stderr

        out=$(timeout 300 "$ZUMACTL" --no-progress "$@" 2>"$err") || status=$?
        [ $status = 0 ] || e2e_fail "zumactl $* exited with $status: $(cat "$err") $out"
        [ -z "$out" ] || printf '%s\n' "$out"
}

# e2e_zumactl_closed ARGS...: a command that needs the device closed
# (writable, detach, revert, stop) right after this test closed it: udev's
# probe, run on the change event of that close, may hold it open for a
# moment, so a busy answer (exit 5) is retried until a deadline.
e2e_zumactl_closed() {
        local status deadline=$((SECONDS + ZUMA_TEST_TIMEOUT)) err=$ZUMA_TEST_DIR/zumactl.stderr

        while :; do
                [ "$E2E_UDEV" = 0 ] || zuma_test_settle || true
                status=0
                timeout 300 "$ZUMACTL" --no-progress "$@" 2>"$err" || status=$?
                if [ $status != 5 ] || [ $SECONDS -ge $deadline ]; then
                        break
                fi
                echo "zumactl $*: busy ($(cat "$err")); retrying" >&2
                sleep 0.2
        done
        [ $status = 0 ] || e2e_fail "zumactl $* exited with $status: $(cat "$err")"
}

e2e_json() {
        python3 -c 'import json, sys
d = json.load(sys.stdin)
v = eval(sys.argv[1])
if isinstance(v, list):
        print("\n".join(str(x) for x in v))
elif v is not None:
        print(v)' "$1"
}

# e2e_use_device LINK DEV: prints the name to use for DEV.
e2e_use_device() {
        local link=$1 dev=$2

        [ -n "$dev" ] || e2e_fail "no device for $link"
        if [ "$E2E_UDEV" = 1 ]; then
                zuma_test_wait_link "$link" "$dev" || e2e_fail "udev did not name $dev $link"
                echo "$link"
        else
                echo "$dev"
        fi
}

# e2e_wait_gone LINK [SECONDS]: poll until udev removed LINK (a loop device
# detached with autoclear goes at its last close, which may come late).
e2e_wait_gone() {
        local deadline=$((SECONDS + ${2:-$ZUMA_TEST_TIMEOUT}))

        while [ -e "$1" ] || [ -L "$1" ]; do
                [ $SECONDS -lt $deadline ] || return 1
                zuma_test_settle || true
                sleep 0.1
        done
}

e2e_volume_device() {
        local dev

        dev=$(e2e_zumactl --json status "$1" | e2e_json 'd["device"]')
        e2e_use_device "/dev/zumastor/$1" "$dev"
}

e2e_snapshot_device() {
        local dev

        dev=$(e2e_zumactl attach "$1" "$2")
        e2e_use_device "/dev/zumastor/$1@$2" "$dev"
}

e2e_fsck() {
        local dev=$1 fs=$2 out status=0

        case "$fs" in
        ext4) out=$(e2fsck -fn "$dev" 2>&1) || status=$? ;;
        xfs) out=$(xfs_repair -n "$dev" 2>&1) || status=$? ;;
        *) e2e_fail "e2e_fsck: unknown file system $fs" ;;
        esac
        # Since Linux 5.12 a frozen xfs covers its log instead of cleaning it,
        # so the image of a frozen xfs (a snapshot, an origin reverted to one)
        # has a log to replay, and until it is replayed the lazy superblock
        # counters on disk are stale.  xfs_repair -n then warns and reports
        # those counters; that, and nothing else, is a clean file system.
        if [ "$fs" = xfs ] && [ $status = 1 ] &&
                echo "$out" | grep -q "^ALERT: The filesystem has valuable metadata changes in a log" &&
                ! echo "$out" | grep -Ev "$E2E_XFS_REPAIR_CLEAN" | grep -q .; then
                status=0
        fi
        [ $status = 0 ] || e2e_fail "$fs check of $dev found problems (exit $status):
$out"
}

# Every line of xfs_repair -n on a clean file system with a covered log.
E2E_XFS_REPAIR_CLEAN='^(Phase [0-9] - |        - |No modify flag set, skipping|ALERT: The filesystem has valuable metadata changes in a log which is being$|ignored because the -n option was used\.  Expect spurious inconsistencies$|which may be resolved by first mounting the filesystem to replay the log\.$|sb_(fdblocks|icount|ifree|frextents) [0-9]+, counted [0-9]+$)'

# Directories, then files with their sha256, sorted; lost+found left out.
e2e_manifest() {
        (
                cd "$1" || exit 1
                find . -mindepth 1 -path ./lost+found -prune -o -type d -printf 'dir %p\n'
                find . -path ./lost+found -prune -o -type f -print0 | xargs -0 -r sha256sum
                find . -path ./lost+found -prune -o ! -type d ! -type f -printf 'other %p\n'
        ) | LC_ALL=C sort
}

e2e_same_manifest() {
        local want=$1 got=$2 what=$3

        if ! cmp -s "$want" "$got"; then
                echo "--- expected ($want) +++ found ($got):" >&2
                diff -u "$want" "$got" | head -n 60 >&2
                e2e_fail "$what does not match the manifest"
        fi
}
