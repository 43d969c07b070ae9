#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The demo (make demo): zuma-snapshotd from the build tree on a private
# system bus, a volume on two loop devices driven with zumactl, ext4 on
# /dev/zumastor/demo, snapshots taken between changes to real files and
# mounted read-only to show what each one kept; then zuma-schedulerd on a
# clock the demo drives takes a day of scheduled snapshots, and zuma-notifyd
# tells a desktop (dunst on a virtual X display, a private session bus);
# then zuma-mounterd mounts the volume and its newest snapshots, the loop
# devices are detached and attached again (the volume stops, then starts
# and mounts by itself: udev hot-plug), and a private smbd shows the
# snapshots as Samba "Previous Versions".
#
# It reuses the bus tests' harness (tests/bus/zuma-test-bus.sh) for the
# private dbus-daemon with the shipped policy, the server, udev with the
# build tree's rules and the loop devices; everything lives under one
# /tmp/zuma-test.XXXXXX directory and is removed on exit, also on failure
# or Ctrl-C (after a failure the directory stays, with the server's log but
# without the images).  Needs root, /dev/fuse and losetup; takes seconds.
#
#   build-aux/demo.sh [BUILDDIR]
set -euo pipefail

SOURCE_DIR=$(realpath "$(dirname "${BASH_SOURCE[0]}")/..")
BUILD_DIR=$(realpath "${1:-build}")
ZUMACTL_BIN=$BUILD_DIR/zumactl/zumactl
VOLUME=demo

# shellcheck source=demo-lib.sh
. "$SOURCE_DIR/build-aux/demo-lib.sh"

zumactl() {
        "$ZUMACTL_BIN" "$@"
}

# ---- prerequisites ----

for tool in "$ZUMACTL_BIN" "$BUILD_DIR/agents/snapshotd/zuma-snapshotd" \
        "$BUILD_DIR/agents/schedulerd/zuma-schedulerd"; do
        [ -x "$tool" ] || die "$tool is missing: run 'make build' (or 'meson compile -C $BUILD_DIR')"
done
[ "$(id -u)" -eq 0 ] || die "loop devices and mounts need root: run as root (e.g. sudo make demo)"
[ -c /dev/fuse ] || die "/dev/fuse is missing: the server serves its devices through FUSE (modprobe fuse)"
for tool in dbus-daemon gdbus losetup mkfs.ext4 fsfreeze diff gunzip python3; do
        command -v "$tool" >/dev/null || die "$tool is not installed (run build-aux/install-deps.sh)"
done

export ZUMA_BUILD_DIR=$BUILD_DIR ZUMA_SOURCE_DIR=$SOURCE_DIR ZUMA_TEST_FRONTEND=fuse
# shellcheck source=../tests/bus/zuma-test-bus.sh
. "$SOURCE_DIR/tests/bus/zuma-test-bus.sh"

zuma_test_setup
DIR=$ZUMA_TEST_DIR
MNT=$DIR/mnt
FROZEN=""

# The harness undoes everything on exit.  First thaw a file system that an
# interrupted snapshot left frozen, so that it can be unmounted; after a
# failure keep the server's log (the harness keeps its directory) but not the
# images, after Ctrl-C keep nothing.
demo_exit() {
        local status=$?

        set +e
        stop_scheduler 2>/dev/null
        stop_desktop 2>/dev/null
        smbd_stop 2>/dev/null
        stop_mounter 2>/dev/null
        [ -n "$FROZEN" ] && fsfreeze --unfreeze "$FROZEN" 2>/dev/null
        case $status in
        0)
                true
                ;;
        130 | 143)
                echo "demo: interrupted; cleaning up" >&2
                true
                ;;
        *)
                echo "demo: failed (exit $status); cleaning up" >&2
                if [ -s "$DIR/snapshotd.log" ]; then
                        echo "demo: the last lines of zuma-snapshotd's log:" >&2
                        tail -n 15 "$DIR/snapshotd.log" | sed 's/^/  /' >&2
                fi
                false
                ;;
        esac
        (zuma_test_cleanup)
        rm -rf "$DIR/images"
        exit "$status"
}
trap demo_exit EXIT

