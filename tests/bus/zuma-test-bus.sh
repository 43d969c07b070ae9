# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# zuma-test-bus.sh: a private system bus with zuma-snapshotd on it, for the
# bus tests, the end-to-end tests and the demo.
#
# Use it as a library:
#
#   . tests/bus/zuma-test-bus.sh
#   zuma_test_require_root            # exit 77 unless root, dbus-daemon, losetup
#   zuma_test_setup                   # temp dir + cleanup on EXIT
#   zuma_test_start_bus               # exports DBUS_SYSTEM_BUS_ADDRESS
#   zuma_test_start_daemon            # zuma-snapshotd on it, name owned
#   origin=$(zuma_test_loop_device origin 64M)
#   gdbus call --system -d org.zumastor.Zumastor1 ...
#
# or as a command, from another process of the same test (a C test, a
# helper): every state lives in files under $ZUMA_TEST_DIR, so
#
#   ZUMA_TEST_DIR=... tests/bus/zuma-test-bus.sh restart-daemon
#
# runs zuma_test_restart_daemon against the bus and daemon the first
# process started.  A ZUMA_TEST_DIR of its own for each gives one bus and
# one daemon each: tests/e2e/e2e-hosts.sh runs a host's that way.
#
# Functions (each returns non-zero with a message on stderr on failure):
#   zuma_test_require_root              skip (exit 77) unless usable here
#   zuma_test_setup                     make $ZUMA_TEST_DIR; trap EXIT
#   zuma_test_start_bus                 private dbus-daemon
#   zuma_test_stop_bus                  SIGTERM to it, wait
#   zuma_test_start_daemon [ARGS...]    start zuma-snapshotd, wait for its name
#   zuma_test_stop_daemon               SIGTERM, wait; SIGKILL after the deadline
#   zuma_test_kill_daemon               SIGKILL (a crash), then clean its mount
#   zuma_test_abort_fuse                abort the daemon's FUSE connection (fusectl), so
#                                       a server waiting on itself can exit
#   zuma_test_restart_daemon [ARGS...]  stop + start
#   zuma_test_wait_name NAME [SECONDS]  poll until NAME has an owner
#   zuma_test_loop_device NAME SIZE     sparse file + loop device; prints /dev/loopN
#   zuma_test_require_polkitd           skip (exit 77) unless polkitd can run here
#   zuma_test_start_polkitd [RULES...]  the real polkitd on the bus, in a mount namespace
#                                       of its own where polkit's action directory holds
#                                       only dbus/org.zumastor.Zumastor1.policy and its
#                                       rules directories only the RULES files given
#   zuma_test_stop_polkitd              SIGTERM; wait until its name and process are gone
#   zuma_test_start_udev                systemd-udevd (started when none runs) with
#                                       the build tree's rules; 1 if it cannot run
#   zuma_test_settle                    udevadm settle
#   zuma_test_wait_link LINK DEV [SECS] poll until the symlink LINK resolves to DEV
#                                       (on failure, logs udev's view of DEV)
#   zuma_test_cleanup                   everything back as it was (also on EXIT)
#
# Environment read:
#   ZUMA_BUILD_DIR       build tree (default: the one meson test runs from,
#                        MESON_BUILD_ROOT, else ./build)
#   ZUMA_SOURCE_DIR      source tree (default: two levels above this file)
#   ZUMA_SNAPSHOTD       the daemon (default $ZUMA_BUILD_DIR/agents/snapshotd/zuma-snapshotd)
#   ZUMA_TEST_FRONTEND   fuse, kernel, none, or auto (default: fuse when
#                        /dev/fuse exists and the daemon was built with it)
#   ZUMA_TEST_KEEP=1     keep $ZUMA_TEST_DIR (logs) after the test
#   ZUMA_TEST_TIMEOUT    seconds to wait for the daemon (default 20)
#   ZUMA_POLKITD         polkitd (default: /usr/lib/polkit-1/polkitd or
#                        /usr/libexec/polkitd, whichever exists)
#   G_DEBUG              passed on to the daemon, always with fatal-criticals
# Environment set:
#   ZUMA_TEST_DIR (chmod 755, so `nobody` reaches the bus socket),
#   ZUMA_TEST_STATE_DIR, ZUMA_TEST_RUN_DIR, ZUMA_TEST_FRONTEND (resolved),
#   ZUMA_TEST_HARNESS (this file), DBUS_SYSTEM_BUS_ADDRESS,
#   ZUMA_TEST_BUS_PID, ZUMA_SNAPSHOTD_PID; the daemon logs to
#   $ZUMA_TEST_DIR/snapshotd.log, the bus to $ZUMA_TEST_DIR/bus.log,
#   polkitd to $ZUMA_TEST_DIR/polkitd.log.

