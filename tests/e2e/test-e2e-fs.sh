#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# test-e2e-fs.sh: zuma-snapshotd and zumactl under real file systems, ext4
# and xfs, on loop devices, through the FUSE frontend and the udev names
# /dev/zumastor/VOL and /dev/zumastor/VOL@SNAP.  For each file system:
#
#   1. a seeded random tree of files (small to multi-MiB, directories) is
#      written and changed (overwrites, appends, deletions, renames) between
#      snapshots; each snapshot is taken with the origin frozen (fsfreeze),
#      and the sha256 manifest of the tree at that moment is recorded;
#   2. every snapshot passes e2fsck -fn / xfs_repair -n and, mounted
#      read-only, matches its manifest; the origin, remounted, matches too;
#   3. a writable snapshot takes changes; the origin and the other snapshots
#      do not see them;
#   4. a daemon restart keeps the volume running with its snapshots;
#   5. revert brings the origin back to an older snapshot's tree;
#   6. store full, policy autodelete: the oldest unpinned snapshots go, the
#      pinned one stays, the writer sees no error and its data is right;
#      policy refuse: the writer gets an error (ENOSPC on the device), no
#      snapshot is lost or damaged, and zumastor-check finds the store clean.
#
# The seed is printed; ZUMA_TEST_SEED=N replays a run.  Needs root, loop
# devices, /dev/fuse, dbus-daemon, python3, mkfs.ext4/e2fsck, mkfs.xfs/
# xfs_repair, fsfreeze, openssl; exits 77 (skip) without them.
# ZUMA_E2E_FS="ext4 xfs" (the default) chooses the file systems: the
# sanitizer pass of .ci/run takes ext4 alone, the same daemon paths at half
# the time.
set -euo pipefail

# shellcheck source=e2e-lib.sh
. "$(dirname "$(realpath "$0")")/e2e-lib.sh"

for tool in mkfs.ext4 e2fsck mkfs.xfs xfs_repair fsfreeze openssl blockdev; do
        command -v "$tool" >/dev/null || zuma_test_skip "$tool is not installed"
done
[ -x "${ZUMASTOR_CHECK:-}" ] || ZUMASTOR_CHECK=$ZUMA_BUILD_DIR/snapstore/zumastor-check
[ -x "$ZUMASTOR_CHECK" ] || zuma_test_skip "no zumastor-check at $ZUMASTOR_CHECK"

