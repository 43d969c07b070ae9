#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# test-e2e-crash.sh: kill -9 of zuma-snapshotd under acknowledged writes.
#
# One volume on loop devices, served by the FUSE frontend.  Each round:
#
#   - zeroes the stamp region of the origin (durably), takes a writable
#     snapshot of it (scratch-rN);
#   - starts zuma-stamp writers on /dev/zumastor/VOL and on the writable
#     snapshot's device (O_DIRECT | O_DSYNC; each logs only acknowledged
#     writes), a churn writer (plain O_DIRECT dd, unverified) on another
#     region of the origin, and a loop that takes snapshots with zumactl and
#     records those whose `zumactl snapshot` returned 0 together with the
#     origin log's length just before the command and just after it returned;
#   - kills the daemon with SIGKILL while all of that runs, at a time drawn
#     from the seed and counted from the round's first acknowledged snapshot
#     (see the round kinds below);
#   - requires every writer to end with a failed write (zuma-stamp exit 3)
#     instead of hanging on the loop device of the dead FUSE mount;
#   - runs zumastor-check on the store and origin with the daemon down;
#   - restarts the daemon, which starts the volume again from its state;
#   - requires every acknowledged snapshot to be listed, and every snapshot
#     the daemon logged as created, and no snapshot that was never asked for;
#   - verifies the origin and the writable snapshot against their logs, and
#     snapshots against the origin log: every write acknowledged before
#     `zumactl snapshot` began is in the snapshot, and nothing written after
#     it returned is (zuma-stamp verify-range, see check_image);
#   - shows that this verification can fail: against the log under another
#     seed, and once a block of the origin is damaged (check_catches);
#   - keeps one verified snapshot per round and verifies the kept snapshots
#     of earlier rounds again after every later crash (their chunks were
#     copied out while the later rounds wrote).
#
# Rounds cycle through three kinds: "writes" (the kill lands among writes and
# snapshots), "snapshot" (a seeded delay after launching one more snapshot,
# so that the kill lands before, in or after its creation) and "committed"
# (as soon as the daemon logs that snapshot as created, usually before it
# answered).  Only exit status 0 of `zumactl snapshot` counts as an
# acknowledgement; a snapshot whose creation was cut short may or may not be
# there, but must check like the others if it is.
#
# The seed is printed; ZUMA_TEST_SEED=N replays the same kill times and write
# patterns (timing still varies, so the crash point is only roughly the
# same).  ZUMA_TEST_ROUNDS sets the number of rounds (default 3).  No timing
# is asserted.  A kill -9 is a process crash, not a power cut: what the
# daemon wrote to its devices survives it in the page cache; the library's
# power-cut tests cover lost device caches.

set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=e2e-lib.sh
. "$(dirname "$(realpath "$0")")/e2e-lib.sh"

: "${ZUMA_STAMP:=$ZUMA_BUILD_DIR/tests/e2e/zuma-stamp}"
: "${ZUMASTOR_CHECK:=$ZUMA_BUILD_DIR/snapstore/zumastor-check}"
ROUNDS=${ZUMA_TEST_ROUNDS:-3}
SEED=${ZUMA_TEST_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}

VOL=crash
BLOCK=4096
# The stamp region: origin blocks [0, 128), 512 KiB, 32 chunks of the default
# 16 KiB; small enough that blocks are written again and again.
STAMP_BLOCKS=128
CHURN_SEEK_MIB=8 # the churn region: origin MiB [8, 16)
CHURN_MIB=8

round=0
BACKGROUND=() # pids of this round's writers and loops

fail() {
        e2e_fail "$* (seed $SEED, round $round; replay with ZUMA_TEST_SEED=$SEED)"
}

sleep_ms() {
        sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"
}

log_lines() {
        wc -l <"$1"
}

