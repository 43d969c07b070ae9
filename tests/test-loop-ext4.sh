#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# End-to-end: a real file system (ext4, then xfs) on a loop device whose
# backing file is zuma-testfront's `origin`, so every block the file system
# writes goes through ss_origin_write() and its copy-out path.  Snapshots are
# taken through the frontend's ctl file while the file system is unmounted,
# then each snapshot image must pass the file system's own checker and hold,
# file for file, the sha256 sums recorded at the moment it was taken, while
# the origin keeps being written (and trimmed).  A snapshot is deleted and
# the other must still verify.  The store is then closed (SIGTERM), checked
# with zumastor-check when it is built, reopened, written, abandoned
# (SIGKILL), reopened, and verified again.
#
# Before any file system, the frontend's own paths are checked against a
# local shadow: unaligned reads and writes, fallocate, and the requests it
# must refuse.
#
# usage: test-loop-ext4.sh [ZUMA_TESTFRONT [BUILD_DIR]]
#   (or the environment variables ZUMA_TESTFRONT and ZUMA_BUILD)
# Exit 77 (skipped) only when FUSE or loop devices are unavailable.

set -Eeuo pipefail
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND (exit $?)" >&2' ERR

BUILD=${2:-${ZUMA_BUILD:-}}
TESTFRONT=${1:-${ZUMA_TESTFRONT:-}}
if [[ -z $TESTFRONT && -n $BUILD ]]; then
        TESTFRONT=$BUILD/tests/zuma-testfront
fi

START=$SECONDS
FS=-
step() { printf '### [%4ds %s] %s\n' $((SECONDS - START)) "$FS" "$*"; }
fail() {
        printf 'FAIL [%s]: %s\n' "$FS" "$*" >&2
        exit 1
}
skip() {
        printf 'SKIP: %s\n' "$*"
        exit 77
}

# ---- prerequisites ----

[[ $(id -u) == 0 ]] || skip "needs root for loop devices and mounts"
[[ -c /dev/fuse ]] || skip "/dev/fuse is missing"
(: <>/dev/fuse) 2>/dev/null || skip "/dev/fuse cannot be opened"
command -v losetup >/dev/null || skip "losetup is not installed"
[[ -e /dev/loop-control ]] || skip "/dev/loop-control is missing (no loop driver)"
losetup -f >/dev/null 2>&1 || skip "no free loop device"

[[ -n $TESTFRONT && -x $TESTFRONT ]] ||
        fail "zuma-testfront not found (pass it as \$1 or ZUMA_TESTFRONT)"
for tool in fusermount3 mountpoint findmnt blockdev fallocate fstrim mkfs.ext4 e2fsck mkfs.xfs \
        xfs_repair sha256sum; do
        command -v "$tool" >/dev/null || fail "$tool is not installed"
done
CHECK=
if [[ -n $BUILD && -x $BUILD/snapstore/zumastor-check ]]; then
        CHECK=$BUILD/snapstore/zumastor-check
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/zuma-loop.XXXXXX")

# ---- cleanup: everything this script set up, in reverse order ----

MOUNTS=()  # file system mount points still mounted
LOOPS=()   # loop devices still attached
FUSE_MNT=  # the frontend's mount point
FRONT_PID= # the frontend's pid
CHURN_PID= # background writer on the origin

# forget ARRAY VALUE: drop VALUE from the cleanup list ARRAY.
forget() {
        local -n list=$1
        local kept=() v
        for v in "${list[@]}"; do
                [[ $v == "$2" ]] || kept+=("$v")
        done
        list=("${kept[@]}")
}