SEED=${ZUMA_TEST_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "seed: $SEED (replay with ZUMA_TEST_SEED=$SEED)"
RANDOM=$SEED
FILE_SERIAL=0
MIB=$((1024 * 1024))

step() { e2e_step "$@"; }
fail() { e2e_fail "$@"; }
zctl() { e2e_zumactl "$@"; }
zctl_closed() { e2e_zumactl_closed "$@"; }

# --- the seeded generator (runs in this shell only, so $RANDOM advances) ---

# rnd N: RND = a number in [0, N).
rnd() {
        RND=$((((RANDOM << 15) | RANDOM) % $1))
}

# random_size: RND = a file size: mostly small, some medium, a few MiB.
random_size() {
        rnd 100
        if [ $RND -lt 55 ]; then
                rnd 16384
        elif [ $RND -lt 90 ]; then
                rnd $((512 * 1024))
        else
                rnd $((3 * MIB))
                RND=$((RND + MIB))
        fi
}

# next_serial: a new FILE_SERIAL, in this shell (not in a pipeline's
# subshell, where the increment would be lost).
next_serial() {
        FILE_SERIAL=$((FILE_SERIAL + 1))
}

# random_bytes N: N bytes of the stream of the seed and FILE_SERIAL.
random_bytes() {
        local key

        key=$(printf '%s:%s' "$SEED" "$FILE_SERIAL" | sha256sum | cut -c1-32)
        head -c "$1" /dev/zero |
                openssl enc -aes-128-ctr -nosalt -K "$key" -iv 00000000000000000000000000000000
}

# list_tree DIR: sets FILES and DIRS (relative, sorted) of DIR.
list_tree() {
        mapfile -t FILES < <(cd "$1" && find . -path ./lost+found -prune -o -type f -print | LC_ALL=C sort)
        mapfile -t DIRS < <(cd "$1" && find . -path ./lost+found -prune -o -type d -print | LC_ALL=C sort)
}

new_file() {
        local dir=$1 parent

        rnd ${#DIRS[@]}
        parent=${DIRS[$RND]}
        random_size
        next_serial
        random_bytes $RND >"$dir/$parent/f$FILE_SERIAL"
}

# make_tree DIR NFILES: a fresh tree of directories and files.
make_tree() {
        local dir=$1 i

        mkdir -p "$dir/d0"
        for i in 1 2 3 4 5; do
                list_tree "$dir"
                rnd ${#DIRS[@]}
                mkdir -p "$dir/${DIRS[$RND]}/d$i"
        done
        list_tree "$dir"
        for ((i = 0; i < $2; i++)); do
                new_file "$dir"
        done
        next_serial
        random_bytes $((2 * MIB + 12345)) >"$dir/d0/big"
}

# mutate DIR NOPS: random overwrites, appends, truncations, deletions,
# renames, new files and directories.
mutate() {
        local dir=$1 i op file size target

        for ((i = 0; i < $2; i++)); do
                list_tree "$dir"
                [ ${#FILES[@]} -gt 4 ] || {
                        new_file "$dir"
                        continue
                }
                rnd ${#FILES[@]}
                file=$dir/${FILES[$RND]}
                rnd 8
                op=$RND
                case $op in
                0 | 1) # overwrite a range in place
                        size=$(stat -c %s "$file")
                        rnd $((size + 1))
                        local off=$RND
                        random_size
                        next_serial
                        random_bytes $RND | dd of="$file" bs=64K seek="$off" oflag=seek_bytes \
                                conv=notrunc status=none
                        ;;
                2) # append
                        random_size
                        next_serial
                        random_bytes $RND >>"$file"
                        ;;
                3) # truncate and rewrite
                        random_size
                        next_serial
                        random_bytes $RND >"$file"
                        ;;
                4) # delete
                        rm -f "$file"
                        ;;
                5) # rename, maybe into another directory
                        rnd ${#DIRS[@]}
                        target=$dir/${DIRS[$RND]}/r$FILE_SERIAL-$i
                        FILE_SERIAL=$((FILE_SERIAL + 1))
                        mv "$file" "$target"
                        ;;
                6) # new file
                        new_file "$dir"
                        ;;
                7) # new directory with a file
                        rnd ${#DIRS[@]}
                        target=${DIRS[$RND]}/n$FILE_SERIAL-$i
                        mkdir -p "$dir/$target"
                        random_size
                        next_serial
                        random_bytes $RND >"$dir/$target/f$FILE_SERIAL"
                        ;;
                esac
        done
        # One multi-MiB rewrite per round.
        next_serial
        random_bytes $((MIB + RANDOM * 64)) >"$dir/d0/big"
}

# --- volumes, mounts, snapshots ---

# mount_dev DEV MNT FS MODE: MODE is origin, ro (a snapshot) or rw (a
# writable snapshot, while the origin with the same UUID is mounted).
mount_dev() {
        local dev=$1 mnt=$2 fs=$3 mode=$4 opts

        case $fs:$mode in
        ext4:origin | ext4:rw) opts=rw ;;
        ext4:ro) opts=ro,noload ;;
        xfs:origin) opts=rw ;;
        xfs:rw) opts=rw,nouuid ;;
        xfs:ro) opts=ro,nouuid,norecovery ;;
        esac
        mkdir -p "$mnt"
        mount -t "$fs" -o "$opts" "$dev" "$mnt" || fail "cannot mount $dev ($fs, $opts) on $mnt"
}

unmount() {
        umount "$1" || fail "cannot unmount $1"
}

mkfs_dev() {
        case $2 in
        ext4) mkfs.ext4 -q -F -E nodiscard,lazy_itable_init=0,lazy_journal_init=0 "$1" ;;
        xfs) mkfs.xfs -q -f -K "$1" ;;
        esac
}

# define_volume VOL ORIGIN_SIZE STORE_SIZE CHUNK [OPTIONS]: sets ORIGIN_LOOP
# and STORE_LOOP.
define_volume() {
        local vol=$1

        ORIGIN_LOOP=$(zuma_test_loop_device "$vol-origin" "$2")
        STORE_LOOP=$(zuma_test_loop_device "$vol-store" "$3")
        zctl define volume "$vol" "$ORIGIN_LOOP" "$STORE_LOOP" --initialize --chunk-size "$4" "${@:5}"
}

# snapshot VOL NAME MNT [OPTIONS]: manifest of the tree into
# $MANIFESTS/VOL@NAME, then the snapshot with MNT frozen.
snapshot() {
        local vol=$1 name=$2 mnt=$3 out

        sync -f "$mnt"
        e2e_manifest "$mnt" >"$MANIFESTS/$vol@$name"
        E2E_FROZEN=$mnt
        fsfreeze -f "$mnt" || fail "fsfreeze -f $mnt failed"
        out=$(timeout 120 "$ZUMACTL" snapshot "$vol" "$name" "${@:4}" 2>&1) || {
                fsfreeze -u "$mnt"
                E2E_FROZEN=
                fail "zumactl snapshot $vol $name failed: $out"
        }
        fsfreeze -u "$mnt" || fail "fsfreeze -u $mnt failed"
        E2E_FROZEN=
        [ "$out" = "$name" ] || fail "zumactl snapshot $vol $name printed '$out', not the name"
}

