#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest tests as meson tests: one guest boot for many tests, one meson
# result (one testlog.json entry, which is what CI counts) for each.
#
#   vm-suite.sh session SESSION TESTDIR RESULTS [RUN-GUEST-OPTION...] -- NAME...
#   vm-suite.sh result  SESSION TESTDIR RESULTS [RUN-GUEST-OPTION...] -- NAME
#
# (RUN-GUEST-OPTIONs: see tests/vm/run-guest.sh --help; the same for both
# modes, so that a result run alone boots the same guest.)
#
# "session" boots one guest (tests/vm/run-guest.sh with the options given:
# --disks, --udev, --modprobe, ...) and runs TESTDIR/NAME.sh for each NAME
# in it through guest-run-tests.sh, which leaves NAME.status and NAME.log in
# RESULTS/KEY/SESSION (RESULTS is shared read-write with the guest).  It
# passes when the guest booted and every test left a verdict, whatever the
# verdicts: those are the "result" tests' to report.  "result" prints
# NAME's log and exits with its verdict (0 passed, 77 skipped, 1 failed).
#
# KEY names the `meson test` run: its process id and start time (the
# parent of every test), so a result never comes from another run.  meson
# runs the session first when the session has the higher priority and
# every one of them is is_parallel: false (tests/vm/meson.build).  A result
# run without its session (`meson test -C build vm-smoke-lvm`) boots a
# guest of its own for its one test.  When the session fails (no packages,
# no boot, a panic, the timeout), every result fails at once with its
# reason rather than booting again.
#
# Environment: ZUMA_VM_TESTS=0 skips (exit 77); ZUMA_VM_TIMEOUT (seconds
# for the whole guest run, boot included; 240) and ZUMA_VM_TEST_TIMEOUT (per
# guest test; 120); ZUMA_BUILD_ROOT, ZUMA_SOURCE_ROOT and ZUMA_TEST_SEED
# reach the guest tests.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() {
        echo "vm-suite: $*" >&2
        exit 1
}