cleanup() {
        local rc=$? m dev deadline
        set +e
        trap - ERR
        if [[ -n $CHURN_PID ]]; then
                # Ask it to stop, so none of its writes keeps the mount busy.
                touch "$DIR/stop-churn"
                deadline=$((SECONDS + 20))
                while kill -0 "$CHURN_PID" 2>/dev/null && ((SECONDS < deadline)); do
                        sleep 0.05
                done
                kill "$CHURN_PID" 2>/dev/null
                wait "$CHURN_PID" 2>/dev/null
        fi
        for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
                m=${MOUNTS[i]}
                mountpoint -q "$m" && { umount "$m" || umount -l "$m"; }
        done
        for dev in "${LOOPS[@]}"; do
                # Only if it still serves one of our files: a detached device
                # may have been reused by someone else since.
                losetup -n -O BACK-FILE "$dev" 2>/dev/null | grep -qF "$WORK" &&
                        losetup -d "$dev"
        done
        if [[ -n $FUSE_MNT ]] && mountpoint -q "$FUSE_MNT"; then
                fusermount3 -u "$FUSE_MNT" || umount -l "$FUSE_MNT"
        fi
        if [[ -n $FRONT_PID ]]; then
                kill "$FRONT_PID" 2>/dev/null
                wait "$FRONT_PID" 2>/dev/null
        fi
        if [[ $rc != 0 && -d $WORK ]]; then
                for log in "$WORK"/*/front*.log; do
                        [[ -f $log ]] || continue
                        echo "--- $log (last 30 lines)" >&2
                        tail -n 30 "$log" >&2
                done
        fi
        if findmnt -rn -o TARGET | grep -qF "$WORK"; then
                echo "cleanup: something is still mounted under $WORK; leaving it" >&2
        elif [[ $rc != 0 && -n ${ZUMA_KEEP:-} ]]; then
                echo "cleanup: ZUMA_KEEP is set; leaving $WORK" >&2
        else
                rm -rf "$WORK"
        fi
        exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- helpers ----

# wait_until SECONDS WHAT COMMAND...: poll COMMAND until it succeeds.
wait_until() {
        local deadline=$((SECONDS + $1)) what=$2
        shift 2
        until "$@"; do
                ((SECONDS < deadline)) || fail "timed out waiting for $what"
                sleep 0.05
        done
}

front_alive() { [[ -n $FRONT_PID ]] && kill -0 "$FRONT_PID" 2>/dev/null; }
front_exited() { ! front_alive; }
front_mounted() {
        front_alive || fail "zuma-testfront exited: $(tail -n 5 "$DIR/front.log")"
        mountpoint -q "$FUSE_MNT"
}

# start_front [--create ...]: serve ORIGIN and STORE in $FUSE_MNT.
start_front() {
        step "start zuma-testfront $*"
        "$TESTFRONT" "$DIR/origin.img" "$DIR/store.img" "$FUSE_MNT" "$@" \
                >>"$DIR/front.log" 2>&1 &
        FRONT_PID=$!
        wait_until 30 "the FUSE mount" front_mounted
        [[ $(stat -c %s "$FUSE_MNT/origin") == "$ORIGIN_BYTES" ]] ||
                fail "origin has the wrong size: $(stat -c %s "$FUSE_MNT/origin")"
}

# stop_front: SIGTERM, which must unmount and close the store cleanly.
stop_front() {
        local rc=0
        step "stop zuma-testfront (SIGTERM)"
        kill -TERM "$FRONT_PID"
        wait_until 60 "zuma-testfront to exit" front_exited
        wait "$FRONT_PID" || rc=$?
        FRONT_PID=
        [[ $rc == 0 ]] || fail "zuma-testfront exited with $rc"
        ! mountpoint -q "$FUSE_MNT" || fail "the FUSE mount survived the frontend"
        grep 'stats:' "$DIR/front.log" | tail -n 1
        ! grep -E 'runtime error|Sanitizer' "$DIR/front.log" || fail "sanitizer reports above"
}

# kill_front: SIGKILL.  Every call the frontend made returned only once
# committed, so the store must reopen without a clean close.
kill_front() {
        step "kill zuma-testfront (SIGKILL)"
        kill -KILL "$FRONT_PID"
        wait "$FRONT_PID" || true
        FRONT_PID=
        umount "$FUSE_MNT" # the dead connection's mount stays until then
}

# attach FILE [losetup options...]: sets ATTACHED to the new loop device.
attach() {
        local file=$1
        shift
        ATTACHED=$(losetup --find --show "$@" "$file") || fail "losetup $* $file failed"
        LOOPS+=("$ATTACHED")
}

loop_free() { ! losetup "$1" >/dev/null 2>&1; }

detach() {
        local dev=$1
        losetup -d "$dev"
        forget LOOPS "$dev"
        wait_until 30 "$dev to detach" loop_free "$dev"
}

mount_fs() {
        mount "$@"
        MOUNTS+=("${!#}")
}

umount_fs() {
        wait_until 30 "umount $1" umount "$1"
        forget MOUNTS "$1"
}

# Attach the origin; with LOOP_DIO=on, with direct I/O on the loop device
# when it works.
attach_origin() {
        local how
        if [[ $LOOP_DIO == on ]] &&
                LOOP=$(losetup --find --show --direct-io=on "$FUSE_MNT/origin" 2>/dev/null); then
                LOOPS+=("$LOOP")
                how="direct-io=$(cat "/sys/block/${LOOP#/dev/}/loop/dio")"
        else
                attach "$FUSE_MNT/origin"
                LOOP=$ATTACHED
                how="buffered"
                [[ $LOOP_DIO == on ]] && how="buffered: --direct-io=on was refused"
        fi
        step "origin on $LOOP ($how)"
}

# What a snapshot must reproduce: every entry's type, mode, path and link
# target, and the sha256 of every regular file.
manifest() {
        (
                cd "$1"
                LC_ALL=C find . -printf '%y %m %p %l\n' | LC_ALL=C sort
                LC_ALL=C find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
        )
}

ctl() {
        printf '%s\n' "$*" >"$FUSE_MNT/ctl"
}

# store_stat KEY: a value from the "# store key=value..." line of ctl.
store_stat() {
        sed -n "1s/.* $1=\([0-9]*\).*/\1/p" "$FUSE_MNT/ctl"
}