ZUMA_TEST_HARNESS=$(realpath "${BASH_SOURCE[0]}")
export ZUMA_TEST_HARNESS
: "${ZUMA_SOURCE_DIR:=$(realpath "$(dirname "$ZUMA_TEST_HARNESS")/../..")}"
: "${ZUMA_BUILD_DIR:=${MESON_BUILD_ROOT:-$ZUMA_SOURCE_DIR/build}}"
: "${ZUMA_SNAPSHOTD:=$ZUMA_BUILD_DIR/agents/snapshotd/zuma-snapshotd}"
: "${ZUMA_TEST_TIMEOUT:=20}"
export ZUMA_SOURCE_DIR ZUMA_BUILD_DIR ZUMA_SNAPSHOTD
ZUMA_BUS_NAME=org.zumastor.Zumastor1

zuma_test_log() {
        echo "zuma-test: $*" >&2
}

zuma_test_skip() {
        echo "SKIP: $*" >&2
        exit 77
}

zuma_test_require_root() {
        [ "$(id -u)" = 0 ] || zuma_test_skip "needs root (loop devices, exclusive opens)"
        command -v dbus-daemon >/dev/null || zuma_test_skip "dbus-daemon is not installed"
        command -v losetup >/dev/null || zuma_test_skip "losetup is not installed"
        [ -x "$ZUMA_SNAPSHOTD" ] || zuma_test_skip "no daemon at $ZUMA_SNAPSHOTD (build first)"
}

zuma_test_setup() {
        ZUMA_TEST_DIR=$(mktemp -d /tmp/zuma-test.XXXXXX) || return 1
        chmod 755 "$ZUMA_TEST_DIR"
        ZUMA_TEST_STATE_DIR=$ZUMA_TEST_DIR/state
        ZUMA_TEST_RUN_DIR=$ZUMA_TEST_DIR/run
        mkdir -p "$ZUMA_TEST_DIR/images"
        export ZUMA_TEST_DIR ZUMA_TEST_STATE_DIR ZUMA_TEST_RUN_DIR
        trap zuma_test_cleanup EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
}

# Reads "$ZUMA_TEST_DIR/NAME.pid" (empty if none).
zuma_test_pid() {
        cat "$ZUMA_TEST_DIR/$1.pid" 2>/dev/null || true
}