[ $# -ge 5 ] || die "usage: vm-suite.sh session|result SESSION TESTDIR RESULTS [RUN-GUEST-OPTION...] -- NAME..."
mode=$1 session=$2 testdir=$3 results=$4
shift 4
guest_opts=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
        guest_opts+=("$1")
        shift
done
[ "${1:-}" = -- ] || die "no -- before the test names"
shift
names=("$@")
[ ${#names[@]} -gt 0 ] || die "no test names"
[ "$mode" = session ] || [ ${#names[@]} = 1 ] || die "result takes one test name"

if [ "${ZUMA_VM_TESTS:-1}" = 0 ]; then
        echo "vm-suite: skipped: ZUMA_VM_TESTS=0 (the qemu guest's tests are off)"
        exit 77
fi
if [ "$(id -u)" != 0 ]; then
        echo "vm-suite: skipped: the guest shares this machine's root only when run as root"
        exit 77
fi

# The start time of a process, from /proc/PID/stat (after the command name,
# which may hold spaces).
start_time() {
        local stat
        stat=$(cat "/proc/$1/stat" 2> /dev/null) || return 1
        stat=${stat##*) }
        set -- $stat
        echo "${20}"
}

mkdir -p "$results" || die "cannot create $results"
results=$(cd "$results" && pwd -P)
key="meson-$PPID-$(start_time "$PPID")"

# The checkout and the build tree, shared at their paths: the guest sees
# this machine's root, but /tmp, /var/tmp and /run are its own, so a
# checkout under one of them (a CI clone in /tmp) would be missing there.
# Parents before children: the results directory is shared last.
source_root=$(cd "$HERE/../.." && pwd -P)
tree_shares=(--share "$source_root")
if [ -n "${ZUMA_BUILD_ROOT:-}" ]; then
        build_root=$(cd "$ZUMA_BUILD_ROOT" && pwd -P) || die "no build tree at $ZUMA_BUILD_ROOT"
        case $build_root/ in
        "$source_root"/*) ;;
        *) tree_shares+=(--share "$build_root") ;;
        esac
fi

# Runs one guest for NAMES, its verdicts in DIR; leaves DIR/session-done
# or DIR/session-failed (the reason).  Returns 0 when every test has a
# verdict.
run_session() {
        local dir=$1 status=0 name missing=""
        shift
        rm -rf "$dir"
        mkdir -p "$dir" || die "cannot create $dir"
        "$HERE/run-guest.sh" --timeout "${ZUMA_VM_TIMEOUT:-240}" "${guest_opts[@]}" \
                "${tree_shares[@]}" --share "$dir" \
                --env "ZUMA_BUILD_ROOT=${ZUMA_BUILD_ROOT:-}" \
                --env "ZUMA_SOURCE_ROOT=${ZUMA_SOURCE_ROOT:-}" \
                --env "ZUMA_VM_TEST_TIMEOUT=${ZUMA_VM_TEST_TIMEOUT:-120}" \
                --env "ZUMA_TEST_SEED=${ZUMA_TEST_SEED:-}" \
                --console "$dir/console.log" \
                -- "$HERE/guest-run-tests.sh" "$dir" "$testdir" "$@" \
                2> "$dir/run-guest.err" || status=$?
        cat "$dir/run-guest.err" >&2
        if [ "$status" != 0 ]; then
                {
                        echo "the guest could not run the tests (run-guest.sh exited $status):"
                        grep '^run-guest' "$dir/run-guest.err" | head -n 5
                } > "$dir/session-failed"
                return 1
        fi
        for name in "$@"; do
                [ -s "$dir/$name.status" ] || missing="$missing $name"
        done
        if [ -n "$missing" ]; then
                echo "the guest left no verdict for:$missing" > "$dir/session-failed"
                return 1
        fi
        : > "$dir/session-done"
}

# Forgets the results of meson runs that have ended.
prune() {
        local d pid start
        for d in "$results"/meson-*; do
                [ -d "$d" ] || continue
                pid=${d##*/meson-}
                start=${pid#*-}
                pid=${pid%%-*}
                [ "$(start_time "$pid")" = "$start" ] || rm -rf "$d"
        done
}

case $mode in
session)
        prune
        dir=$results/$key/$session
        # Killed (meson's timeout, ^C): the results fail with this reason
        # rather than each booting a guest of its own.
        trap 'echo "the session was killed (signal)" > "$dir/session-failed"; exit 1' TERM INT
        if run_session "$dir" "${names[@]}"; then
                passed=0 failed=0 skipped=0
                for name in "${names[@]}"; do
                        case $(cat "$dir/$name.status") in
                        0) passed=$((passed + 1)) ;;
                        77) skipped=$((skipped + 1)) ;;
                        *) failed=$((failed + 1)) ;;
                        esac
                done
                echo "vm-suite: $session: the guest ran ${#names[@]} tests: $passed passed, $failed failed, $skipped skipped (each is its own meson test)"
                exit 0
        fi
        echo "vm-suite: $session: FAILED: $(cat "$dir/session-failed")" >&2
        exit 1
        ;;
result)
        name=${names[0]}
        dir=$results/$key/$session
        if [ ! -e "$dir/session-done" ] && [ ! -e "$dir/session-failed" ]; then
                echo "vm-suite: no session $session in this meson run: a guest for $name alone"
                dir=$results/solo-$$/$session
                trap 'rm -rf "$results/solo-$$"' EXIT
                run_session "$dir" "$name"
        fi
        if [ -e "$dir/session-failed" ]; then
                echo "vm-suite: $name: FAILED: no result, the guest session $session failed:" >&2
                sed 's/^/  /' "$dir/session-failed" >&2
                exit 1
        fi
        [ -s "$dir/$name.status" ] || die "$name: the session $session ran no test $name"
        cat "$dir/$name.log"
        status=$(cat "$dir/$name.status")
        echo "vm-suite: $name: exit $status in the guest, $(cat "$dir/$name.time") s"
        if [ "$status" != 0 ] && [ "$status" != 77 ] && [ -s "$dir/$name.dmesg" ]; then
                echo "vm-suite: the guest kernel's last messages while $name ran:"
                tail -n 30 "$dir/$name.dmesg" | sed 's/^/  | /'
        fi
        case $status in
        0) exit 0 ;;
        77) exit 77 ;;
        *) exit 1 ;;
        esac
        ;;
*)
        die "unknown mode $mode (session or result)"
        ;;
esac