# wait_gone PID WHAT SECONDS: PID must end before the deadline; returns its
# exit status.
wait_gone() {
        local status=0

        zuma_test_wait_exit "$1" "$3" || status=$?
        if [ $status = 124 ]; then
                echo "--- /proc/$1/stack:" >&2
                cat "/proc/$1/stack" >&2 2>/dev/null || true
                kill -KILL "$1" 2>/dev/null || true
                fail "$2 (pid $1) still runs $3 s after the daemon was killed"
        fi
        return $status
}

# check_image WHAT DEV LOG LO HI SLACK
#
# DEV holds, in the stamp region, what the writer of LOG wrote up to some
# point, starting from zeroes (zuma-stamp verify-range):
#   - every write acknowledged in the first LO lines of LOG is there, or a
#     later generation of its block;
#   - every stamped block is intact and the writer's own (its seed), and is
#     no newer than the last generation of its block in the first HI lines
#     of LOG, except for at most SLACK blocks one generation newer (a write
#     in flight when the daemon died, whose acknowledgement never came);
#   - every block that is not stamped is all zeroes.
# Lines after HI were written after the image was fixed (for a snapshot, HI
# is the log's length when `zumactl snapshot` returned, plus the one write
# that may have been in flight then), so none of them may show.
check_image() {
        local what=$1 dev=$2 log=$3 lo=$4 hi=$5 slack=$6 out status=0

        out=$("$ZUMA_STAMP" verify-range "$dev" "$log" "$lo" "$hi" "$slack" 2>&1) || status=$?
        if [ $status != 0 ]; then
                printf '%s\n' "$out" | head -n 40 >&2
                case $status in
                1) fail "$what ($dev): acknowledged writes are missing or the image holds data it must not" ;;
                *) fail "$what ($dev): zuma-stamp verify-range exit $status" ;;
                esac
        fi
        echo "   $what: ${out#"zuma-stamp: $dev: "}"
}

# check_catches DEV LOG: the checks above can fail.  zuma-stamp must reject
# DEV (the origin, just verified against LOG) against LOG under another seed,
# and DEV once the block of LOG's last write is damaged.  The damage stays in
# this round: the next one zeroes the stamp region again, and the snapshots
# keep what they had (copy-out).
check_catches() {
        local dev=$1 log=$2 tmp=$ZUMA_TEST_DIR/catch lines block mode out status

        lines=$(log_lines "$log")
        if [ "$lines" -lt 2 ]; then
                echo "   (no write acknowledged on the origin: nothing to damage)"
                return 0
        fi
        # Another seed: "1" put in front of it.
        sed '1s/ seed / seed 1/' "$log" >"$tmp.log"
        status=0
        out=$("$ZUMA_STAMP" verify-range "$dev" "$tmp.log" "$lines" "$lines" 1 2>&1) || status=$?
        [ $status = 1 ] ||
                fail "zuma-stamp verify-range exit $status, not 1, with the wrong seed: $out"
        echo "   another seed: verify-range exit 1: $(head -n 1 <<<"$out")"

        # 8 bytes of the block's filler, written back with direct I/O.
        block=$(tail -n 1 "$log" | cut -d ' ' -f 1)
        dd if="$dev" of="$tmp.block" bs=$BLOCK skip="$block" count=1 iflag=direct status=none ||
                fail "cannot read block $block of $dev"
        printf 'DAMAGED!' | dd of="$tmp.block" bs=1 seek=2048 conv=notrunc status=none
        dd if="$tmp.block" of="$dev" bs=$BLOCK seek="$block" count=1 oflag=direct conv=fsync \
                status=none || fail "cannot write block $block of $dev"
        for mode in verify verify-range; do
                status=0
                if [ $mode = verify ]; then
                        out=$("$ZUMA_STAMP" verify "$dev" "$log" 2>&1) || status=$?
                else
                        out=$("$ZUMA_STAMP" verify-range "$dev" "$log" "$lines" "$lines" 1 2>&1) ||
                                status=$?
                fi
                if [ $status != 1 ] || ! grep -q "block $block: .* differs at byte 2048" <<<"$out"; then
                        fail "zuma-stamp $mode exit $status on block $block damaged: $out"
                fi
        done
        echo "   block $block damaged: verify and verify-range exit 1: $(head -n 1 <<<"$out")"
}