# A zombie (exited, not yet reaped) counts as gone, unless other threads
# of it still run: after SIGKILL the leader is a zombie at once while a
# thread may still be leaving the kernel (tearing down its FUSE mount), and
# the process's files (the state directory's lock) go only with the last.
zuma_test_alive() {
        local state tasks

        [ -n "$1" ] || return 1
        state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
        [ -n "$state" ] || return 1
        [ "$state" != Z ] && return 0
        tasks=$(find "/proc/$1/task" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
        [ "$tasks" -gt 1 ]
}

# zuma_test_freeze_process PID: SIGSTOP, then waits until every thread
# has stopped.  kill returns once the signal is queued; one thread takes
# it and only then stops the others, so without the wait another thread
# (a D-Bus worker) may still read a message the test means to leave
# queued.
zuma_test_freeze_process() {
        local pid=$1 deadline=$((SECONDS + ZUMA_TEST_TIMEOUT)) task state running

        kill -STOP "$pid" || return 1
        while :; do
                running=0
                for task in /proc/"$pid"/task/*; do
                        state=$(awk '{ print $3 }' "$task/stat" 2>/dev/null) || continue
                        case "$state" in T | t | Z | X | "") ;; *) running=1 ;; esac
                done
                [ $running = 0 ] && return 0
                if [ $SECONDS -ge $deadline ]; then
                        zuma_test_log "process $pid did not stop in ${ZUMA_TEST_TIMEOUT}s"
                        return 1
                fi
                sleep 0.01
        done
}

zuma_test_start_bus() {
        local conf=$ZUMA_TEST_DIR/bus.conf socket=$ZUMA_TEST_DIR/system_bus_socket
        local deadline=$((SECONDS + ZUMA_TEST_TIMEOUT)) pid

        # Debian's system.conf, less what needs the real system (activation
        # helper, syslog), plus the policy zumastor ships and polkit's (so
        # polkitd, switched to its own user, may own its name; unused
        # unless a test starts it).
        cat >"$conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Properties"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"
          send_member="UpdateActivationEnvironment"/>
    <deny send_destination="org.freedesktop.DBus"
          send_interface="org.freedesktop.DBus.Debug.Stats"/>
    <deny send_destination="org.freedesktop.DBus"
          send_interface="org.freedesktop.systemd1.Activator"/>
  </policy>
  <policy user="root">
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Monitoring"/>
  </policy>
  <include>$ZUMA_SOURCE_DIR/dbus/org.zumastor.Zumastor1.conf</include>
  <include>$ZUMA_SOURCE_DIR/dbus/org.zumastor.Scheduler1.conf</include>
  <include>$ZUMA_SOURCE_DIR/dbus/org.zumastor.Mounter1.conf</include>
  <include>$ZUMA_SOURCE_DIR/dbus/org.zumastor.Send1.conf</include>
  <include>$ZUMA_SOURCE_DIR/dbus/org.zumastor.Recv1.conf</include>
  <include ignore_missing="yes">$ZUMA_POLKIT_BUS_POLICY</include>
</busconfig>
EOF
        # umask 0: everyone (the unprivileged caller test) may connect.
        (umask 000 && exec dbus-daemon --config-file="$conf" --nofork --nopidfile \
                >"$ZUMA_TEST_DIR/bus.log" 2>&1) &
        pid=$!
        echo "$pid" >"$ZUMA_TEST_DIR/bus.pid"
        until [ -S "$socket" ]; do
                if ! zuma_test_alive "$pid" || [ $SECONDS -ge $deadline ]; then
                        zuma_test_log "dbus-daemon did not start:"
                        cat "$ZUMA_TEST_DIR/bus.log" >&2
                        return 1
                fi
                sleep 0.05
        done
        ZUMA_TEST_BUS_PID=$pid
        DBUS_SYSTEM_BUS_ADDRESS=unix:path=$socket
        export ZUMA_TEST_BUS_PID DBUS_SYSTEM_BUS_ADDRESS
        echo "$DBUS_SYSTEM_BUS_ADDRESS" >"$ZUMA_TEST_DIR/bus.address"
}

zuma_test_stop_bus() {
        local pid

        pid=$(zuma_test_pid bus)
        if zuma_test_alive "$pid"; then
                kill -TERM "$pid"
                zuma_test_wait_exit "$pid" 10 || true
        fi
        rm -f "$ZUMA_TEST_DIR/bus.pid"
}

# Restores DBUS_SYSTEM_BUS_ADDRESS in a process that only has ZUMA_TEST_DIR.
zuma_test_load_env() {
        : "${ZUMA_TEST_STATE_DIR:=$ZUMA_TEST_DIR/state}"
        : "${ZUMA_TEST_RUN_DIR:=$ZUMA_TEST_DIR/run}"
        # None when this directory's bus is not started (hosts of
        # e2e-hosts.sh have theirs in directories of their own).
        : "${DBUS_SYSTEM_BUS_ADDRESS:=$(cat "$ZUMA_TEST_DIR/bus.address" 2>/dev/null)}"
        [ -n "${ZUMA_TEST_FRONTEND:-}" ] || ZUMA_TEST_FRONTEND=$(cat "$ZUMA_TEST_DIR/frontend" 2>/dev/null || true)
        export ZUMA_TEST_STATE_DIR ZUMA_TEST_RUN_DIR DBUS_SYSTEM_BUS_ADDRESS ZUMA_TEST_FRONTEND
}

zuma_test_has_owner() {
        gdbus call --system --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
                --method org.freedesktop.DBus.NameHasOwner "$1" 2>/dev/null | grep -q true
}

zuma_test_wait_name() {
        local name=$1 deadline=$((SECONDS + ${2:-$ZUMA_TEST_TIMEOUT}))

        until zuma_test_has_owner "$name"; do
                [ $SECONDS -lt $deadline ] || return 1
                sleep 0.05
        done
}

zuma_test_resolve_frontend() {
        case "${ZUMA_TEST_FRONTEND:-auto}" in
        fuse | none | kernel) ;;
        auto)
                # Built with the frontends, the daemon's default is auto.
                if [ -c /dev/fuse ] && "$ZUMA_SNAPSHOTD" --help 2>&1 | grep -q "default auto"; then
                        ZUMA_TEST_FRONTEND=fuse
                else
                        ZUMA_TEST_FRONTEND=none
                fi
                ;;
        *)
                zuma_test_log "ZUMA_TEST_FRONTEND must be fuse, kernel, none or auto"
                return 1
                ;;
        esac
        export ZUMA_TEST_FRONTEND
        echo "$ZUMA_TEST_FRONTEND" >"$ZUMA_TEST_DIR/frontend"
}

zuma_test_start_daemon() {
        local pid deadline=$((SECONDS + ZUMA_TEST_TIMEOUT))

        zuma_test_load_env
        zuma_test_resolve_frontend || return 1
        echo "=== zuma-snapshotd $* ($(date +%T))" >>"$ZUMA_TEST_DIR/snapshotd.log"
        # A GLib critical in the daemon is a failure of the test, whatever
        # else G_DEBUG asks for.
        G_DEBUG=${G_DEBUG:+$G_DEBUG,}fatal-criticals G_SLICE=${G_SLICE:-always-malloc} "$ZUMA_SNAPSHOTD" --state-dir "$ZUMA_TEST_STATE_DIR" \
                --run-dir "$ZUMA_TEST_RUN_DIR" --frontend "$ZUMA_TEST_FRONTEND" --verbose "$@" \
                >>"$ZUMA_TEST_DIR/snapshotd.log" 2>&1 </dev/null &
        pid=$!
        echo "$pid" >"$ZUMA_TEST_DIR/snapshotd.pid"
        until zuma_test_has_owner $ZUMA_BUS_NAME; do
                if ! zuma_test_alive "$pid" || [ $SECONDS -ge $deadline ]; then
                        zuma_test_log "zuma-snapshotd did not take $ZUMA_BUS_NAME; its log:"
                        tail -n 50 "$ZUMA_TEST_DIR/snapshotd.log" >&2
                        return 1
                fi
                sleep 0.05
        done
        ZUMA_SNAPSHOTD_PID=$pid
        export ZUMA_SNAPSHOTD_PID
}

# Waits for pid to exit; returns its exit status if it is our child, 0
# otherwise (a process started by another shell of the same test).
zuma_test_wait_exit() {
        local pid=$1 deadline=$((SECONDS + $2))

        local status=0

        while zuma_test_alive "$pid"; do
                [ $SECONDS -lt $deadline ] || return 124
                sleep 0.05
        done
        wait "$pid" 2>/dev/null || status=$?
        # 127: not our child, its status is not ours to know.
        [ $status = 127 ] && status=0
        return $status
}

# zuma_test_unmount_leftovers [filesystems]: every mount under our own
# directory, innermost first; with "filesystems", all but the daemon's FUSE
# mount (the filesystems a test left on its devices, before the daemon stops).
zuma_test_unmount_leftovers() {
        local mnt skip=

        [ "${1:-}" = filesystems ] && skip=fuse.zumastor
        awk -v dir="$ZUMA_TEST_DIR/" -v skip="$skip" \
                'index($2, dir) == 1 && (skip == "" || index($3, "fuse") != 1) { print $2 }' \
                /proc/self/mounts |
                sort -r | while read -r mnt; do
                umount -l "$mnt" 2>/dev/null || true
        done
}

# zuma_test_abort_fuse: aborts the FUSE connection of every zumastor mount
# under our directory.  The daemon is its own FUSE server and, through its
# loop devices, its own client: a daemon stuck waiting for a request its own
# (dead or busy) workers hold can be neither stopped nor killed until the
# connection is aborted, and until then `losetup -a`, `mount` and stat of
# the mount hang for every process on the machine.
zuma_test_abort_fuse() {
        local conn fusectl=/sys/fs/fuse/connections

        [ -n "${ZUMA_TEST_DIR:-}" ] || return 0
        if [ ! -d "$fusectl" ] || [ -z "$(ls -A "$fusectl" 2>/dev/null)" ]; then
                mount -t fusectl fusectl "$fusectl" 2>/dev/null || true
        fi
        # The connection's number is the minor of the mount's device (from
        # mountinfo: stat of a hung mount would hang too).
        awk -v dir="$ZUMA_TEST_DIR/" 'index($5, dir) == 1 && $0 ~ / - fuse\.zumastor / {
                split($3, d, ":"); print d[2] }' /proc/self/mountinfo |
                while read -r conn; do
                        if [ -w "$fusectl/$conn/abort" ]; then
                                echo 1 >"$fusectl/$conn/abort" 2>/dev/null || true
                                zuma_test_log "aborted FUSE connection $conn"
                        fi
                done
}

zuma_test_stop_daemon() {
        local pid status=0

        zuma_test_load_env
        pid=$(zuma_test_pid snapshotd)
        rm -f "$ZUMA_TEST_DIR/snapshotd.pid"
        zuma_test_alive "$pid" || return 0
        kill -TERM "$pid"
        zuma_test_wait_exit "$pid" 60 || status=$?
        if [ $status = 124 ]; then
                zuma_test_log "zuma-snapshotd ignored SIGTERM for 60 s; aborting its FUSE" \
                        "connection and killing it"
                zuma_test_abort_fuse
                kill -KILL "$pid" 2>/dev/null
                zuma_test_wait_exit "$pid" 10 || true
        fi
        unset ZUMA_SNAPSHOTD_PID
        [ $status = 0 ] || zuma_test_log "zuma-snapshotd exited with status $status"
        return $status
}

zuma_test_kill_daemon() {
        local pid

        zuma_test_load_env
        pid=$(zuma_test_pid snapshotd)
        rm -f "$ZUMA_TEST_DIR/snapshotd.pid"
        zuma_test_alive "$pid" || return 0
        kill -KILL "$pid"
        # Its exit status is 137 (killed): only a timeout (124) means it lives.
        local status=0
        zuma_test_wait_exit "$pid" 10 || status=$?
        if [ "$status" = 124 ]; then
                # A thread waits for a FUSE answer that only the killed
                # workers could give: only aborting the connection ends it.
                zuma_test_log "zuma-snapshotd survives SIGKILL (state" \
                        "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)); aborting its FUSE connection"
                zuma_test_abort_fuse
                zuma_test_wait_exit "$pid" 10 || true
        fi
        unset ZUMA_SNAPSHOTD_PID
        # Like a crash: the mount stays until a new server cleans it up.
}

zuma_test_restart_daemon() {
        zuma_test_stop_daemon || return 1
        zuma_test_start_daemon "$@"
}

# zuma_test_loop_device NAME SIZE: a loop device over a sparse file
# $ZUMA_TEST_DIR/images/NAME.img of SIZE (truncate syntax: 64M).
zuma_test_loop_device() {
        local file=$ZUMA_TEST_DIR/images/$1.img dev

        truncate -s "$2" "$file" || return 1
        dev=$(losetup -f --show "$file") || return 1
        echo "$dev" >>"$ZUMA_TEST_DIR/loops"
        # A read-only flag set with BLKROSET outlives the previous user of
        # the device number; ours is writable.
        if [ "$(blockdev --getro "$dev")" != 0 ]; then
                blockdev --setrw "$dev" || return 1
        fi
        echo "$dev"
}

# --- polkitd ---
#
# polkitd reads its actions and rules from fixed directories (below).  The
# test's polkitd runs in a private mount namespace (unshare -m, propagation
# private) where temporary directories are bind-mounted over them: it sees
# only the action zumastor ships and the rules the test gives, and the
# machine's files are neither read nor changed.  The namespace ends with the
# process.  polkitd starts as root and switches to its own user (polkitd)
# itself; it talks to the bus in DBUS_SYSTEM_BUS_ADDRESS, ours.
ZUMA_POLKIT_BUS_POLICY=/usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf
ZUMA_POLKIT_ACTIONS_DIR=/usr/share/polkit-1/actions
# Rule directories: polkit 122 reads the first and the last, later versions
# also the others; those present are all covered.
ZUMA_POLKIT_RULES_DIRS="/etc/polkit-1/rules.d /run/polkit-1/rules.d
/usr/local/share/polkit-1/rules.d /usr/share/polkit-1/rules.d"
ZUMA_POLKIT_NAME=org.freedesktop.PolicyKit1

zuma_test_find_polkitd() {
        local candidate

        for candidate in ${ZUMA_POLKITD:-} /usr/lib/polkit-1/polkitd /usr/libexec/polkitd; do
                if [ -x "$candidate" ]; then
                        echo "$candidate"
                        return 0
                fi
        done
        return 1
}

zuma_test_require_polkitd() {
        local why

        zuma_test_find_polkitd >/dev/null ||
                zuma_test_skip "polkitd is not installed (package polkitd; or set ZUMA_POLKITD)"
        [ -r "$ZUMA_POLKIT_BUS_POLICY" ] ||
                zuma_test_skip "no bus policy for polkitd at $ZUMA_POLKIT_BUS_POLICY"
        [ -d "$ZUMA_POLKIT_ACTIONS_DIR" ] ||
                zuma_test_skip "no polkit action directory $ZUMA_POLKIT_ACTIONS_DIR to cover"
        getent passwd polkitd >/dev/null ||
                zuma_test_skip "no user polkitd (polkitd switches to it; the bus policy names it)"
        command -v unshare >/dev/null || zuma_test_skip "unshare is not installed"
        why=$(unshare -m --propagation private true 2>&1) ||
                zuma_test_skip "no private mount namespace for polkitd (unshare -m: $why)"
}

# zuma_test_start_polkitd [RULES...]: each RULES file is copied into the
# rules directory polkitd reads first (/etc/polkit-1/rules.d).
zuma_test_start_polkitd() {
        local dir=$ZUMA_TEST_DIR/polkit polkitd pid rules mounts=
        local deadline=$((SECONDS + ZUMA_TEST_TIMEOUT)) target n=0

        zuma_test_load_env
        polkitd=$(zuma_test_find_polkitd) || {
                zuma_test_log "polkitd is not installed"
                return 1
        }
        rm -rf "$dir"
        mkdir -p "$dir/actions" || return 1
        cp "$ZUMA_SOURCE_DIR/dbus/org.zumastor.Zumastor1.policy" "$dir/actions/" || return 1
        for target in $ZUMA_POLKIT_RULES_DIRS; do
                [ -d "$target" ] || continue
                n=$((n + 1))
                mkdir -p "$dir/rules$n"
                if [ $n = 1 ]; then
                        for rules in "$@"; do
                                cp "$rules" "$dir/rules$n/" || return 1
                        done
                fi
                mounts="$mounts mount --bind $dir/rules$n $target &&"
        done
        # polkitd reads them as user polkitd.
        chmod -R u=rwX,go=rX "$dir"
        echo "=== polkitd, rules: ${*:-none} ($(date +%T))" >>"$ZUMA_TEST_DIR/polkitd.log"
        # unshare and sh exec in place: the pid is polkitd's, and the
        # namespace goes when it exits.
        unshare -m --propagation private sh -c "mount --bind $dir/actions $ZUMA_POLKIT_ACTIONS_DIR \
                && $mounts exec $polkitd" >>"$ZUMA_TEST_DIR/polkitd.log" 2>&1 </dev/null &
        pid=$!
        echo "$pid" >"$ZUMA_TEST_DIR/polkitd.pid"
        until zuma_test_has_owner $ZUMA_POLKIT_NAME; do
                if ! zuma_test_alive "$pid" || [ $SECONDS -ge $deadline ]; then
                        zuma_test_log "polkitd did not take $ZUMA_POLKIT_NAME; its log:"
                        tail -n 20 "$ZUMA_TEST_DIR/polkitd.log" >&2
                        zuma_test_stop_polkitd
                        return 1
                fi
                sleep 0.05
        done
}

zuma_test_stop_polkitd() {
        local pid status=0 deadline=$((SECONDS + ZUMA_TEST_TIMEOUT))

        pid=$(zuma_test_pid polkitd)
        [ -n "$pid" ] || return 0
        zuma_test_load_env
        rm -f "$ZUMA_TEST_DIR/polkitd.pid"
        if zuma_test_alive "$pid"; then
                # CONT: a test may have left it stopped (SIGSTOP).
                kill -TERM "$pid"
                kill -CONT "$pid" 2>/dev/null
                zuma_test_wait_exit "$pid" 10 || status=$?
                if [ $status = 124 ]; then
                        zuma_test_log "polkitd ignored SIGTERM for 10 s; killing it"
                        kill -KILL "$pid" 2>/dev/null
                        zuma_test_wait_exit "$pid" 10 || true
                fi
        fi
        # The bus drops the name when the connection closes (the next call
        # to the name finds no owner).
        while zuma_test_has_owner $ZUMA_POLKIT_NAME; do
                if [ $SECONDS -ge $deadline ]; then
                        zuma_test_log "$ZUMA_POLKIT_NAME still has an owner"
                        return 1
                fi
                sleep 0.05
        done
}

# The build tree's rules go to the runtime rules directory under a name of
# this test's own, and leave with it; a udevd this test started stops with
# it, unless another test run's rules are still installed.
zuma_test_start_udev() {
        local rules=$ZUMA_BUILD_DIR/udev/60-zumastor-uninstalled.rules
        local udevd=/lib/systemd/systemd-udevd deadline=$((SECONDS + ZUMA_TEST_TIMEOUT))
        local installed=/run/udev/rules.d/60-zumastor-$(basename "$ZUMA_TEST_DIR").rules

        if [ ! -f "$rules" ]; then
                zuma_test_log "no build-tree udev rules at $rules"
                return 1
        fi
        if ! command -v udevadm >/dev/null || [ ! -x "$udevd" ]; then
                zuma_test_log "systemd-udevd is not installed"
                return 1
        fi
        if ! pgrep -x -r D,R,S systemd-udevd >/dev/null; then
                # In the background rather than --daemon, so that its log
                # (debug: every rule and program of every event) stays with
                # the test's other logs for a failure to show.
                # It may outlive this test (other runs share it), so it
                # keeps none of the descriptors this shell inherited: a
                # caller's `flock` on a lock file, say, would stay held
                # by udevd for good.
                (
                        for fd in /proc/$BASHPID/fd/*; do
                                fd=${fd##*/}
                                [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
                        done
                        SYSTEMD_LOG_LEVEL=debug SYSTEMD_LOG_TARGET=console exec setsid "$udevd"
                ) </dev/null >"$ZUMA_TEST_DIR/udevd.log" 2>&1 &
                echo $! >"$ZUMA_TEST_DIR/udevd.pid"
        fi
        until udevadm control --ping 2>/dev/null; do
                if [ $SECONDS -ge $deadline ]; then
                        zuma_test_log "systemd-udevd does not answer udevadm control --ping"
                        return 1
                fi
                sleep 0.1
        done
        mkdir -p /run/udev/rules.d
        cp "$rules" "$installed" || return 1
        echo "$installed" >"$ZUMA_TEST_DIR/udev-rules"
        udevadm control --reload
}

