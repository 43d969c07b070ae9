#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# In-guest test of the zumastor dm target (kernel/) against the protocol
# stand-in tests/kernel/zuma-fake-server.c.  Runs as root on a kernel with
# device-mapper (the qemu guest of tests/vm/run-guest.sh; tests/kernel/README).
#
#   test-dm-zumastor.sh --module KO --server BIN [--fuzz SEED] [ORIGIN_DEV STORE_DEV]
#
# Without devices it makes two loop devices on files in a temp dir.  The
# devices are overwritten.  Prints "ok"/"not ok" per check and ends with
# "N passed, N failed"; exit 0 only if none failed and the kernel logged
# no BUG, WARNING, Oops or hung task.  --fuzz SEED (0: pick one, printed)
# runs the fuzz mode instead: the fake server sends malformed replies, the
# kernel must refuse every one and not oops.
set -u

MODULE= SERVER= FUZZ=
while [ $# -gt 0 ]; do
        case "$1" in
        --module) MODULE=$2; shift 2 ;;
        --server) SERVER=$2; shift 2 ;;
        --fuzz) FUZZ=$2; shift 2 ;;
        --) shift; break ;;
        -*) echo "unknown option $1" >&2; exit 2 ;;
        *) break ;;
        esac
done
[ -n "$MODULE" ] && [ -n "$SERVER" ] || { echo "usage: $0 --module KO --server BIN [--fuzz SEED] [ORIGIN STORE]" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 2; }

TAG=ktest
CHUNK=32                       # sectors: 16 KiB chunks
CHUNK_BYTES=$((CHUNK * 512))
LEN=$((64 * 2048))             # the targets map the first 64 MiB
TMP=$(mktemp -d /tmp/zuma-kernel-test.XXXXXX)
FIFO=$TMP/commands
LOG=$TMP/server.log
SERVER_PID=
LOOPS=()
PASSED=0 FAILED=0

log() { printf '%s\n' "$*"; }
ok() { PASSED=$((PASSED + 1)); log "ok - $* [${SECONDS}s]"; }
fail() { FAILED=$((FAILED + 1)); log "not ok - $* [${SECONDS}s]"; }
check() { # check DESCRIPTION COMMAND...
        local what=$1; shift
        if "$@"; then ok "$what"; else fail "$what"; fi
}

cleanup() {
        [ -n "$SERVER_PID" ] && kill -9 "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
        for d in zs1 zs2 zs3 zw1 zw4 zo; do dmsetup remove --noudevsync "$d" 2>/dev/null; done
        lsmod | grep -q '^dm_zumastor' && rmmod dm_zumastor 2>/dev/null
        for l in "${LOOPS[@]}"; do losetup -d "$l" 2>/dev/null; done
        rm -rf "$TMP"
}
trap cleanup EXIT

# wait_for FILE PATTERN [SECONDS]: poll FILE for an extended regex, with a deadline.
wait_for() {
        local i
        for ((i = 0; i < ${3:-60} * 10; i++)); do
                grep -Eq "$2" "$1" 2>/dev/null && return 0
                sleep 0.1
        done
        log "# timed out waiting for '$2' in $1:"; sed 's/^/#   /' "$1" >&2
        return 1
}