# Snapshot NAME -> "LOG LO AFTER [NOTE]": the origin's log of its round, its
# length before `zumactl snapshot` began and after it returned.
declare -A SNAP_CHECK=()
KEEPERS=()
SNAPSHOTS_CHECKED=0

# The writer has at most one write in flight: the one after line AFTER may
# have landed before the snapshot was made, and no later one.  When the log
# ends at AFTER, that write is the one the crash failed, which the log never
# names: it may show, one generation past its block's last logged one.
check_snapshot() {
        local name=$1 dev log lo after note slack=0

        read -r log lo after note <<<"${SNAP_CHECK[$name]}"
        [ "$(log_lines "$log")" -gt "$after" ] || slack=1
        dev=$(e2e_snapshot_device "$VOL" "$name")
        check_image "snapshot $name${note:+ ($note)}" "$dev" "$log" "$lo" $((after + 1)) $slack
        SNAPSHOTS_CHECKED=$((SNAPSHOTS_CHECKED + 1))
}

# The daemon logs "snapshot ID (NAME) created" once the store committed it.
logged_created() {
        grep -qF "($1) created" "$ZUMA_TEST_DIR/snapshotd.log"
}

# wait_created NAME DONE: until the daemon logs NAME created (or DONE, the
# file of its `zumactl snapshot`, shows that it ended).
wait_created() {
        local deadline=$((SECONDS + 60))

        until logged_created "$1" || [ -e "$2" ]; do
                [ $SECONDS -lt $deadline ] || fail "snapshot $1 was not created within 60 s"
                sleep 0.01
        done
}

# On the way out (a failure, an interrupt): the round's writers and loops
# end before the harness takes their devices and directory away.
crash_cleanup() {
        local status=$? pid dir=$ZUMA_TEST_DIR/round$round

        set +e
        [ ! -d "$dir" ] || touch "$dir/stop" "$dir/stop-snapshots"
        for pid in "${BACKGROUND[@]}"; do
                kill -TERM "$pid" 2>/dev/null
        done
        (exit "$status")
        e2e_cleanup
}

wait_running() {
        local deadline=$((SECONDS + 60)) state=

        while :; do
                state=$(timeout 60 "$ZUMACTL" --json status "$VOL" 2>/dev/null |
                        e2e_json 'd["state"]' 2>/dev/null) || true
                [ "$state" = running ] && return 0
                [ $SECONDS -lt $deadline ] ||
                        fail "volume $VOL is '$state' after the restart: $(timeout 60 "$ZUMACTL" status "$VOL" 2>&1)"
                sleep 0.2
        done
}

# snapshot_loop DIR: snapshots until DIR/stop-snapshots appears.
snapshot_loop() {
        local dir=$1 i=0 name lo hi rc

        while [ ! -e "$dir/stop-snapshots" ]; do
                i=$((i + 1))
                name=r$round-s$i
                lo=$(log_lines "$dir/origin.log")
                echo "$name" >>"$dir/snap-attempted"
                echo "$name $lo" >>"$dir/snap-started"
                rc=0
                timeout 60 "$ZUMACTL" snapshot "$VOL" "$name" >/dev/null 2>>"$dir/snap.err" || rc=$?
                if [ $rc = 0 ]; then
                        hi=$(log_lines "$dir/origin.log")
                        echo "$name $lo $hi" >>"$dir/snap-acked"
                elif [ ! -e "$dir/killed" ]; then
                        echo "$name $rc" >>"$dir/snap-unexpected"
                fi
                sleep 0.2
        done
}

churn_loop() {
        local dev=$1 dir=$2

        while [ ! -e "$dir/stop" ]; do
                dd if="$ZUMA_TEST_DIR/junk" of="$dev" bs=1M seek=$CHURN_SEEK_MIB count=$CHURN_MIB \
                        oflag=direct status=none 2>>"$dir/churn.err" || break
        done
}