zuma_test_settle() {
        udevadm settle --timeout=30
}

# zuma_test_udev_report DEV: what udev and the kernel say about the loop
# device DEV, for a link that did not come (in the log and udev-DEV.txt).
zuma_test_udev_report() {
        local dev=$1 name report

        name=$(basename "$(readlink -f "$dev")")
        report=$ZUMA_TEST_DIR/udev-$name.txt
        {
                echo "== udev database of $dev"
                udevadm info --query=all --name="$dev" 2>&1
                echo "== backing file: $(cat "/sys/block/$name/loop/backing_file" 2>&1)"
                echo "== the probe, run now:"
                "$ZUMA_BUILD_DIR/udev/zuma-udev-probe" "$name" 2>&1
                echo "(exit $?)"
                if [ -s "$ZUMA_TEST_DIR/udevd.log" ]; then
                        echo "== udevd's log about $name (the last 60 lines)"
                        grep -F "$name" "$ZUMA_TEST_DIR/udevd.log" | tail -n 60
                fi
        } >"$report" 2>&1
        zuma_test_log "udev's view of $dev (also in $report):"
        head -n 40 "$report" | sed 's/^/  /' >&2
}

zuma_test_wait_link() {
        local link=$1 dev=$2 deadline=$((SECONDS + ${3:-$ZUMA_TEST_TIMEOUT}))

        zuma_test_settle || true
        until [ "$(readlink -f "$link" 2>/dev/null)" = "$(readlink -f "$dev")" ]; do
                if [ $SECONDS -ge $deadline ]; then
                        zuma_test_log "$link does not point at $dev (it is: $(readlink "$link" 2>&1))"
                        zuma_test_udev_report "$dev"
                        return 1
                fi
                sleep 0.1
        done
}

