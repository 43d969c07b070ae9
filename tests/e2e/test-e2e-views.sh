#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# test-e2e-views.sh: zuma-mounterd's snapshot views read through a real
# smbd (Samba's vfs_shadow_copy2, "Previous Versions") and by local users,
# against the real zuma-snapshotd, real loop devices, a real ext4 and a
# private bus.
#
#   1. volume vvol, ext4, its origin mounted at DIR/share with the default
#      views: three snapshots of a file with different contents, taken in
#      different seconds; DIR/snaps/vvol.gmt holds one @GMT-... link per
#      snapshot, named after its creation time as the server reports it
#      (UTC), DIR/snaps/vvol.snapshot one link per name;
#   2. smbd on 127.0.0.1 at a free high port (private smb.conf and
#      directories, guest, shadow:mountpoint = the share's root,
#      shadow:snapdir = the GMT view): `allinfo file` lists every
#      version with its time, `get @GMT-...\file` returns each old
#      contents (sha256);
#   3. a rename moves the link of the names view and the GMT link
#      follows the moved mount; a delete (the release handshake) removes
#      both links and Samba no longer lists that version;
#   4. `zumactl mounts --json` shows the view directories; --views off
#      removes them, on brings them back; custom --gmt-dir/--names-dir
#      (the directories made for them removed with them); views inside
#      the origin's mount removed before it is unmounted, so nothing of
#      them is left in the volume;
#   5. bad view directories are refused: relative, inside another
#      volume's snapshot mount, another volume's view, holding the
#      origin's mount point;
#   6. the volume stopped, the server restarted, the volume started, the
#      mounter stopped and started: the views go with the mounts and come
#      back; at the end nothing is
#      left: no mounts, no view directories, no smbd, no loop devices.
#
# Needs root, loop devices, /dev/fuse, dbus-daemon, python3, mkfs.ext4,
# smbd, smbclient and Samba's shadow_copy2 module (Debian: samba
# smbclient samba-vfs-modules); exits 77 (skip) without them.
set -euo pipefail
# The guest (nobody) reads the share, the snapshots and the views.
umask 022

# shellcheck source=e2e-lib.sh
. "$(dirname "$(realpath "$0")")/e2e-lib.sh"
# shellcheck source=e2e-mounter.sh
. "$(dirname "$(realpath "$0")")/e2e-mounter.sh"

# shellcheck source=e2e-smbd.sh
. "$(dirname "$(realpath "$0")")/e2e-smbd.sh"

for tool in mkfs.ext4 mountpoint fsfreeze; do
        command -v "$tool" >/dev/null || zuma_test_skip "$tool is not installed"
done
missing=$(smbd_missing)
[ -z "$missing" ] || zuma_test_skip "$missing"
VOL=vvol
T=

step() { e2e_step "$@"; }
fail() { e2e_fail "$@"; }
zctl() { e2e_zumactl "$@"; }

views_cleanup() {
        local status=$?

        set +e
        smbd_stop
        e2e_mounter_kill
        (exit "$status")
        e2e_cleanup
}

# wait_for TEXT COMMAND...: until COMMAND succeeds.
wait_for() {
        local what=$1 deadline=$((SECONDS + ZUMA_TEST_TIMEOUT))

        shift
        until "$@"; do
                [ $SECONDS -lt $deadline ] ||
                        fail "$what (log: $(tail -n 5 "$ZUMA_TEST_DIR/mounterd.log"))"
                sleep 0.05
        done
}

is_link_to() { [ "$(readlink "$1" 2>/dev/null)" = "$2" ]; }
is_gone() { [ ! -e "$1" ] && [ ! -L "$1" ]; }
views_gone() { is_gone "$GMT" && is_gone "$NAMES"; }

# take NAME: a snapshot of the frozen origin, in a second of its own
# (a @GMT name has a resolution of one second).
LAST_SECOND=0
take() {
        while [ "$(date +%s)" -le "$LAST_SECOND" ]; do sleep 0.05; done
        e2e_snapshot_frozen "$T/share" "$VOL" "$1"
        LAST_SECOND=$(date +%s)
        seconds=$(zctl --json status "$VOL" "$1" | e2e_json 'd["creation_time"]')
        GMTS[$1]=$(date -u -d "@$seconds" +@GMT-%Y.%m.%d-%H.%M.%S)
}

# The @GMT name of each snapshot, from the creation time the server
# reports (filled by take, carried over by a rename).
declare -A GMTS
gmt_of() { echo "${GMTS[$1]}"; }


e2e_init
trap views_cleanup EXIT
T=$ZUMA_TEST_DIR
START=$SECONDS
GMT=$T/snaps/$VOL.gmt
NAMES=$T/snaps/$VOL.snapshot