# start_stamp NAME DEV SEED: a zuma-stamp writer, its pid in WRITER_PIDS.
declare -A WRITER_PIDS=()

start_stamp() {
        local name=$1 dev=$2 seed=$3 dir=$ZUMA_TEST_DIR/round$round

        # A bound of 120 s in case no write ever fails.
        "$ZUMA_STAMP" write "$dev" "$dir/$name.log" "$seed" "$STAMP_BLOCKS" 120 \
                2>"$dir/$name.err" &
        WRITER_PIDS[$name]=$!
        BACKGROUND+=($!)
}

run_round() {
        local kind dir=$ZUMA_TEST_DIR/round$round kill_ms crash_ms origin scratch scratch_dev deadline
        local name lo hi rc line snap_pid churn_pid w listed out status=0 keeper='' what
        local crash_name=r$round-crash
        local -a acked=() verify=() drop=()

        case $((round % 3)) in
        1) kind=writes ;;
        2) kind=snapshot ;;
        0) kind=committed ;;
        esac
        kill_ms=$((500 + RANDOM % 2500))
        crash_ms=$((RANDOM % 150))
        mkdir -p "$dir"
        case $kind in
        writes) what="$kill_ms ms after the first snapshot" ;;
        snapshot) what="$kill_ms ms after the first snapshot, $crash_ms ms into another" ;;
        committed) what="$kill_ms ms after the first snapshot, once another is logged as created" ;;
        esac
        e2e_step "round $round ($kind): kill $what"

        origin=$(e2e_volume_device "$VOL")
        dd if=/dev/zero of="$origin" bs=$((STAMP_BLOCKS * BLOCK)) count=1 oflag=direct conv=fsync \
                status=none || fail "cannot zero the stamp region of $origin"
        scratch=scratch-r$round
        e2e_zumactl snapshot "$VOL" "$scratch" --writable >/dev/null
        scratch_dev=$(e2e_snapshot_device "$VOL" "$scratch")

        WRITER_PIDS=()
        BACKGROUND=()
        start_stamp origin "$origin" $((SEED * 16 + round * 2))
        start_stamp scratch "$scratch_dev" $((SEED * 16 + round * 2 + 1))
        churn_loop "$origin" "$dir" &
        churn_pid=$!
        BACKGROUND+=($!)
        until [ -e "$dir/origin.log" ]; do
                zuma_test_alive "${WRITER_PIDS[origin]}" ||
                        fail "zuma-stamp on $origin: $(cat "$dir/origin.err")"
                sleep 0.05
        done
        touch "$dir/snap-acked" "$dir/snap-attempted" "$dir/snap-started"
        snapshot_loop "$dir" &
        snap_pid=$!
        BACKGROUND+=($!)

        # From the first acknowledged snapshot on, so that every round has
        # snapshots to check however slow the machine is.
        deadline=$((SECONDS + 120))
        until [ -s "$dir/snap-acked" ]; do
                [ ! -s "$dir/snap-unexpected" ] || break
                [ $SECONDS -lt $deadline ] || fail "no snapshot acknowledged in 120 s"
                sleep 0.05
        done
        sleep_ms $kill_ms
        for w in "${!WRITER_PIDS[@]}"; do
                zuma_test_alive "${WRITER_PIDS[$w]}" ||
                        fail "the $w writer ended before the crash: $(cat "$dir/$w.err")"
        done
        if [ $kind != writes ]; then
                touch "$dir/stop-snapshots"
                wait_gone $snap_pid "the snapshot loop" 60 || true
                lo=$(log_lines "$dir/origin.log")
                echo "$crash_name" >>"$dir/snap-attempted"
                echo "$crash_name $lo" >>"$dir/snap-started"
                (
                        rc=0
                        timeout 60 "$ZUMACTL" snapshot "$VOL" "$crash_name" >/dev/null \
                                2>"$dir/crash-snap.err" || rc=$?
                        echo "$rc $lo $(log_lines "$dir/origin.log")" >"$dir/crash-snap"
                ) &
                snap_pid=$!
                BACKGROUND+=($!)
                if [ $kind = snapshot ]; then
                        sleep_ms $crash_ms
                else
                        wait_created "$crash_name" "$dir/crash-snap"
                fi
        fi
        touch "$dir/killed"
        # Quiet: bash would report its background job "Killed" here.
        zuma_test_kill_daemon 2>/dev/null
        echo "   killed zuma-snapshotd; $(log_lines "$dir/origin.log") origin and" \
                "$(log_lines "$dir/scratch.log") scratch writes acknowledged so far"

        # The writers' loop devices sit on a dead FUSE mount: their writes
        # fail with EIO and they exit; the devices clear themselves (autoclear)
        # when the last of them closes.
        for w in "${!WRITER_PIDS[@]}"; do
                rc=0
                wait_gone "${WRITER_PIDS[$w]}" "the $w writer" 60 || rc=$?
                [ $rc = 3 ] ||
                        fail "the $w writer ended with exit $rc, not 3 (a failed write): $(cat "$dir/$w.err")"
        done
        touch "$dir/stop" "$dir/stop-snapshots"
        wait_gone $churn_pid "the churn writer" 60 || true
        wait_gone $snap_pid "the snapshot loop" 60 || true
        if [ -s "$dir/snap-unexpected" ]; then
                cat "$dir/snap.err" >&2
                fail "zumactl snapshot failed before the crash: $(cat "$dir/snap-unexpected")"
        fi
        while read -r name lo hi; do
                SNAP_CHECK[$name]="$dir/origin.log $lo $hi"
                acked+=("$name")
        done <"$dir/snap-acked"
        if [ $kind != writes ]; then
                read -r rc lo hi <"$dir/crash-snap"
                if [ "$rc" = 0 ]; then
                        SNAP_CHECK[$crash_name]="$dir/origin.log $lo $hi"
                        acked+=("$crash_name")
                fi
                echo "   the snapshot in flight: zumactl exit $rc$([ "$rc" = 0 ] ||
                        echo ": $(head -n 1 "$dir/crash-snap.err")")"
        fi
        echo "   ${#acked[@]} snapshots acknowledged, $(log_lines "$dir/snap-attempted") asked for"

        e2e_step "round $round: zumastor-check with the daemon down"
        out=$(timeout 600 "$ZUMASTOR_CHECK" --origin "$ORIGIN_LOOP" "$STORE_LOOP" 2>&1) || status=$?
        printf '   %s\n' "$out"
        [ $status = 0 ] || fail "zumastor-check found the store unclean after the crash (exit $status)"

        e2e_step "round $round: restart"
        zuma_test_start_daemon || fail "zuma-snapshotd does not start again after the crash"
        wait_running

        listed=$(e2e_zumactl list "$VOL")
        for name in "${KEEPERS[@]}" "$scratch" "${acked[@]}"; do
                grep -qxF "$name" <<<"$listed" ||
                        fail "acknowledged snapshot $name is gone after the crash; listed: $listed"
        done
        # Logged as created means committed: it stays even unacknowledged.
        while read -r name; do
                if logged_created "$name" && ! grep -qxF "$name" <<<"$listed"; then
                        fail "snapshot $name, committed before the crash, is gone; listed: $listed"
                fi
        done <"$dir/snap-attempted"
        while read -r name; do
                [ -n "$name" ] || continue
                if ! printf '%s\n' "${KEEPERS[@]}" "$scratch" | grep -qxF "$name" &&
                        ! grep -qxF "$name" "$dir/snap-attempted"; then
                        fail "snapshot $name, never asked for, is listed after the crash"
                fi
        done <<<"$listed"

        e2e_step "round $round: verify"
        origin=$(e2e_volume_device "$VOL")
        line=$(log_lines "$dir/origin.log")
        check_image origin "$origin" "$dir/origin.log" "$line" "$line" 1
        line=$(log_lines "$dir/scratch.log")
        check_image "writable snapshot $scratch" "$(e2e_snapshot_device "$VOL" "$scratch")" \
                "$dir/scratch.log" "$line" "$line" 1

        # The last acknowledged one and up to three more from the seed.
        if [ ${#acked[@]} -gt 0 ]; then
                keeper=${acked[-1]}
                verify=("$keeper")
                for _ in 1 2 3; do
                        verify+=("${acked[RANDOM % ${#acked[@]}]}")
                done
        fi
        # Unacknowledged ones that made it: made before the kill, when the
        # log had at most the lines it has now.
        while read -r name lo; do
                if [ -z "${SNAP_CHECK[$name]:-}" ] && grep -qxF "$name" <<<"$listed"; then
                        SNAP_CHECK[$name]="$dir/origin.log $lo $(log_lines "$dir/origin.log") unacknowledged"
                        verify+=("$name")
                fi
        done <"$dir/snap-started"
        for name in $(printf '%s\n' "${verify[@]}" | sort -u); do
                check_snapshot "$name"
        done
        for name in "${KEEPERS[@]}"; do
                check_snapshot "$name"
        done
        check_catches "$origin" "$dir/origin.log"

        # Keep one; the others go (their space is freed in the background,
        # where the next crash may find it).
        for name in $listed; do
                if [ "$name" != "$keeper" ] && grep -qxF "$name" "$dir/snap-attempted"; then
                        drop+=("$name")
                fi
        done
        drop+=("$scratch")
        e2e_zumactl delete "$VOL" "${drop[@]}" --force >/dev/null
        [ -z "$keeper" ] || KEEPERS+=("$keeper")
}

main() {
        local status=0 out

        [[ $SEED =~ ^[0-9]{1,10}$ ]] || e2e_fail "ZUMA_TEST_SEED must be a number below 10^10"
        [[ $ROUNDS =~ ^[1-9][0-9]?$ ]] || e2e_fail "ZUMA_TEST_ROUNDS must be a number from 1 to 99"
        e2e_init
        trap crash_cleanup EXIT
        [ -x "$ZUMA_STAMP" ] || zuma_test_skip "no zuma-stamp at $ZUMA_STAMP (build first)"
        [ -x "$ZUMASTOR_CHECK" ] || zuma_test_skip "no zumastor-check at $ZUMASTOR_CHECK"
        echo "seed $SEED (replay with ZUMA_TEST_SEED=$SEED), $ROUNDS rounds"
        RANDOM=$SEED

        ORIGIN_LOOP=$(zuma_test_loop_device origin 32M)
        STORE_LOOP=$(zuma_test_loop_device store 1G)
        head -c $((CHURN_MIB << 20)) /dev/urandom >"$ZUMA_TEST_DIR/junk"
        # refuse: a full store must fail writes, not drop acknowledged snapshots.
        e2e_zumactl define volume "$VOL" "$ORIGIN_LOOP" "$STORE_LOOP" --initialize \
                --full-policy refuse >/dev/null

        for round in $(seq 1 "$ROUNDS"); do
                run_round
        done

        [ $SNAPSHOTS_CHECKED -gt 0 ] ||
                fail "no snapshot was acknowledged in any round: no snapshot content was checked"
        e2e_step "clean stop, then zumastor-check"
        zuma_test_stop_daemon || fail "zuma-snapshotd did not stop cleanly after the crashes"
        out=$(timeout 600 "$ZUMASTOR_CHECK" --origin "$ORIGIN_LOOP" "$STORE_LOOP" 2>&1) || status=$?
        printf '   %s\n' "$out"
        [ $status = 0 ] || fail "zumastor-check after the clean stop (exit $status)"
        echo "PASS: $ROUNDS crashes, seed $SEED"
}

main "$@"