zuma_test_stop_udev() {
        local rules pid

        rules=$(cat "$ZUMA_TEST_DIR/udev-rules" 2>/dev/null) || true
        if [ -n "$rules" ]; then
                rm -f "$rules"
                udevadm control --reload 2>/dev/null || true
                rm -f "$ZUMA_TEST_DIR/udev-rules"
        fi
        pid=$(zuma_test_pid udevd)
        # Another test run still holding its rules still needs this udevd.
        if compgen -G "/run/udev/rules.d/60-zumastor-zuma-test.*.rules" >/dev/null; then
                zuma_test_log "leaving systemd-udevd (pid $pid) to the other test runs using it"
                pid=
        fi
        if zuma_test_alive "$pid"; then
                kill -TERM "$pid"
                zuma_test_wait_exit "$pid" 10 || true
        fi
        rm -f "$ZUMA_TEST_DIR/udevd.pid"
}

zuma_test_detach_loops() {
        local dev file

        # Ours only: those listed, and any loop device whose backing file
        # lies under our directory (the frontend's, after a crash).
        {
                cat "$ZUMA_TEST_DIR/loops" 2>/dev/null || true
                losetup -n -O NAME,BACK-FILE -l 2>/dev/null |
                        awk -v dir="$ZUMA_TEST_DIR/" 'index($2, dir) == 1 { print $1 }'
        } | sort -u | while read -r dev; do
                file=$(losetup -n -O BACK-FILE "$dev" 2>/dev/null) || continue
                case "$file" in
                "$ZUMA_TEST_DIR"/*) losetup -d "$dev" 2>/dev/null || true ;;
                esac
        done
        rm -f "$ZUMA_TEST_DIR/loops"
}

zuma_test_cleanup() {
        local status=$?

        trap - EXIT
        [ -n "${ZUMA_TEST_DIR:-}" ] && [ -d "$ZUMA_TEST_DIR" ] || exit $status
        # A failed test may have failed because the daemon hangs on itself:
        # never leave it behind to hang the tests after this one.
        [ $status = 0 ] || zuma_test_abort_fuse
        zuma_test_unmount_leftovers filesystems
        zuma_test_stop_daemon || true
        zuma_test_stop_polkitd 2>/dev/null || true
        zuma_test_stop_bus
        zuma_test_unmount_leftovers
        zuma_test_detach_loops
        zuma_test_stop_udev
        if [ "${ZUMA_TEST_KEEP:-0}" = 1 ] || [ $status != 0 ]; then
                zuma_test_log "kept $ZUMA_TEST_DIR (daemon log: $ZUMA_TEST_DIR/snapshotd.log)"
        else
                rm -rf --one-file-system "$ZUMA_TEST_DIR"
        fi
        exit $status
}

# Command mode: zuma-test-bus.sh COMMAND [ARGS...] runs zuma_test_COMMAND.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
        set -u
        cmd=${1:-}
        shift || true
        if [ -z "${ZUMA_TEST_DIR:-}" ] || ! declare -F "zuma_test_${cmd//-/_}" >/dev/null; then
                echo "usage: ZUMA_TEST_DIR=DIR $0 start-bus|stop-bus|start-daemon|stop-daemon|kill-daemon|restart-daemon|start-polkitd|stop-polkitd|loop-device NAME SIZE|detach-loops [ARGS]" >&2
                exit 2
        fi
        "zuma_test_${cmd//-/_}" "$@"
fi