show_store() {
        step "$(head -n 1 "$FUSE_MNT/ctl" | sed 's/^# //')"
}

# Snapshot the origin while the file system is unmounted; the loop device
# is flushed first, which the frontend sees as FSYNC.
snapshot() {
        step "snapshot $1"
        blockdev --flushbufs "$LOOP"
        ctl snapshot "$1"
        [[ -f $FUSE_MNT/$1 ]] || fail "snapshot file $1 did not appear"
        [[ $(stat -c %s "$FUSE_MNT/$1") == "$ORIGIN_BYTES" ]] ||
                fail "snapshot $1 has the wrong size"
        show_store
}

fsck_image() { # file or device
        case $FS in
        ext4) e2fsck -fn "$1" >"$DIR/fsck.log" 2>&1 ;;
        xfs) xfs_repair -n -f "$1" >"$DIR/fsck.log" 2>&1 ;;
        esac || {
                tail -n 40 "$DIR/fsck.log" >&2
                fail "fsck of $1 found problems"
        }
}

mount_ro() { # device dir
        case $FS in
        ext4) mount_fs -t ext4 -o ro,noload "$1" "$2" ;;
        xfs) mount_fs -t xfs -o ro,norecovery,nouuid "$1" "$2" ;;
        esac
}

# verify_snapshot NAME: fsck the image file, mount it read-only through a
# loop device, compare with the manifest recorded when it was taken.
verify_snapshot() {
        local name=$1 dev dir=$DIR/ro-$1
        step "verify snapshot $name: fsck on $FUSE_MNT/$name"
        fsck_image "$FUSE_MNT/$name"
        attach "$FUSE_MNT/$name" --read-only
        dev=$ATTACHED
        mkdir -p "$dir"
        mount_ro "$dev" "$dir"
        manifest "$dir" >"$DIR/now.$name"
        diff -u "$DIR/manifest.$name" "$DIR/now.$name" >"$DIR/diff.$name" || {
                head -n 40 "$DIR/diff.$name" >&2
                fail "snapshot $name differs from what was recorded"
        }
        umount_fs "$dir"
        detach "$dev"
        step "snapshot $name verified ($(grep -c '^[0-9a-f]\{64\} ' "$DIR/manifest.$name") files)"
}