if [ $# -ge 2 ]; then
        ORIGIN=$1 STORE=$2
else
        truncate -s 128M "$TMP/origin.img" "$TMP/store.img"
        ORIGIN=$(losetup --find --show "$TMP/origin.img") && LOOPS+=("$ORIGIN")
        STORE=$(losetup --find --show "$TMP/store.img") && LOOPS+=("$STORE")
fi
mkfifo "$FIFO"

# pattern BYTE: one chunk of that byte on stdout.
pattern() { head -c "$CHUNK_BYTES" /dev/zero | tr '\0' "\\$(printf '%03o' "$1")"; }
# write_chunk DEV CHUNK BYTE, read_chunk DEV CHUNK: direct I/O of one chunk.
write_chunk() { pattern "$3" | dd of="$1" bs="$CHUNK_BYTES" seek="$2" count=1 iflag=fullblock oflag=direct conv=notrunc status=none; }
read_chunk() { dd if="$1" bs="$CHUNK_BYTES" skip="$2" count=1 iflag=direct status=none; }
# chunk_is DEV CHUNK BYTE: the chunk holds only that byte.  Files, not
# <(...): the guest's /dev may have no /dev/fd.
chunk_is() {
        [ -f "$TMP/pattern.$3" ] || pattern "$3" >"$TMP/pattern.$3"
        read_chunk "$1" "$2" >"$TMP/chunk" && cmp -s "$TMP/chunk" "$TMP/pattern.$3"
}

start_server() { # start_server [ARGS...]
        : >"$LOG"
        "$SERVER" --tag "$TAG" --origin "$ORIGIN" --store "$STORE" --chunk-sectors "$CHUNK" \
                --state "$TMP/state" --commands "$FIFO" "$@" >>"$LOG" 2>&1 &
        SERVER_PID=$!
        wait_for "$LOG" '^serving'
}
kill_server() {
        kill -9 "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=
}
command() { echo "$1" >"$FIFO"; }
snapshot() { # snapshot N: take snapshot N through the server
        command snapshot && wait_for "$LOG" "^snapshot $1 created"
}
origin_target() {
        echo "0 $LEN zumastor origin $ORIGIN $STORE $CHUNK $TAG" | dmsetup create --noudevsync zo &&
                dmsetup mknodes zo
}
snapshot_target() { # snapshot_target N [NAME]: /dev/mapper/NAME (zsN)
        echo "0 $LEN zumastor snapshot $ORIGIN $STORE $CHUNK $TAG $1" |
                dmsetup create --noudevsync --readonly "${2:-zs$1}" && dmsetup mknodes "${2:-zs$1}"
}
# status_field DEV N: field N of the target's dmsetup status (4 = session,
# 5 pending, 6 held, 7 cached maps, 8 timed out, 9 refused, 10 epoch)
status_field() { dmsetup status "$1" | awk -v n="$2" '{ print $n }'; }
wait_held() { # wait_held DEV: until a bio is held, with a deadline
        local i
        for ((i = 0; i < 600; i++)); do
                [ "$(status_field "$1" 6)" -ge 1 ] && return 0
                sleep 0.1
        done
        return 1
}
kernel_clean() {
        ! dmesg | grep -E 'BUG:|WARNING:|Oops|general protection|Call Trace|UBSAN|KASAN|INFO: task .* blocked'
}

dmesg -C 2>/dev/null
dd if=/dev/zero of="$STORE" bs=1M count=8 oflag=direct status=none
for c in 0 1 2 3 10 20 30 40 50 60; do write_chunk "$ORIGIN" $c 0xaa; done

if [ -n "$FUZZ" ]; then
        check "insmod with timeout=2" insmod "$MODULE" timeout=2
        start_server --fuzz "$FUZZ" || exit 1
        check "origin target created" origin_target
        # Two rounds of a snapshot and 8 origin writes and reads, then 8
        # snapshot reads and writable-snapshot writes: about 60 queries, each
        # fuzzed, under TCG about a minute (mostly the 2 s timeouts).
        for round in 1 2; do
                snapshot $round || fail "snapshot $round under fuzz"
                for i in $(seq 1 8); do
                        c=$(( (RANDOM % 64) ))
                        write_chunk /dev/mapper/zo $c $(( (RANDOM % 200) + 1 )) 2>/dev/null
                        read_chunk /dev/mapper/zo $c >/dev/null 2>&1
                done
                if [ $round = 1 ]; then
                        check "snapshot target created" snapshot_target 1
                        check "writable snapshot target created" \
                                bash -c "echo '0 $LEN zumastor snapshot $ORIGIN $STORE $CHUNK $TAG 1' | dmsetup create --noudevsync zw1 && dmsetup mknodes zw1"
                fi
                for i in $(seq 1 8); do
                        read_chunk /dev/mapper/zs1 $(( RANDOM % 64 )) >/dev/null 2>&1
                        write_chunk /dev/mapper/zw1 $(( RANDOM % 64 )) $(( (RANDOM % 200) + 1 )) 2>/dev/null
                        read_chunk /dev/mapper/zw1 $(( RANDOM % 64 )) >/dev/null 2>&1
                done
        done
        command quit
        wait "$SERVER_PID"; rc=$?; SERVER_PID=
        cat "$LOG" | grep -E '^fuzz|accepted a bad'
        check "the kernel refused every bad message (server exit $rc)" test "$rc" = 0
        log "# kernel log: $(dmesg | grep -c 'refused a server message') refusals logged (ratelimited)"
        check "snapshot target removed" dmsetup remove --noudevsync zs1
        check "writable snapshot target removed" dmsetup remove --noudevsync zw1
        check "origin target removed" dmsetup remove --noudevsync zo
        check "rmmod" rmmod dm_zumastor
        check "no BUG, WARNING, Oops or hung task in the kernel log" kernel_clean
        log "$PASSED passed, $FAILED failed"
        [ "$FAILED" = 0 ]
        exit
fi

check "insmod" insmod "$MODULE" timeout=600
check "/dev/zumastor-control exists" test -c /dev/zumastor-control
start_server || exit 1
check "origin target created" origin_target

# No snapshot yet: writes pass (the server answers WRITE_OK, no copy-out).
write_chunk /dev/mapper/zo 0 0xbb
check "origin write lands on the origin device" chunk_is "$ORIGIN" 0 0xbb
check "origin read through the target" chunk_is /dev/mapper/zo 0 0xbb

check "snapshot 1 taken through a barrier" snapshot 1
check "snapshot target created (read-only)" snapshot_target 1
check "snapshot reads the origin where nothing changed" chunk_is /dev/mapper/zs1 10 0xaa

for c in 0 1 2 3; do write_chunk /dev/mapper/zo $c 0xcc; done
# Concurrency: 8 writers, each its own 4 chunks (100 + 4p ...) and its own
# 4 KiB block of the shared chunks 140-141, so several bios wait on one
# request.  byte_of P ROUND is writer P's byte in that round.  Few processes
# per I/O: under TCG every fork counts.
byte_of() { printf '0x%02x' $(( 0x40 + $2 * 16 + $1 )); }
pattern_file() { # pattern_file BYTE: prints the path of a chunk of BYTE
        [ -f "$TMP/pattern.$1" ] || pattern "$1" >"$TMP/pattern.$1"
        echo "$TMP/pattern.$1"
}
writers_round() { # writers_round ROUND
        local p pids=() ret=0 f
        for p in 0 1 2 3 4 5 6 7; do
                f=$(pattern_file "$(byte_of $p $1)")
                [ -f "$f.4" ] || cat "$f" "$f" "$f" "$f" >"$f.4"
                (
                        dd if="$f.4" of=/dev/mapper/zo bs="$CHUNK_BYTES" seek=$((100 + 4 * p)) count=4 \
                                oflag=direct conv=notrunc status=none &&
                                dd if="$f" of=/dev/mapper/zo bs=4096 seek=$((140 * 4 + p)) count=1 \
                                        oflag=direct conv=notrunc status=none
                ) &
                pids+=($!)
        done
        # Not a bare `wait`: the server is a child of this shell too.
        for p in "${pids[@]}"; do wait "$p" || ret=1; done
        return $ret
}
expect_round() { # expect_round ROUND: the image of chunks 100-141 after it
        local p c
        {
                for p in 0 1 2 3 4 5 6 7; do
                        for c in 0 1 2 3; do cat "$(pattern_file "$(byte_of $p $1)")"; done
                done
                head -c $((8 * CHUNK_BYTES)) /dev/zero
                for p in 0 1 2 3 4 5 6 7; do head -c 4096 "$(pattern_file "$(byte_of $p $1)")"; done
        } >"$TMP/round.$1"
}
round_is() { # round_is DEV ROUND: DEV holds what writers_round ROUND wrote
        local out=$TMP/round.read.$BASHPID # this shell's: a background reader runs it too

        dd if="$1" bs="$CHUNK_BYTES" skip=100 count=42 iflag=direct status=none >"$out" &&
                cmp -s "$out" "$TMP/round.$2"
}
# 4 KiB blocks: write_block DEV BLOCK BYTE, block_is DEV BLOCK BYTE
write_block() {
        dd if="$(pattern_file "$3")" of="$1" bs=4096 seek="$2" count=1 oflag=direct conv=notrunc status=none
}
block_is() {
        local f=$(pattern_file "$3")
        [ -f "$f.block" ] || head -c 4096 "$f" >"$f.block"
        dd if="$1" bs=4096 skip="$2" count=1 iflag=direct status=none >"$TMP/block" &&
                cmp -s "$TMP/block" "$f.block"
}
all_chunks_are() { # all_chunks_are DEV BYTE CHUNK...
        local dev=$1 byte=$2 c; shift 2
        for c in "$@"; do chunk_is "$dev" "$c" "$byte" || return 1; done
}
check "new data on the origin" all_chunks_are /dev/mapper/zo 0xcc 0 1 2 3
check "snapshot keeps the data of its time (chunk 0)" chunk_is /dev/mapper/zs1 0 0xbb
check "snapshot keeps the data of its time (chunks 1-3)" all_chunks_are /dev/mapper/zs1 0xaa 1 2 3
write_chunk /dev/mapper/zo 0 0xcd
check "a rewrite of a copied-out chunk passes" chunk_is "$ORIGIN" 0 0xcd
check "and the snapshot keeps its copy" chunk_is /dev/mapper/zs1 0 0xbb

# A cached "origin" map must be dropped when the chunk is copied out.
check "snapshot reads chunk 20 from the origin" chunk_is /dev/mapper/zs1 20 0xaa
write_chunk /dev/mapper/zo 20 0xdd
check "after the write, the snapshot reads its copy of chunk 20" chunk_is /dev/mapper/zs1 20 0xaa
check "and the origin the new data" chunk_is "$ORIGIN" 20 0xdd

# A held write must not reach the origin before WRITE_OK.  The timeout
# parameter is long except while the timeout itself is tested: the deadline
# of a request is fixed when it is made.
set_timeout() { echo "$1" >/sys/module/dm_zumastor/parameters/timeout; }
set_timeout 600
command hold
write_chunk /dev/mapper/zo 30 0xee & DD=$!
wait_for "$LOG" '^held 30$'
check "a held write is not on the origin device before WRITE_OK" chunk_is "$ORIGIN" 30 0xaa
command release
wait $DD; check "the held write completes after WRITE_OK" test $? = 0
check "the released write is on the origin" chunk_is "$ORIGIN" 30 0xee
check "the snapshot kept chunk 30" chunk_is /dev/mapper/zs1 30 0xaa

# The server dies during a write: the write fails with EIO after the timeout.
set_timeout 3
command hold
write_chunk /dev/mapper/zo 40 0x11 2>"$TMP/dd40.err" & DD=$!
wait_for "$LOG" '^held 40$'
kill_server
wait $DD; rc=$?
check "with the server dead, the write fails (dd exit $rc)" test $rc != 0
check "and fails with EIO" grep -q 'Input/output error' "$TMP/dd40.err"
check "the failed write did not reach the origin" chunk_is "$ORIGIN" 40 0xaa
check "dmsetup status counts the timeout" bash -c "dmsetup status zo | awk '{ exit !(\$4 == \"disconnected\" && \$8 >= 1) }'"

# A restarted server gets the unanswered request again and resumes.
set_timeout 600
start_server --hold
write_chunk /dev/mapper/zo 50 0x22 & DD=$!
wait_for "$LOG" '^held 50$'
kill_server
check "the write still waits without a server" chunk_is "$ORIGIN" 50 0xaa
start_server
wait_for "$LOG" 'pending'
wait $DD; check "after the restart the waiting write completes" test $? = 0
check "the resumed write is on the origin" chunk_is "$ORIGIN" 50 0x22
check "the snapshot kept chunk 50 (copied out by the new server)" chunk_is /dev/mapper/zs1 50 0xaa
check "the snapshot still reads earlier copies" chunk_is /dev/mapper/zs1 0 0xbb
check "a second session for the same tag is refused" \
        bash -c "! '$SERVER' --tag $TAG --origin $ORIGIN --store $STORE --chunk-sectors $CHUNK 2>/dev/null"

check "snapshot 2 taken" snapshot 2
check "snapshot 2 target created" snapshot_target 2
write_chunk /dev/mapper/zo 0 0xef
check "after snapshot 2 a rewrite copies out again: snapshot 2 has the data of its time" \
        chunk_is /dev/mapper/zs2 0 0xcd
check "and snapshot 1 is unchanged" chunk_is /dev/mapper/zs1 0 0xbb
check "and the origin has the new data" chunk_is /dev/mapper/zo 0 0xef
check "no message refused" bash -c "dmsetup status zo | awk '{ exit !(\$4 == \"connected\" && \$9 == 0) }'"

# Delete: the snapshot's target goes first, then the barrier.
check "snapshot 1 target removed" dmsetup remove --noudevsync zs1
command "delete 1"
check "snapshot 1 deleted through a barrier" wait_for "$LOG" '^snapshot 1 deleted'
check "snapshot 2 still reads its copies" chunk_is /dev/mapper/zs2 0 0xcd
check "and the origin where it shares it" chunk_is /dev/mapper/zs2 30 0xee

# A server that dies inside a barrier: held I/O resumes (caches dropped).
command begin
wait_for "$LOG" '^barrier ready'
read_chunk /dev/mapper/zo 30 >"$TMP/read30" & DD=$!
check "a read waits during the barrier" wait_held zo
kill_server
wait $DD; check "after the server died inside the barrier the read completes" test $? = 0
check "and reads the right data" cmp -s "$TMP/read30" "$TMP/pattern.0xee"
start_server
check "the barrier ended by itself: snapshot 2 reads as before" chunk_is /dev/mapper/zs2 0 0xcd
check "and writes pass again" write_chunk /dev/mapper/zo 60 0x33
check "the write is on the origin" chunk_is "$ORIGIN" 60 0x33
check "snapshot 2 kept chunk 60" chunk_is /dev/mapper/zs2 60 0xaa

# Concurrent writers, a snapshot, concurrent writers and snapshot readers.
expect_round 1; expect_round 2
check "8 concurrent writers complete" writers_round 1
check "and the origin has every write" round_is /dev/mapper/zo 1
check "snapshot 3 taken" snapshot 3
check "snapshot 3 target created" snapshot_target 3
( for i in 1 2; do round_is /dev/mapper/zs3 1 || exit 1; done ) & READERS=$!
check "8 concurrent writers again, with snapshot readers" writers_round 2
wait $READERS; check "snapshot 3 read right while the writers ran" test $? = 0
check "the origin has the second round" round_is /dev/mapper/zo 2
check "snapshot 3 has the first round" round_is /dev/mapper/zs3 1
check "snapshot 2 has neither" all_chunks_are /dev/mapper/zs2 0x00 100 120 131
check "no message refused, nothing timed out since" bash -c "dmsetup status zo | awk '{ exit !(\$9 == 0) }'"

# A writable snapshot: its writes go to private copies in the store.
check "snapshot 4 taken" snapshot 4
check "writable snapshot 4 target created (a read-write table)" \
        bash -c "echo '0 $LEN zumastor snapshot $ORIGIN $STORE $CHUNK $TAG 4' | dmsetup create --noudevsync zw4 && dmsetup mknodes zw4"
check "a 4 KiB write to the writable snapshot" write_block /dev/mapper/zw4 400 0x77
check "the snapshot has the write" block_is /dev/mapper/zw4 400 0x77
check "and the rest of the chunk as it was (private copy made first)" \
        bash -c "$(declare -f pattern pattern_file block_is); TMP=$TMP CHUNK_BYTES=$CHUNK_BYTES; for b in 401 402 403; do block_is /dev/mapper/zw4 \$b 0x60 || exit 1; done"
check "the origin is untouched" chunk_is "$ORIGIN" 100 0x60
check "snapshot 3 is untouched" chunk_is /dev/mapper/zs3 100 0x50
write_chunk /dev/mapper/zw4 101 0x78
check "a rewrite of the snapshot's own chunk, with fsync (a flush to both devices)" \
        dd if="$(pattern_file 0x7a)" of=/dev/mapper/zw4 bs="$CHUNK_BYTES" seek=101 count=1 \
        oflag=direct conv=notrunc,fsync status=none
check "lands in place" chunk_is /dev/mapper/zw4 101 0x7a
check "an fsync of the origin target" \
        dd if="$(pattern_file 0x7a)" of=/dev/mapper/zo bs="$CHUNK_BYTES" seek=102 count=1 \
        oflag=direct conv=notrunc,fsync status=none
check "the origin still has its data" chunk_is "$ORIGIN" 101 0x60
check "the writable snapshot kept chunk 102" chunk_is /dev/mapper/zw4 102 0x60
write_chunk /dev/mapper/zo 100 0x79
check "an origin write after it: the origin has it" chunk_is "$ORIGIN" 100 0x79
check "the writable snapshot keeps its own chunk" block_is /dev/mapper/zw4 400 0x77
check "no message refused with writable snapshots" bash -c "dmsetup status zo | awk '{ exit !(\$9 == 0) }'"

# Revert the origin to snapshot 3 through a REVERT barrier; the newer
# snapshot 4 keeps what it saw.
command "revert 3"
check "reverted to snapshot 3 through a barrier" wait_for "$LOG" '^reverted to 3'
check "the origin has snapshot 3's data again" round_is /dev/mapper/zo 1
check "and where snapshot 3 shared the origin, the origin as it was" chunk_is /dev/mapper/zo 0 0xef
check "snapshot 4 kept its own chunks" all_chunks_are /dev/mapper/zw4 0x7a 101
check "and what it shared with the origin before the revert" all_chunks_are /dev/mapper/zw4 0x62 108 109 110 111
check "writes after the revert" write_chunk /dev/mapper/zo 110 0x7b
check "reach the origin" chunk_is "$ORIGIN" 110 0x7b
check "and snapshot 3 still reads its data" chunk_is /dev/mapper/zs3 110 0x52
check "writable snapshot target removed" dmsetup remove --noudevsync zw4
check "snapshot 3 target removed" dmsetup remove --noudevsync zs3

check "snapshot 2 target removed" dmsetup remove --noudevsync zs2
check "origin target removed" dmsetup remove --noudevsync zo
command quit; wait "$SERVER_PID"; SERVER_PID=
check "rmmod" rmmod dm_zumastor
check "no BUG, WARNING, Oops or hung task in the kernel log" kernel_clean
log "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