# ---- the server ----

say "A private system bus with Zumastor's D-Bus policy, and zuma-snapshotd on it"
zuma_test_start_bus || die "dbus-daemon did not start"
zuma_test_start_daemon || die "zuma-snapshotd did not start"
echo "bus:    $DBUS_SYSTEM_BUS_ADDRESS (zumactl finds it through DBUS_SYSTEM_BUS_ADDRESS)"
echo "server: $ZUMA_SNAPSHOTD (pid $ZUMA_SNAPSHOTD_PID), state in $ZUMA_TEST_STATE_DIR"

say "udev with the build tree's rules, for the /dev/zumastor/ names"
UDEV=1
# udevd answers within a second; when it does not, go on without names.
if ZUMA_TEST_TIMEOUT=5 zuma_test_start_udev; then
        echo "rules: $(cat "$DIR/udev-rules")"
else
        UDEV=0
        echo "udev cannot run here: the demo uses the devices zumactl prints instead of the names"
fi

# device_name DEV LINK: LINK once udev made it point at DEV, else DEV.
device_name() {
        if [ "$UDEV" = 1 ] && zuma_test_wait_link "$2" "$1"; then
                echo "$2"
        else
                echo "$1"
        fi
}

# ---- the volume ----

say "Two loop devices over sparse files: a 64 MiB origin and a 128 MiB snapshot store"
ORIGIN=$(zuma_test_loop_device origin 64M)
STORE=$(zuma_test_loop_device store 128M)
echo "origin: $ORIGIN -> $DIR/images/origin.img"
echo "store:  $STORE -> $DIR/images/store.img"

say "Define the volume with a new, empty store and start it: its origin becomes /dev/zumastor/$VOLUME"
run zumactl define volume "$VOLUME" "$ORIGIN" "$STORE" --initialize --no-start
run zumactl start "$VOLUME"
run zumactl status
dev=$(zumactl --json status "$VOLUME" | python3 -c 'import json,sys; print(json.load(sys.stdin)["device"])')
VOLUME_DEV=$(device_name "$dev" "/dev/zumastor/$VOLUME")
run ls -l "$VOLUME_DEV"

say "ext4 on $VOLUME_DEV, mounted, and real files copied in"
# Mount points named after the volume and its snapshots, in a directory of
# the demo's own: the paths below are relative to it.
mkdir "$MNT"
run cd "$MNT"
run mkfs.ext4 -q -L demo "$VOLUME_DEV"
run mkdir "$VOLUME"
run mount "$VOLUME_DEV" "$VOLUME"
run mkdir "$VOLUME/doc" "$VOLUME/etc"
show_line "cp -rL /usr/share/doc/{bash,coreutils,dpkg,util-linux,...} $VOLUME/doc/"
for pkg in bash coreutils dpkg apt base-files util-linux e2fsprogs dbus libc6 gcc-12-base; do
        if [ -d "/usr/share/doc/$pkg" ]; then
                cp -rL "/usr/share/doc/$pkg" "$VOLUME/doc/"
        fi
done
run cp -L /etc/services /etc/protocols /etc/os-release "$VOLUME/etc/"
run df -h "$VOLUME"

# snapshot [NAME [OPTION...]]: a snapshot of the mounted volume, taken with
# the file system frozen so that it is clean; sets SNAP to its name.
snapshot() {
        run fsfreeze --freeze "$VOLUME"
        FROZEN=$MNT/$VOLUME
        show zumactl snapshot "$VOLUME" "$@"
        SNAP=$(zumactl snapshot "$VOLUME" "$@")
        echo "$SNAP"
        run fsfreeze --unfreeze "$VOLUME"
        FROZEN=""
}

say "First snapshot, file system frozen around it; without a name the server names it after the time"
snapshot
FIRST=$SNAP

say "Change files: a line added to a file, a new file, a changelog unpacked"
show_line "echo 'zumastor  7000/tcp  # snapshot demo' >> $VOLUME/etc/services"
echo 'zumastor        7000/tcp                        # snapshot demo' >>"$VOLUME/etc/services"
show_line "date > $VOLUME/etc/last-change"
date >"$VOLUME/etc/last-change"
show_line "gunzip $VOLUME/doc/dpkg/changelog.gz"
gunzip "$VOLUME/doc/dpkg/changelog.gz"