# verify_origin: the origin (unmounted) against the last manifest.
verify_origin() {
        step "verify origin: fsck on $LOOP"
        fsck_image "$LOOP"
        mount_fs "$LOOP" "$MNT"
        manifest "$MNT" >"$DIR/now.origin"
        diff -u "$DIR/manifest.origin" "$DIR/now.origin" >"$DIR/diff.origin" || {
                head -n 40 "$DIR/diff.origin" >&2
                fail "origin differs from what was recorded"
        }
        umount_fs "$MNT"
        step "origin verified"
}

random_file() { # path KiB
        head -c "$(($2 * 1024))" /dev/urandom >"$1"
}

# The frontend itself, before a file system exists: unaligned writes (the
# read-modify-write path) and reads compared with a local shadow of the first
# 64 KiB, a snapshot of them, and the answers to requests it must refuse.
raw_checks() {
        local f=$FUSE_MNT/origin shadow=$DIR/shadow win=65536
        step "raw I/O: unaligned writes and reads through origin and a snapshot"
        head -c $win /dev/zero >"$shadow"
        raw_write 12345 3072 1000
        raw_write 511 700 700
        ctl snapshot raw
        cp "$shadow" "$shadow.raw"
        raw_write 12445 3072 777
        raw_write 0 1 1
        raw_write 40000 20000 4096
        raw_zero 30001 9000 --punch-hole
        raw_zero 5000 3000 --zero-range
        cmp <(dd if="$f" bs=$win count=1 status=none) "$shadow" ||
                fail "origin differs from the shadow"
        cmp <(dd if="$FUSE_MNT/raw" bs=$win count=1 status=none) "$shadow.raw" ||
                fail "snapshot raw differs from its shadow"
        cmp <(dd if="$FUSE_MNT/raw" bs=999 skip=12000 count=5000 iflag=skip_bytes,count_bytes \
                status=none) <(dd if="$shadow.raw" bs=5000 skip=12000 count=5000 \
                iflag=skip_bytes,count_bytes status=none) ||
                fail "unaligned reads of snapshot raw differ from its shadow"

        step "frontend refusals: duplicate, reserved and bad commands, resizes, writes to snapshots"
        ! ctl snapshot raw 2>/dev/null || fail "a duplicate snapshot name was accepted"
        ! ctl snapshot origin 2>/dev/null || fail "snapshot name 'origin' was accepted"
        ! ctl frobnicate raw 2>/dev/null || fail "an unknown ctl command was accepted"
        ! (printf x >"$FUSE_MNT/raw") 2>/dev/null || fail "a snapshot file accepted a write"
        ! truncate -s 1M "$f" 2>/dev/null || fail "origin accepted a size change"
        truncate -s "$ORIGIN_BYTES" "$f" || fail "a size-preserving truncate was refused"
        touch "$f" || fail "utimens on origin was refused"
        [[ $(cd "$FUSE_MNT" && echo *) == "ctl origin raw" ]] ||
                fail "unexpected listing: $(ls "$FUSE_MNT")"
        delete_snapshot raw
}

# raw_write OFFSET LENGTH BLOCKSIZE: the same random bytes into the origin
# and into the shadow, in BLOCKSIZE pieces.
raw_write() {
        head -c "$2" /dev/urandom >"$DIR/piece"
        dd if="$DIR/piece" of="$FUSE_MNT/origin" bs="$3" seek="$1" oflag=seek_bytes \
                conv=notrunc status=none
        dd if="$DIR/piece" of="$DIR/shadow" bs="$3" seek="$1" oflag=seek_bytes conv=notrunc \
                status=none
}

# raw_zero OFFSET LENGTH MODE: fallocate MODE on the origin, zeroes in the shadow.
raw_zero() {
        fallocate "$3" --keep-size -o "$1" -l "$2" "$FUSE_MNT/origin"
        dd if=/dev/zero of="$DIR/shadow" bs="$2" count=1 seek="$1" oflag=seek_bytes \
                conv=notrunc status=none
}

# ---- what happens to the file system between snapshots ----