step "volume $VOL, ext4, its origin at $T/share with the default views"
e2e_ext4_volume "$VOL" >/dev/null
e2e_mounter_start
mkdir -p "$T/share"
zctl mount "$VOL" --at "$T/share"
wait_for "the origin was not mounted" mountpoint -q "$T/share"

step "three snapshots of a file, each in a second of its own"
declare -A SUM
for n in 1 2 3; do
        head -c 100000 /dev/urandom >"$T/share/file"
        echo "version $n" >>"$T/share/file"
        SUM[s$n]=$(sha256sum <"$T/share/file" | cut -d' ' -f1)
        take "s$n"
done
for n in 1 2 3; do
        G=$(gmt_of "s$n")
        wait_for "no link $GMT/$G to s$n" is_link_to "$GMT/$G" "$T/snaps/$VOL@s$n"
        wait_for "no link $NAMES/s$n" is_link_to "$NAMES/s$n" "$T/snaps/$VOL@s$n"
        [ "$(sha256sum <"$NAMES/s$n/file" | cut -d' ' -f1)" = "${SUM[s$n]}" ] ||
                fail "$NAMES/s$n/file does not hold version $n"
done
[ "$(find "$GMT" -mindepth 1 | wc -l)" = 3 ] || fail "$GMT holds $(ls -A "$GMT")"

step "smbd on 127.0.0.1 with shadow_copy2 over the GMT view"
smbd_start "$T" "$T/share" "$GMT" || fail "smbd did not start"
echo "smbd $SMBD_PID on 127.0.0.1:$SMB_PORT"

# check_versions SNAPSHOT...: Samba lists exactly these versions of file,
# each at its creation time, and serves each one's contents.
check_versions() {
        local listed want snap G

        listed=$(smb 'allinfo file' | grep -o '^@GMT-[0-9.-]*' | sort)
        want=$(for snap in "$@"; do gmt_of "$snap"; done | sort)
        [ "$listed" = "$want" ] || fail "Samba lists versions '$listed', not '$want'"
        for snap in "$@"; do
                G=$(gmt_of "$snap")
                rm -f "$T/got"
                smb "get $G\\file $T/got" >/dev/null 2>"$T/smb/get.err" ||
                        fail "Samba cannot get $G\\file: $(cat "$T/smb/get.err")"
                [ "$(sha256sum <"$T/got" | cut -d' ' -f1)" = "${SUM[$snap]}" ] ||
                        fail "Samba's $G\\file is not $snap's contents"
        done
}
check_versions s1 s2 s3

step "a rename moves both links; Samba follows"
zctl rename "$VOL" s1 old1
SUM[old1]=${SUM[s1]}
GMTS[old1]=${GMTS[s1]}
wait_for "no link $NAMES/old1" is_link_to "$NAMES/old1" "$T/snaps/$VOL@old1"
wait_for "$NAMES/s1 is still there" is_gone "$NAMES/s1"
is_link_to "$GMT/$(gmt_of old1)" "$T/snaps/$VOL@old1" || fail "the GMT link of old1 did not follow"
check_versions old1 s2 s3

step "a delete removes the snapshot's links before its mount (the handshake)"
G2=$(gmt_of s2)
zctl delete "$VOL" s2
is_gone "$GMT/$G2" || fail "$GMT/$G2 is still there after the delete"
is_gone "$NAMES/s2" || fail "$NAMES/s2 is still there after the delete"
check_versions old1 s3

step "zumactl mounts shows the views; --views off removes them, on brings them back"
zctl --json mounts "$VOL" >"$T/mounts.json"
[ "$(e2e_json 'd["configs"][0]["gmt_path"]' <"$T/mounts.json")" = "$GMT" ] ||
        fail "mounts does not show $GMT: $(cat "$T/mounts.json")"
[ "$(e2e_json 'd["configs"][0]["names_path"]' <"$T/mounts.json")" = "$NAMES" ] ||
        fail "mounts does not show $NAMES"
zctl mounts "$VOL" | grep -q "views: @GMT names in $GMT" || fail "zumactl mounts does not show the views"
zctl mount "$VOL" --at "$T/share" --views off
views_gone || fail "the views are still there with --views off"
[ "$(zctl --json mounts "$VOL" | e2e_json 'd["configs"][0]["views"]')" = False ] ||
        fail "mounts does not show views off"