say "Second snapshot, named and pinned (auto-deletion will never take it)"
snapshot before-cleanup --pin
SECOND=$SNAP
run zumactl status "$VOLUME"

say "More changes on the volume: delete two directories and a file"
run rm -r "$VOLUME/doc/bash" "$VOLUME/doc/coreutils"
run rm "$VOLUME/etc/protocols"
run ls "$VOLUME/doc"

# ---- the snapshots ----

say "Mount both snapshots read-only (taken attached, so attach only prints their devices)"
for snap in "$FIRST" "$SECOND"; do
        show zumactl attach "$VOLUME" "$snap"
        dev=$(zumactl attach "$VOLUME" "$snap")
        echo "$dev"
        name=$(device_name "$dev" "/dev/zumastor/$VOLUME@$snap")
        run mkdir "$snap"
        run mount -o ro,noload "$name" "$snap"
done
run ls "$FIRST/doc"

say "What was deleted from the volume is still in both snapshots"
run_may_fail ls -d "$VOLUME/doc/bash" "$VOLUME/etc/protocols"
run ls -d "$FIRST/doc/bash" "$FIRST/etc/protocols"
run ls -d "$SECOND/doc/bash" "$SECOND/etc/protocols"

say "Each snapshot holds its own moment: the first lacks the changes the second has"
run_may_fail diff -u "$FIRST/etc/services" "$SECOND/etc/services"
run_may_fail diff -r -q "$FIRST" "$SECOND"
run_may_fail diff -r -q "$SECOND" "$VOLUME"

# ---- status ----

say "Volumes, one volume with its snapshots, and the store space each snapshot alone holds"
run zumactl status
run zumactl status "$VOLUME" --usage
run zumactl list "$VOLUME"

say "The same for scripts, as JSON (first lines)"
show_line "zumactl --json status $VOLUME | head -n 16"
json=$(zumactl --json status "$VOLUME")
head -n 16 <<<"$json"

# ---- the scheduler ----

SCHED_BUS=org.zumastor.Scheduler1
SCHED_MANAGER=/org/zumastor/Scheduler1/Manager
SCHEDULERD_PID=""

# clock_advance SECONDS: moves the scheduler's test clock; the call returns
# once the scheduler has done what the new time asks.
clock_advance() {
        gdbus call --system --timeout 120 -d $SCHED_BUS -o $SCHED_MANAGER \
                -m $SCHED_BUS.TestClock.Advance -- "$1" '{}' >/dev/null
}

stop_scheduler() {
        [ -n "$SCHEDULERD_PID" ] || return 0
        kill -TERM "$SCHEDULERD_PID" 2>/dev/null
        zuma_test_wait_exit "$SCHEDULERD_PID" 30 || true
        SCHEDULERD_PID=""
}

# ---- a desktop to tell: dunst and zuma-notifyd ----

SESSION_BUS_PID="" DUNST_PGID="" NOTIFYD_PID=""
NOTIFY=0

stop_desktop() {
        [ -z "$NOTIFYD_PID" ] || kill -TERM "$NOTIFYD_PID" 2>/dev/null
        [ -z "$DUNST_PGID" ] || kill -TERM -- "-$DUNST_PGID" 2>/dev/null
        [ -z "$SESSION_BUS_PID" ] || kill -TERM "$SESSION_BUS_PID" 2>/dev/null
        NOTIFYD_PID="" DUNST_PGID="" SESSION_BUS_PID=""
}

# The notifications dunst printed, one "URGENCY  SUMMARY: BODY" a line.
show_notifications() {
        python3 "$SOURCE_DIR/tests/e2e/dunst-records.py" "$DIR/dunst.out" |
                awk -F'\t' '{ printf "  [%s] %s: %s\n", $2, $4, $5 }'
}