populate() {
        step "populate: /usr/share/doc subset and random files"
        mkdir -p "$MNT/doc" "$MNT/data"
        (cd /usr/share/doc && find . -type f -size -256k | LC_ALL=C sort | sed -n '1,400p') \
                >"$DIR/doclist"
        tar -C /usr/share/doc -cf - -T "$DIR/doclist" | tar -C "$MNT/doc" -xf -
        random_file "$MNT/data/big1" 3072
        random_file "$MNT/data/big2" 2048
        for i in $(seq 1 50); do
                random_file "$MNT/data/small$i" $((i % 7 + 1))
        done
        ln -s data/big1 "$MNT/link-to-big1"
        ln "$MNT/data/small1" "$MNT/hardlink-small1"
        printf 'first line\n' >"$MNT/log.txt"
        sync -f "$MNT"
}

modify_1() {
        step "modify: overwrite, append, delete, add, rename, truncate; files to churn later"
        head -c 262144 /dev/urandom | dd of="$MNT/data/big1" bs=4096 seek=128 conv=notrunc \
                status=none
        printf 'second line\n' >>"$MNT/log.txt"
        sed -n '1~3p' "$DIR/doclist" | (cd "$MNT/doc" && xargs -r -d '\n' rm -f)
        mkdir -p "$MNT/new"
        for i in $(seq 1 20); do
                random_file "$MNT/new/f$i" $((i * 13))
        done
        mv "$MNT/doc" "$MNT/doc-renamed"
        truncate -s 1000 "$MNT/data/big2"
        rm -f "$MNT/data/small7"
        mkdir -p "$MNT/churn"
        for i in $(seq 0 7); do
                random_file "$MNT/churn/c$i" 2048
        done
        sync -f "$MNT"
}

modify_2() {
        step "modify again: rewrite, delete, add"
        random_file "$MNT/data/big1" 3072
        sed -n '2~3p' "$DIR/doclist" | (cd "$MNT/doc-renamed" && xargs -r -d '\n' rm -f)
        rm -rf "$MNT/new"
        mkdir -p "$MNT/newer"
        for i in $(seq 1 10); do
                random_file "$MNT/newer/g$i" $((i * 37))
        done
        printf 'third line\n' >>"$MNT/log.txt"
        sync -f "$MNT"
        # Discards reach the frontend as fallocate(PUNCH_HOLE): zeroes over
        # blocks the snapshots still hold.  Bounded, since each trimmed
        # chunk is a copy-out.
        step "fstrim the first 32 MiB: $(fstrim -v -o 0 -l 32M "$MNT")"
}

modify_3() {
        step "modify after reopening: add and overwrite"
        mkdir -p "$MNT/after-reopen"
        for i in $(seq 1 5); do
                random_file "$MNT/after-reopen/h$i" $((i * 100))
        done
        head -c 65536 /dev/urandom | dd of="$MNT/data/big1" bs=4096 seek=7 conv=notrunc \
                status=none
        sync -f "$MNT"
}

# Rewrites 64 KiB pieces of the churn files (which s2 holds) in place until
# told to stop, so snapshots are read while copy-outs of the very files they
# are compared on happen.  In place, so the store space it costs stays
# bounded (16 MiB) however long it runs.
churn() {
        local n=0
        while [[ ! -e $DIR/stop-churn ]]; do
                head -c 65536 /dev/urandom | dd of="$MNT/churn/c$((RANDOM % 8))" bs=64k \
                        seek=$((RANDOM % 32)) conv=notrunc,fsync status=none
                n=$((n + 1))
        done
        echo "$n" >"$DIR/churn-count"
}

# delete_snapshot NAME: the kernel releases a detached loop device's file
# asynchronously, and the frontend refuses (EBUSY) to delete an open
# snapshot, so retry while it is busy.
try_delete() {
        local err
        err=$({ printf 'delete %s\n' "$1" >"$FUSE_MNT/ctl"; } 2>&1) && return 0
        [[ $err == *busy* ]] || fail "delete $1: $err"
        return 1
}