# check_snapshot VOL SNAP FS [MANIFEST]: fsck, mount read-only, compare.
check_snapshot() {
        local vol=$1 snap=$2 fs=$3 want=${4:-$MANIFESTS/$1@$2} dev mnt

        dev=$(e2e_snapshot_device "$vol" "$snap")
        [ "$(blockdev --getro "$dev")" = 1 ] || fail "$dev (snapshot $snap) is not read-only"
        e2e_fsck "$dev" "$fs"
        mnt=$ZUMA_TEST_DIR/mnt/$vol@$snap
        mount_dev "$dev" "$mnt" "$fs" ro
        e2e_manifest "$mnt" >"$MANIFESTS/found"
        unmount "$mnt"
        e2e_same_manifest "$want" "$MANIFESTS/found" "snapshot $vol@$snap ($dev)"
}

# check_origin VOL MNT FS MANIFEST: the mounted origin, remounted so the
# tree is read from the device, matches MANIFEST.
check_origin() {
        local vol=$1 mnt=$2 fs=$3 want=$4 dev

        dev=$(e2e_volume_device "$vol")
        if mountpoint -q "$mnt"; then
                unmount "$mnt"
        fi
        e2e_fsck "$dev" "$fs"
        mount_dev "$dev" "$mnt" "$fs" origin
        e2e_manifest "$mnt" >"$MANIFESTS/found"
        e2e_same_manifest "$want" "$MANIFESTS/found" "origin of $vol ($dev)"
}

list_snapshots() {
        zctl --json list "$1" | e2e_json 'sorted(d)'
}

volume_field() {
        zctl --json status "$1" | e2e_json "d[\"$2\"]"
}

# --- 1-5: snapshots, writable snapshot, restart, revert ---