if command -v dunst >/dev/null && command -v xvfb-run >/dev/null && command -v xauth >/dev/null; then
        NOTIFY=1
        say "A desktop session to tell: a session bus, dunst (a notification server, on a virtual X display) and zuma-notifyd"
        # A session bus of the demo's own, without service activation.
        cat >"$DIR/session.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$DIR/session_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
        dbus-daemon --config-file="$DIR/session.conf" --nofork --print-address=1 \
                >"$DIR/session.address" 2>"$DIR/session-bus.log" </dev/null &
        SESSION_BUS_PID=$!
        deadline=$((SECONDS + 20))
        until [ -s "$DIR/session.address" ]; do
                [ $SECONDS -lt $deadline ] || die "the session bus did not start: $(cat "$DIR/session-bus.log")"
                sleep 0.05
        done
        DBUS_SESSION_BUS_ADDRESS=$(head -n 1 "$DIR/session.address")
        export DBUS_SESSION_BUS_ADDRESS
        setsid xvfb-run -a dunst -print >"$DIR/dunst.out" 2>"$DIR/dunst.log" </dev/null &
        DUNST_PGID=$!
        # Snapshot notifications are grouped: the first is posted at once,
        # the next ones update it at most every window (an hour by default;
        # 2 s here, for a day that passes in seconds).
        printf '[coalesce]\nwindow=2s\n' >"$DIR/notify.conf"
        show_line "zuma-notifyd --config notify.conf   # notify.conf: [coalesce] window=2s"
        "$BUILD_DIR/agents/notifyd/zuma-notifyd" --config "$DIR/notify.conf" \
                --system-bus-address "$DBUS_SYSTEM_BUS_ADDRESS" >"$DIR/notifyd.log" 2>&1 </dev/null &
        NOTIFYD_PID=$!
        deadline=$((SECONDS + 20))
        until gdbus call --session -d org.freedesktop.DBus -o /org/freedesktop/DBus \
                -m org.freedesktop.DBus.GetNameOwner org.zumastor.Notify1 >/dev/null 2>&1 &&
                gdbus call --session -d org.freedesktop.DBus -o /org/freedesktop/DBus \
                        -m org.freedesktop.DBus.GetNameOwner org.freedesktop.Notifications >/dev/null 2>&1; do
                [ $SECONDS -lt $deadline ] || die "dunst or zuma-notifyd did not start (logs in $DIR)"
                sleep 0.1
        done
        echo "session bus: $DBUS_SESSION_BUS_ADDRESS; dunst and zuma-notifyd are on it"
else
        say "(dunst, xvfb-run or xauth is missing: no desktop notifications in this demo; build-aux/install-deps.sh installs them)"
fi

say "zuma-schedulerd on the same bus, on a clock the demo drives (--test-clock): a day passes in seconds"
mkdir "$DIR/scheduler-state" "$DIR/scheduler-run"
# Today 00:00 UTC; the scheduler works in UTC and names snapshots by it.
START=$(date -u -d 'today 00:00' +%s)
show_line "zuma-schedulerd --test-clock $START --bus-address \$DBUS_SYSTEM_BUS_ADDRESS ... &"
"$BUILD_DIR/agents/schedulerd/zuma-schedulerd" --bus-address "$DBUS_SYSTEM_BUS_ADDRESS" \
        --state-dir "$DIR/scheduler-state" --run-dir "$DIR/scheduler-run" \
        --test-clock "$START" --verbose >"$DIR/schedulerd.log" 2>&1 </dev/null &
SCHEDULERD_PID=$!
deadline=$((SECONDS + 20))
until zuma_test_has_owner $SCHED_BUS; do
        zuma_test_alive "$SCHEDULERD_PID" && [ $SECONDS -lt $deadline ] ||
                die "zuma-schedulerd did not start: $(tail -n 5 "$DIR/schedulerd.log")"
        sleep 0.05
done

say "A schedule: keep 6 hourly and 2 daily snapshots; the mounted ext4 is frozen around each one"
run zumactl define schedule "$VOLUME" --hourly 6 --daily 2
run zumactl schedule "$VOLUME"