delete_snapshot() {
        local before
        before=$(store_stat data_bytes)
        step "delete $1"
        wait_until 30 "the frontend to release $1" try_delete "$1"
        [[ ! -e $FUSE_MNT/$1 ]] || fail "$1 is still listed after delete"
        ! grep -q " $1 " "$FUSE_MNT/ctl" || fail "$1 is still in the store's list"
        show_store
        [[ $(store_stat cleanup_jobs) == 0 ]] || fail "cleanup did not finish after deleting $1"
        DELETE_FREED=$((before - $(store_stat data_bytes)))
}

run_zumastor_check() {
        if [[ -z $CHECK ]]; then
                step "zumastor-check not built; skipped"
                return
        fi
        step "zumastor-check on the store"
        "$CHECK" --origin "$DIR/origin.img" "$DIR/store.img" >"$DIR/check.log" 2>&1 || {
                cat "$DIR/check.log" >&2
                fail "zumastor-check reported problems"
        }
        sed 's/^/    /' "$DIR/check.log" | tail -n 3
}

# ---- the scenario, once per file system ----

# run_fs FS ORIGIN_MIB CHUNK_SIZE LOOP_DIO
run_fs() {
        local chunk_size=$3
        FS=$1
        ORIGIN_BYTES=$(($2 << 20))
        LOOP_DIO=$4
        DIR=$WORK/$FS
        FUSE_MNT=$DIR/fuse
        MNT=$DIR/mnt
        mkdir -p "$DIR" "$FUSE_MNT" "$MNT"
        truncate -s "$ORIGIN_BYTES" "$DIR/origin.img"
        truncate -s 128M "$DIR/store.img"

        start_front --create --chunk-size "$chunk_size"
        raw_checks
        attach_origin
        step "mkfs.$FS on $LOOP"
        case $FS in
        ext4) mkfs.ext4 -q -F -E nodiscard,lazy_itable_init=0,lazy_journal_init=0 "$LOOP" ;;
        xfs) mkfs.xfs -q -f -K "$LOOP" ;;
        esac
        mount_fs "$LOOP" "$MNT"
        populate
        manifest "$MNT" >"$DIR/manifest.s1"
        umount_fs "$MNT"
        snapshot s1

        mount_fs "$LOOP" "$MNT"
        modify_1
        manifest "$MNT" >"$DIR/manifest.s2"
        umount_fs "$MNT"
        snapshot s2

        mount_fs "$LOOP" "$MNT"
        modify_2

        step "start a writer on the mounted origin"
        rm -f "$DIR/stop-churn"
        churn &
        CHURN_PID=$!
        verify_snapshot s1
        verify_snapshot s2
        touch "$DIR/stop-churn"
        wait "$CHURN_PID" || fail "the writer on the origin failed"
        CHURN_PID=
        step "the writer rewrote $(cat "$DIR/churn-count") pieces"
        sync -f "$MNT"
        manifest "$MNT" >"$DIR/manifest.origin"
        umount_fs "$MNT"
        verify_origin

        show_store
        delete_snapshot s1
        # Chunks changed between s1 and s2 were held by s1 alone.
        ((DELETE_FREED > 0)) || fail "deleting s1 freed no data ($DELETE_FREED bytes)"
        verify_snapshot s2
        verify_origin

        detach "$LOOP"
        stop_front
        run_zumastor_check

        start_front
        attach_origin
        verify_snapshot s2
        verify_origin
        mount_fs "$LOOP" "$MNT"
        modify_3
        manifest "$MNT" >"$DIR/manifest.origin"
        umount_fs "$MNT"
        blockdev --flushbufs "$LOOP"
        detach "$LOOP"
        kill_front
        run_zumastor_check

        start_front
        attach_origin
        verify_snapshot s2
        verify_origin
        detach "$LOOP"
        stop_front
        run_zumastor_check
        step "done"
}

# The two loop modes send the frontend differently shaped requests.
run_fs ext4 64 16384 on
# mkfs.xfs (6.x) refuses file systems under 300 MiB; the file is sparse.
run_fs xfs 320 4096 off
FS=-
step "all passed"