test_snapshots() {
        local fs=$1 size=$2 chunk=$3 vol=${1}vol dev mnt snap

        step "$fs: volume $vol: origin $size, store 256M, chunk $chunk"
        define_volume "$vol" "$size" 256M "$chunk"
        [ "$(volume_field "$vol" state)" = running ] || fail "$vol is not running after define"
        dev=$(e2e_volume_device "$vol")
        mkfs_dev "$dev" "$fs"
        mnt=$ZUMA_TEST_DIR/mnt/$vol
        mount_dev "$dev" "$mnt" "$fs" origin

        step "$fs: tree of files, then s1"
        make_tree "$mnt" 40
        snapshot "$vol" s1 "$mnt"
        step "$fs: changes, s2"
        mutate "$mnt" 30
        snapshot "$vol" s2 "$mnt"
        step "$fs: changes, s3 (pinned)"
        mutate "$mnt" 30
        snapshot "$vol" s3 "$mnt" --pin
        step "$fs: changes after s3"
        mutate "$mnt" 30
        sync -f "$mnt"
        e2e_manifest "$mnt" >"$MANIFESTS/$vol"
        for snap in s1 s2 s3; do
                if cmp -s "$MANIFESTS/$vol" "$MANIFESTS/$vol@$snap"; then
                        fail "the changes after $snap changed nothing (generator broken?)"
                fi
        done

        step "$fs: each snapshot checks clean and matches its manifest; so does the origin"
        for snap in s1 s2 s3; do
                check_snapshot "$vol" "$snap" "$fs"
        done
        check_origin "$vol" "$mnt" "$fs" "$MANIFESTS/$vol"

        step "$fs: s2 writable, mounted read-write and changed"
        zctl_closed writable "$vol" s2 on
        # A read-only device stays read-only until attached again.
        zctl_closed detach "$vol" s2
        dev=$(e2e_snapshot_device "$vol" s2)
        [ "$(blockdev --getro "$dev")" = 0 ] || fail "$dev of writable snapshot s2 is read-only"
        mount_dev "$dev" "$ZUMA_TEST_DIR/mnt/$vol@s2" "$fs" rw
        mutate "$ZUMA_TEST_DIR/mnt/$vol@s2" 20
        sync -f "$ZUMA_TEST_DIR/mnt/$vol@s2"
        e2e_manifest "$ZUMA_TEST_DIR/mnt/$vol@s2" >"$MANIFESTS/$vol@s2"
        unmount "$ZUMA_TEST_DIR/mnt/$vol@s2"
        cmp -s "$MANIFESTS/$vol@s2" "$MANIFESTS/$vol" && fail "s2 changed into the origin's tree?"
        zctl_closed writable "$vol" s2 off
        step "$fs: s2 has its new content; the origin, s1 and s3 are unchanged"
        check_snapshot "$vol" s2 "$fs"
        check_snapshot "$vol" s1 "$fs"
        check_snapshot "$vol" s3 "$fs"
        check_origin "$vol" "$mnt" "$fs" "$MANIFESTS/$vol"

        step "$fs: daemon restart"
        unmount "$mnt"
        [ "$E2E_UDEV" = 0 ] || zuma_test_settle || true
        # shellcheck disable=SC2119 # the daemon takes no extra arguments here
        zuma_test_restart_daemon || fail "zuma-snapshotd did not restart"
        [ "$(volume_field "$vol" state)" = running ] || fail "$vol is not running after the restart"
        [ "$(list_snapshots "$vol" | tr '\n' ' ')" = "s1 s2 s3 " ] ||
                fail "snapshots of $vol after the restart: $(list_snapshots "$vol" | tr '\n' ' '), want s1 s2 s3"
        [ "$(zctl --json status "$vol" s3 | e2e_json 'd["pinned"]')" = True ] ||
                fail "s3 is no longer pinned after the restart"
        [ "$(zctl --json status "$vol" s2 | e2e_json 'd["writable"]')" = False ] ||
                fail "s2 is writable after the restart"
        check_origin "$vol" "$mnt" "$fs" "$MANIFESTS/$vol"
        for snap in s1 s2 s3; do
                check_snapshot "$vol" "$snap" "$fs"
        done

        step "$fs: revert to s1"
        unmount "$mnt"
        zctl_closed revert "$vol" s1
        [ "$(volume_field "$vol" state)" = running ] || fail "$vol is not running after the revert"
        check_origin "$vol" "$mnt" "$fs" "$MANIFESTS/$vol@s1"
        for snap in s1 s2 s3; do
                check_snapshot "$vol" "$snap" "$fs"
        done
        step "$fs: the reverted origin takes writes; s1 stays as it was"
        mutate "$mnt" 10
        sync -f "$mnt"
        e2e_manifest "$mnt" >"$MANIFESTS/$vol"
        check_origin "$vol" "$mnt" "$fs" "$MANIFESTS/$vol"
        check_snapshot "$vol" s1 "$fs"
        unmount "$mnt"
        zctl_closed stop "$vol"
}

# --- 6: a full store ---

# write_file PATH MIB: a file of MIB random MiB, flushed; fails the test on
# any error.
write_file() {
        local out

        next_serial
        out=$(random_bytes $(($2 * MIB)) | dd of="$1" bs=1M iflag=fullblock conv=fsync 2>&1) ||
                fail "writing $2 MiB to $1 failed: $out"
}