say "Drive the clock through a day, an hour at a time, changing a file between the hours"
show_line "gdbus call --system -d $SCHED_BUS -o $SCHED_MANAGER -m $SCHED_BUS.TestClock.Advance 3600 '{}'   # x 25"
for hour in $(seq 1 25); do
        echo "hour $hour: $(date -u -d "@$((START + hour * 3600))")" >>"$VOLUME/etc/last-change"
        clock_advance 3600 || die "the scheduler's clock did not move: $(tail -n 5 "$DIR/schedulerd.log")"
done
echo "(the clock is now $(date -u -d "@$((START + 25 * 3600))" '+%Y-%m-%d %H:%M') UTC)"

say "What it kept: 6 hourlies, and the midnight one named daily (one snapshot per instant, whatever the classes)"
run zumactl list "$VOLUME"
run zumactl schedule "$VOLUME"
run zumactl check "$VOLUME"
show_line "grep -o 'frozen for .*' schedulerd.log | tail -n 3"
grep -o 'frozen for .*' "$DIR/schedulerd.log" | tail -n 3 || true
run zumactl forget schedule "$VOLUME"
stop_scheduler

if [ "$NOTIFY" = 1 ]; then
        say "What the desktop was told (dunst -print): a day of scheduled snapshots is one notification, updated"
        sleep 3 # the end of the 2 s grouping window
        show_notifications
        stop_desktop
fi

# ---- the mounter: mounts where you want them, hot-plug, previous versions ----

MOUNTERD_PID=""
SNAPS=$MNT/snapshots

stop_mounter() {
        [ -n "$MOUNTERD_PID" ] || return 0
        kill -TERM "$MOUNTERD_PID" 2>/dev/null
        zuma_test_wait_exit "$MOUNTERD_PID" 30 || true
        MOUNTERD_PID=""
}

# wait_until TEXT COMMAND...: until COMMAND succeeds, or die saying TEXT.
wait_until() {
        local what=$1 deadline=$((SECONDS + 30))

        shift
        until "$@"; do
                [ $SECONDS -lt $deadline ] || die "$what (log: $DIR/mounterd.log)"
                sleep 0.02
        done
}

volume_state() {
        zumactl --json status "$VOLUME" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])'
}

is_stopped() { [ "$(volume_state)" = stopped ]; }
not_mounted() { ! mountpoint -q "$MNT/$VOLUME"; }

say "zuma-mounterd takes over the mounts: the origin where you say, the newest snapshots read-only beside it"
run umount "$FIRST" "$SECOND" "$VOLUME"
show_line "zuma-mounterd --template '$SNAPS/{volume}@{snapshot}' --bus-address \$DBUS_SYSTEM_BUS_ADDRESS ... &"
"$BUILD_DIR/agents/mounterd/zuma-mounterd" --bus-address "$DBUS_SYSTEM_BUS_ADDRESS" \
        --state-dir "$DIR/mounter-state" --run-dir "$DIR/mounter-run" \
        --template "$SNAPS/{volume}@{snapshot}" --verbose >"$DIR/mounterd.log" 2>&1 </dev/null &
MOUNTERD_PID=$!
wait_until "zuma-mounterd did not start" zuma_test_has_owner org.zumastor.Mounter1
run zumactl mount "$VOLUME" --at "$MNT/$VOLUME" --snapshots newest:3
wait_until "the mounter did not mount $VOLUME" mountpoint -q "$MNT/$VOLUME"
wait_until "the mounter did not make the views" test -d "$SNAPS/$VOLUME.gmt"
run zumactl mounts "$VOLUME"
run ls "$SNAPS" "$SNAPS/$VOLUME.gmt" "$SNAPS/$VOLUME.snapshot"

if [ "$UDEV" = 1 ]; then
        say "Unplug: detach both loop devices; the mounter unmounts the volume and the server stops it"
        run losetup -d "$STORE" "$ORIGIN"
        wait_until "$VOLUME did not stop by itself" is_stopped
        wait_until "$VOLUME is still mounted" not_mounted
        run zumactl status
        say "Plug in again (perhaps under other numbers): the volume is found by identity, starts and mounts by itself"
        started=$(date +%s%N)
        show losetup -f --show "$DIR/images/store.img"
        STORE=$(losetup -f --show "$DIR/images/store.img")
        echo "$STORE"
        show losetup -f --show "$DIR/images/origin.img"
        ORIGIN=$(losetup -f --show "$DIR/images/origin.img")
        echo "$ORIGIN"
        attached=$(date +%s%N)
        wait_until "$VOLUME was not mounted after the attach" mountpoint -q "$MNT/$VOLUME"
        echo "(mounted $(((($(date +%s%N) - attached)) / 1000000)) ms after the last attach, $(((attached - started) / 1000000)) ms for the two attaches)"
        run zumactl mounts "$VOLUME"
        run tail -n 2 "$VOLUME/etc/last-change"