zctl mount "$VOL" --at "$T/share" --gmt-dir "$T/views/gmt" --names-dir "$T/share-snapshots"
wait_for "no custom GMT view" is_link_to "$T/views/gmt/$(gmt_of s3)" "$T/snaps/$VOL@s3"
wait_for "no custom names view" is_link_to "$T/share-snapshots/old1" "$T/snaps/$VOL@old1"
is_gone "$GMT" || fail "the default GMT view is still there"
zctl mount "$VOL" --at "$T/share"
wait_for "the default views are not back" is_link_to "$GMT/$(gmt_of s3)" "$T/snaps/$VOL@s3"
is_gone "$T/views" || fail "the custom GMT view (or the directory made for it) was left behind"
is_gone "$T/share-snapshots" || fail "the custom names view was left behind"

step "views inside the origin's mount go before it is unmounted: nothing left in the volume"
zctl mount "$VOL" --at "$T/share" --gmt-dir "$T/share/.zumastor/gmt" \
        --names-dir "$T/share/.zumastor/names"
wait_for "no GMT view inside the origin" is_link_to "$T/share/.zumastor/gmt/$(gmt_of s3)" "$T/snaps/$VOL@s3"
is_link_to "$T/share/.zumastor/names/old1" "$T/snaps/$VOL@old1" || fail "no names view inside the origin"
zctl unmount "$VOL"
[ -z "$(e2e_our_mounts)" ] || fail "still mounted after unmount: $(e2e_our_mounts)"
zctl mount "$VOL" --at "$T/share" --views off
wait_for "the origin was not mounted again" mountpoint -q "$T/share"
is_gone "$T/share/.zumastor" || fail "the views were left in the volume: $(ls -AR "$T/share/.zumastor")"
! smb 'allinfo file' | grep -q '^@GMT-' || fail "Samba lists versions with the views off"
zctl mount "$VOL" --at "$T/share"
wait_for "the default views are not back" is_link_to "$GMT/$(gmt_of s3)" "$T/snaps/$VOL@s3"
check_versions old1 s3

step "bad view directories are refused"
w2origin=$(zuma_test_loop_device w2-origin 16M)
w2store=$(zuma_test_loop_device w2-store 16M)
zctl define volume w2 "$w2origin" "$w2store" --initialize >/dev/null
e2e_expect_exit 8 "not an absolute path" mount w2 --gmt-dir relative/gmt
e2e_expect_exit 8 "inside $T/snaps/$VOL@s3" mount w2 --gmt-dir "$T/snaps/$VOL@s3/gmt"
e2e_expect_exit 8 "volume $VOL's already" mount w2 --names-dir "$GMT"
e2e_expect_exit 8 "holds the origin's mount point" mount w2 --at "$T/w2/home" --gmt-dir "$T/w2"
e2e_expect_exit 8 "a directory of its own" mount w2 --gmt-dir "$T/w2v" --names-dir "$T/w2v"
e2e_expect_exit 2 "on or off" mount w2 --views maybe
e2e_expect_exit 8 "holds the snapshots' mount points" mount w2 --gmt-dir "$T/snaps"
e2e_expect_exit 8 "holds the other view's" mount w2 --gmt-dir "$T/w2v" --names-dir "$T/w2v/names"
e2e_expect_exit 3 "no mount configuration" unmount w2
zctl stop w2

step "stop the volume, restart the server, start the volume; restart the mounter"
zctl stop "$VOL"
[ -z "$(e2e_our_mounts)" ] || fail "still mounted after stop: $(e2e_our_mounts)"
wait_for "the views were left after stop" views_gone
zuma_test_restart_daemon || fail "zuma-snapshotd did not restart"
zctl start "$VOL"
wait_for "the views are not back after start" is_link_to "$GMT/$(gmt_of s3)" "$T/snaps/$VOL@s3"
e2e_mounter_stop
[ -z "$(e2e_our_mounts)" ] || fail "still mounted after the mounter stopped: $(e2e_our_mounts)"
views_gone || fail "the views were left after the mounter stopped"
e2e_mounter_start
wait_for "the views are not back after the mounter's start" is_link_to "$NAMES/old1" "$T/snaps/$VOL@old1"
check_versions old1 s3

step "the end: nothing left"
smbd_main=$SMBD_PID
smbd_children=$(pgrep -P "$smbd_main" || true)
smbd_stop
for pid in $smbd_main $smbd_children; do
        ! kill -0 "$pid" 2>/dev/null || fail "smbd process $pid is still running"
done
zctl unmount "$VOL"
[ -z "$(e2e_our_mounts)" ] || fail "still mounted after unmount: $(e2e_our_mounts)"
views_gone || fail "the views were left after unmount"
zctl stop "$VOL"
e2e_mounter_stop
[ -z "$(find "$T/snaps" -mindepth 1 2>/dev/null)" ] || fail "left in $T/snaps: $(ls -A "$T/snaps")"
e2e_mounter_quiet
step "done in $((SECONDS - START)) s"