test_full_store() {
        local fs=$1 size=$2 vol=${1}full mnt dev snap gone=0 out status=0 used free
        local -a survivors=()

        # 40 MiB store: three unpinned snapshots hold ~8 MiB each, then 24 MiB
        # written after the pinned snapshot do not fit beside them, but fit
        # alone.
        step "$fs: volume $vol: origin $size, store 40M, policy autodelete"
        define_volume "$vol" "$size" 40M 16K
        [ "$(volume_field "$vol" full_policy)" = autodelete ] || fail "$vol: default policy is not autodelete"
        dev=$(e2e_volume_device "$vol")
        mkfs_dev "$dev" "$fs"
        mnt=$ZUMA_TEST_DIR/mnt/$vol
        mount_dev "$dev" "$mnt" "$fs" origin
        make_tree "$mnt" 10
        snapshot "$vol" a "$mnt"
        write_file "$mnt/after-a" 8
        snapshot "$vol" b "$mnt"
        write_file "$mnt/after-b" 8
        snapshot "$vol" c "$mnt"
        write_file "$mnt/after-c" 8
        snapshot "$vol" p "$mnt" --pin
        used=$(volume_field "$vol" store_used_percent)
        step "$fs: store ${used}% used; writing 24 MiB more"
        write_file "$mnt/after-p" 24
        e2e_manifest "$mnt" >"$MANIFESTS/$vol"

        mapfile -t survivors < <(list_snapshots "$vol")
        step "$fs: snapshots left: ${survivors[*]}"
        for snap in a b c; do
                printf '%s\n' "${survivors[@]}" | grep -qx "$snap" || gone=$((gone + 1))
        done
        [ $gone -gt 0 ] || fail "$vol: the store did not fill (no snapshot was auto-deleted); used $(volume_field "$vol" store_used_percent)%"
        # Oldest first: the deleted ones are the first $gone of a b c.
        local expect
        expect=$(printf '%s\n' a b c p | tail -n $((4 - gone)))
        [ "$(printf '%s\n' "${survivors[@]}")" = "$expect" ] ||
                fail "$vol: after autodelete the snapshots are '${survivors[*]}', want '$(echo "$expect" | tr '\n' ' ')' (oldest unpinned first, p pinned)"
        [ "$(volume_field "$vol" state)" = running ] || fail "$vol is not running after autodelete"
        if [ "$E2E_UDEV" = 1 ]; then
                for snap in $(printf '%s\n' a b c | head -n $gone); do
                        e2e_wait_gone "/dev/zumastor/$vol@$snap" ||
                                fail "/dev/zumastor/$vol@$snap is still there after $snap was auto-deleted"
                done
        fi
        step "$fs: the writer saw no error; the origin and the survivors are intact"
        check_origin "$vol" "$mnt" "$fs" "$MANIFESTS/$vol"
        for snap in "${survivors[@]}"; do
                check_snapshot "$vol" "$snap" "$fs"
        done

        step "$fs: policy refuse, snapshot r, then more than fits"
        zctl policy "$vol" refuse
        [ "$(zctl policy "$vol")" = refuse ] || fail "$vol: policy did not become refuse"
        snapshot "$vol" r "$mnt"
        survivors+=(r)
        free=$(volume_field "$vol" store_free_bytes)
        # The file system must have room for it all, or its own ENOSPC
        # would pass for the store's.
        [ "$(df --output=avail -B1 "$mnt" | tail -n 1)" -gt $((free + 16 * MIB)) ] ||
                fail "$vol: test setup: the file system has less room than $((free / MIB + 16)) MiB"
        next_serial
        out=$(random_bytes $((free + 8 * MIB)) |
                dd of="$mnt/too-much" bs=1M iflag=fullblock conv=fsync 2>&1) || status=$?
        [ $status != 0 ] || fail "$vol (refuse): writing $((free / MIB + 8)) MiB into a store with $((free / MIB)) MiB free succeeded"
        step "$fs: the writer got: $(echo "$out" | grep -v records | head -n 1)"
        umount "$mnt" 2>/dev/null || umount -l "$mnt"
        [ "$(volume_field "$vol" state)" = running ] || fail "$vol: a full store under refuse is not a failure, yet it is $(volume_field "$vol" state)"
        # The device reports the full store as ENOSPC (not EIO): a direct
        # overwrite of the whole origin stops at the first refused chunk.
        dev=$(e2e_volume_device "$vol")
        status=0
        out=$(dd if=/dev/zero of="$dev" bs=1M oflag=direct 2>&1) || status=$?
        [ $status != 0 ] || fail "$vol (refuse): overwriting the whole origin succeeded"
        echo "$out" | grep -q "No space left on device" ||
                fail "$vol (refuse): the origin write failed, but not with ENOSPC: $out"
        [ "$(printf '%s\n' "${survivors[@]}")" = "$(list_snapshots "$vol")" ] ||
                fail "$vol (refuse): snapshots now '$(list_snapshots "$vol" | tr '\n' ' ')', want '${survivors[*]}'"
        step "$fs: snapshots intact after the refused writes: ${survivors[*]}"
        for snap in "${survivors[@]}"; do
                check_snapshot "$vol" "$snap" "$fs"
        done
        step "$fs: zumastor-check on the stopped volume's store"
        zctl_closed stop "$vol"
        out=$("$ZUMASTOR_CHECK" --origin "$ORIGIN_LOOP" "$STORE_LOOP" 2>&1) ||
                fail "zumastor-check of $vol's store failed: $out"
}

e2e_init
MANIFESTS=$ZUMA_TEST_DIR/manifests
mkdir -p "$MANIFESTS"
FILE_SYSTEMS=${ZUMA_E2E_FS:-ext4 xfs}
for fs in $FILE_SYSTEMS; do
        case $fs in
        ext4) test_snapshots ext4 128M 16K ;;
        xfs) test_snapshots xfs 320M 64K ;;
        *) echo "ZUMA_E2E_FS: unknown file system '$fs' (ext4, xfs)" >&2 && exit 2 ;;
        esac
done
for fs in $FILE_SYSTEMS; do
        case $fs in
        ext4) test_full_store ext4 128M ;;
        xfs) test_full_store xfs 320M ;;
        esac
done
step "all passed (seed $SEED)"