else
        say "(no udev here: the hot-plug part is left out)"
fi

say "Two more snapshots, a second apart, a file changed before each: the mounter mounts them, the views follow"
show_line "echo 'version 1' > $VOLUME/etc/motd"
echo 'version 1' >"$VOLUME/etc/motd"
snapshot version-1
sleep 1 # a @GMT name has a resolution of one second
show_line "echo 'version 2' > $VOLUME/etc/motd"
echo 'version 2' >"$VOLUME/etc/motd"
snapshot version-2
show_line "echo 'version 3, today' > $VOLUME/etc/motd"
echo 'version 3, today' >"$VOLUME/etc/motd"
wait_until "the mounter did not mount version-2" mountpoint -q "$SNAPS/$VOLUME@version-2"
run ls "$SNAPS/$VOLUME.gmt" "$SNAPS/$VOLUME.snapshot"

# shellcheck source=../tests/e2e/e2e-smbd.sh
. "$SOURCE_DIR/tests/e2e/e2e-smbd.sh"
missing=$(smbd_missing)
if [ -z "$missing" ]; then
        say "Previous versions over SMB: smbd on 127.0.0.1 shares $VOLUME, Samba's shadow_copy2 reads the @GMT view"
        smbd_start "$DIR" "$MNT/$VOLUME" "$SNAPS/$VOLUME.gmt" || die "smbd did not start"
        echo "smb.conf [share]: path = $MNT/$VOLUME, vfs objects = shadow_copy2, shadow:snapdir = $SNAPS/$VOLUME.gmt"
        show_line "smbclient //127.0.0.1/share -p $SMB_PORT -N -m SMB3 -c 'allinfo etc/motd'"
        smb 'allinfo etc/motd' 2>/dev/null | grep -E '^@GMT' || true
        for version in $(smb 'allinfo etc/motd' 2>/dev/null | grep -o '^@GMT-[0-9.-]*' | sort); do
                show_line "smbclient ... -c 'get $version\\etc\\motd -'   # through Samba"
                if smb "get $version\\etc\\motd $DIR/motd" >/dev/null 2>&1; then
                        cat "$DIR/motd"
                else
                        echo "(no etc/motd in that version: it was written after)"
                fi
        done
        run cat "$VOLUME/etc/motd"
        smbd_stop
else
        say "($missing: the Samba part is left out; build-aux/install-deps.sh installs it)"
fi

# ---- cleanup ----

say "Clean up: stop the volume (the mounter lets go first), stop the mounter and the server"
cd /
run zumactl stop "$VOLUME"
stop_mounter
run zumactl forget volume "$VOLUME"
zuma_test_stop_daemon || die "zuma-snapshotd did not stop cleanly (log: $DIR/snapshotd.log)"
echo "zuma-snapshotd stopped"
if [ "$UDEV" = 1 ]; then
        zuma_test_settle
fi
# The bus, the loop devices, the udev rules (and a udevd the demo started)
# and the directory; in a subshell, so that the demo can check the result.
(zuma_test_cleanup)
trap - EXIT

left=$(
        losetup -n -O NAME,BACK-FILE -l | grep -F "$DIR/" || true
        grep -F "$DIR/" /proc/self/mounts || true
        ls -d "$DIR" /run/udev/rules.d/60-zumastor-"$(basename "$DIR")".rules 2>/dev/null || true
)
if [ -n "$left" ]; then
        echo "demo: left behind:" >&2
        echo "$left" >&2
        exit 1
fi
say "Demo finished in $SECONDS s: no mount, loop device, server or udev rule of it is left"
