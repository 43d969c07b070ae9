#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# repl-bench.sh: replication between two hosts (issue 14, "Benchmarks"):
# bytes on the wire and wall time of sending the same changes from host a
# to host b, over the same veth link between two network namespaces
# (tests/e2e/e2e-hosts.sh), with
#
#   rsync     `rsync -a --no-whole-file --inplace` from a's ext4 (on a
#             Zumastor origin) to an rsync daemon on b writing into an ext4
#   btrfs     `btrfs send [-p PARENT] SNAP` on a, over one TCP connection,
#             into `btrfs receive` on b
#   zuma      the Zumastor hooks below, when defined: snapshots of a's
#             origin (taken with its ext4 frozen) replicated to b
#
# Each side starts from the same tree (full), then gets the same changes in
# turn (bench/repl-workloads.sh): 1pct (1% of the volume's 4 KiB blocks
# rewritten, in many small files), large (one large file rewritten), none.
# One JSON object per metric on stdout, in zuma-bench's format; progress on
# stderr.  Nothing is asserted; at the end b's trees are checked against
# a's (a mismatch fails the run).
#
# rsync talks to an rsync daemon rather than to sshd: no keys, host keys or
# sshd configuration to make, and no cipher in the way, so its bytes are
# rsync's protocol alone, as btrfs's are its stream alone (TLS would add a
# few percent to both, and to Zumastor's).
#
# Environment (bench/README.md): ZUMA_BENCH_QUICK, ZUMA_BENCH_SEED,
# ZUMA_BENCH_REPL_VOLUME_MB, ZUMA_REPL_HOOKS; from meson: ZUMA_BUILD_DIR,
# ZUMA_SOURCE_DIR, ZUMA_SNAPSHOTD, ZUMACTL.
set -euo pipefail
export LC_ALL=C

: "${ZUMA_SOURCE_DIR:=$(realpath "$(dirname "$(realpath "$0")")/..")}"
: "${ZUMA_BUILD_DIR:=${MESON_BUILD_ROOT:-$ZUMA_SOURCE_DIR/build}}"
export ZUMA_SOURCE_DIR ZUMA_BUILD_DIR

# ---------------------------------------------------------------------------
# Zumastor hooks (issue 14).  Define them here or in the file named by
# ZUMA_REPL_HOOKS (sourced); while zuma_replicate_full is not defined, only
# the baselines are measured.
#
#   zuma_replicate_prepare SRC VOL DST        optional, not timed: whatever b
#                                             needs before the first transfer
#   zuma_replicate_full SRC VOL SNAP DST      send snapshot SNAP whole
#   zuma_replicate_incremental SRC VOL FROM TO DST
#                                             send what changed from FROM to TO
#
# SRC and DST are host names (a, b): `host_zumactl SRC replicate ...`,
# `host_addr DST`; VOL is the volume on SRC, with ext4 mounted on its
# origin; the snapshots were taken with that ext4 frozen.  Each returns
# once DST holds the snapshot, non-zero on failure.  Both hosts run their
# own zuma-snapshotd; b has no volume until the hooks define one
# (`host_volume DST VOL SIZE`; $volume_mib is the origin's size in MiB).
#
# bench/repl-zuma.sh defines them (zuma-sendd and zuma-recvd over TLS) when
# the agents are built; a hook may set zuma_run_s, the run's own time, which
# is then the time reported.
# ---------------------------------------------------------------------------

if [ "${ZUMA_BENCH_QUICK:-0}" != 0 ]; then
        volume_mib=${ZUMA_BENCH_REPL_VOLUME_MB:-128}
else
        volume_mib=${ZUMA_BENCH_REPL_VOLUME_MB:-1024}
fi
seed=${ZUMA_BENCH_SEED:-$(date +%s)}
# btrfs keeps the old extents of a rewrite for the snapshot: room for two
# copies of the tree and its metadata.
btrfs_mib=$((volume_mib * 2 + 256))
volume=rvol
rsync_port=8730

BENCH_NAME=repl-bench
# shellcheck source-path=SCRIPTDIR source=bench-lib.sh
. "$ZUMA_SOURCE_DIR/bench/bench-lib.sh"
# shellcheck source-path=SCRIPTDIR source=repl-workloads.sh
. "$ZUMA_SOURCE_DIR/bench/repl-workloads.sh"
# shellcheck source-path=SCRIPTDIR source=../tests/e2e/e2e-lib.sh
. "$ZUMA_SOURCE_DIR/tests/e2e/e2e-lib.sh"
# shellcheck source-path=SCRIPTDIR source=../tests/e2e/e2e-hosts.sh
. "$ZUMA_SOURCE_DIR/tests/e2e/e2e-hosts.sh"

require_positive volume_mib seed
[ "$volume_mib" -ge 64 ] || die "ZUMA_BENCH_REPL_VOLUME_MB=$volume_mib: at least 64"
# The hooks of this tree (zuma-sendd and zuma-recvd over TLS, below) when
# the agents are built; ZUMA_REPL_HOOKS may still replace them.
: "${ZUMA_SENDD:=$ZUMA_BUILD_DIR/agents/sendd/zuma-sendd}"
: "${ZUMA_RECVD:=$ZUMA_BUILD_DIR/agents/recvd/zuma-recvd}"
: "${ZUMA_REPL_ZSTD_CHANGED:=$ZUMA_BUILD_DIR/bench/repl-zstd-changed}"
if [ -x "$ZUMA_SENDD" ] && [ -x "$ZUMA_RECVD" ] && [ -x "$ZUMA_REPL_ZSTD_CHANGED" ] &&
        command -v openssl >/dev/null; then
        # shellcheck source-path=SCRIPTDIR source=repl-zuma.sh
        . "$ZUMA_SOURCE_DIR/bench/repl-zuma.sh"
fi
if [ -n "${ZUMA_REPL_HOOKS:-}" ]; then
        # shellcheck disable=SC1090 # the lead's file
        . "$ZUMA_REPL_HOOKS"
fi

for tool in rsync btrfs mkfs.btrfs mkfs.ext4 fsfreeze unshare; do
        command -v "$tool" >/dev/null || zuma_test_skip "$tool is not installed"
done
[ -c /dev/fuse ] || zuma_test_skip "no /dev/fuse"
"$ZUMA_SNAPSHOTD" --help 2>&1 | grep "default auto" >/dev/null ||
        zuma_test_skip "zuma-snapshotd was built without the FUSE frontend"
grep -qw btrfs /proc/filesystems || modprobe btrfs 2>/dev/null ||
        zuma_test_skip "no btrfs in this kernel"
export ZUMA_TEST_FRONTEND=fuse

hosts_init
progress "seed $seed (ZUMA_BENCH_SEED), volume $volume_mib MiB, btrfs $btrfs_mib MiB"
hosts_setup 2
host_start a
host_start b
addr_b=$(host_addr b)
volume_bytes=$((volume_mib << 20))

# mount_new DIR DEV: mounts DEV at DIR (made).
mount_new() {
        mkdir -p "$1"
        mount "$2" "$1" || die "cannot mount $2 at $1"
}

# mkfs_btrfs DEV: mkfs.btrfs refuses to run when it cannot stat the backing
# file of a loop device some mount of the machine sits on (a stale mount
# over a dead FUSE server: "cannot check mount status ... Transport endpoint
# is not connected").  Then it runs again in a private mount namespace where
# the loop-device mounts other than ours are detached: only there, nothing
# of the machine's mount table changes.
mkfs_btrfs() {
        local err=$ZUMA_TEST_DIR/mkfs.btrfs.err

        mkfs.btrfs -q -f "$1" >/dev/null 2>"$err" && return 0
        grep -q "cannot check mount status" "$err" || die "mkfs.btrfs $1 failed: $(cat "$err")"
        progress "mkfs.btrfs: $(head -n 1 "$err"); retrying without the machine's other loop mounts"
        # shellcheck disable=SC2016 # expanded by the inner shell
        unshare -m --propagation private sh -c 'awk -v dir="$2/" \
                '"'"'$1 ~ /^\/dev\/loop/ && index($2, dir) != 1 { print $2 }'"'"' /proc/self/mounts |
                while read -r mnt; do umount -l "$mnt"; done
                exec mkfs.btrfs -q -f "$1"' sh "$1" "$ZUMA_TEST_DIR" >/dev/null ||
                die "mkfs.btrfs $1 failed"
}

# --- the four file systems ---

a_ext4=$(host_dir a)/mnt/ext4
a_btrfs=$(host_dir a)/mnt/btrfs
b_ext4=$(host_dir b)/mnt/ext4
b_btrfs=$(host_dir b)/mnt/btrfs
ext4_opts=(-q -F -E "nodiscard,lazy_itable_init=0,lazy_journal_init=0")

dev=$(host_volume a "$volume" "${volume_mib}M" "$((volume_mib * 2))M")
[ -b "$dev" ] || die "volume $volume has no origin device"
mkfs.ext4 "${ext4_opts[@]}" "$dev" || die "mkfs.ext4 $dev failed"
mount_new "$a_ext4" "$dev"
dev=$(host_loop_device a btrfs "${btrfs_mib}M")
mkfs_btrfs "$dev"
mount_new "$a_btrfs" "$dev"
btrfs -q subvolume create "$a_btrfs/data" >/dev/null
dev=$(host_loop_device b ext4 "${volume_mib}M")
mkfs.ext4 "${ext4_opts[@]}" "$dev" || die "mkfs.ext4 $dev failed"
mount_new "$b_ext4" "$dev"
dev=$(host_loop_device b btrfs "${btrfs_mib}M")
mkfs_btrfs "$dev"
mount_new "$b_btrfs" "$dev"
fs_note="seed $seed, origin $volume_mib MiB (ext4 on Zumastor on a, plain loop ext4 on b), btrfs $btrfs_mib MiB"

# --- rsync daemon on b ---

cat >"$(host_dir b)/rsyncd.conf" <<EOF
use chroot = no
pid file = $(host_dir b)/rsyncd.pid
[data]
        path = $b_ext4
        read only = no
        uid = root
        gid = root
EOF
host_exec b rsync --daemon --no-detach --config="$(host_dir b)/rsyncd.conf" \
        --address="$addr_b" --port=$rsync_port --log-file="$(host_dir b)/rsyncd.log" &
deadline=$((SECONDS + 20))
until host_exec a rsync "rsync://$addr_b:$rsync_port/" 2>/dev/null | grep -q '^data'; do
        [ $SECONDS -lt $deadline ] || die "the rsync daemon on b does not answer"
        sleep 0.1
done

# --- measuring ---

# measure_start: caches dropped on both sides (every transfer reads its
# source from the device), counters and clock read.
measure_start() {
        sync
        echo 3 >/proc/sys/vm/drop_caches
        tx0=$(host_tx_bytes a b)
        rx0=$(host_rx_bytes a b)
        t0=$(date +%s.%N)
}

# measure_end: wire_bytes (both directions), wire_split ("a->b N, b->a N"),
# wire_s.
measure_end() {
        local t1 tx rx

        t1=$(date +%s.%N)
        tx=$(($(host_tx_bytes a b) - tx0))
        rx=$(($(host_rx_bytes a b) - rx0))
        wire_bytes=$((tx + rx))
        wire_split="a->b $tx, b->a $rx"
        wire_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
}

# report KIND STAGE NOTE: the two metrics of one transfer, plus (for zuma)
# the ratios against rsync and btrfs.
declare -A measured
report() {
        local kind=$1 stage=$2 note=$3 base_bytes=null base_s=null

        measured[${kind}_bytes_$stage]=$wire_bytes
        measured[${kind}_s_$stage]=$wire_s
        if [ "$kind" = zuma_repl ]; then
                base_bytes=${measured[rsync_bytes_$stage]}
                base_s=${measured[rsync_s_$stage]}
                note="$note; baseline: rsync (btrfs send: ${measured[btrfs_send_bytes_$stage]} bytes, ${measured[btrfs_send_s_$stage]} s)"
        fi
        emit "${kind}_bytes_$stage" "$wire_bytes" bytes "$base_bytes" \
                "$note; bytes on the a-b veth, both directions ($wire_split); $fs_note"
        emit "${kind}_s_$stage" "$wire_s" s "$base_s" "$note; wall time, caches dropped first; $fs_note"
}

rsync_transfer() {
        local stage=$1

        measure_start
        host_exec a rsync -a --no-whole-file --inplace "$a_ext4/" \
                "rsync://$addr_b:$rsync_port/data/" || die "rsync ($stage) failed"
        measure_end
        report rsync "$stage" "rsync -a --no-whole-file --inplace to an rsync daemon ($stage)"
}

btrfs_port=8800
btrfs_transfer() {
        local stage=$1 snap=$2 parent=${3:-} recv_pid

        btrfs -q subvolume snapshot -r "$a_btrfs/data" "$a_btrfs/$snap" >/dev/null
        btrfs_port=$((btrfs_port + 1))
        {
                host_tcp_recv b $btrfs_port | btrfs receive -q "$b_btrfs"
        } &
        recv_pid=$!
        measure_start
        btrfs send -q ${parent:+-p "$a_btrfs/$parent"} "$a_btrfs/$snap" |
                host_tcp_send a "$addr_b" $btrfs_port || die "btrfs send ($stage) failed"
        wait "$recv_pid" || die "btrfs receive ($stage) failed"
        measure_end
        report btrfs_send "$stage" "btrfs send ${parent:+-p PARENT }SNAP | TCP | btrfs receive ($stage)"
}

# zuma_snapshot NAME: a snapshot of the origin with its ext4 frozen.
zuma_snapshot() {
        sync -f "$a_ext4"
        E2E_FROZEN=$a_ext4
        fsfreeze -f "$a_ext4"
        host_zumactl a snapshot "$volume" "$1" --no-attach >/dev/null ||
                die "snapshot $1 of $volume failed"
        fsfreeze -u "$a_ext4"
        E2E_FROZEN=
}

zuma=0
if declare -F zuma_replicate_full >/dev/null && declare -F zuma_replicate_incremental >/dev/null; then
        zuma=1
        progress "Zumastor hooks defined: measuring zumactl replicate too"
else
        progress "no Zumastor hooks (zuma_replicate_full, zuma_replicate_incremental): baselines only"
fi

# zuma_transfer STAGE SNAP [PARENT]: the hooks' run.  A hook that sets
# zuma_run_s (repl-zuma.sh: the sender's own time of the run) gives the
# time reported; zuma_run_outside_s (the same run seen from the script)
# goes in the note.
zuma_transfer() {
        local stage=$1 snap=$2 parent=${3:-} note

        [ $zuma = 1 ] || return 0
        zuma_snapshot "$snap"
        zuma_run_s=
        zuma_run_bytes=
        zuma_run_outside_s=
        measure_start
        if [ -z "$parent" ]; then
                zuma_replicate_full a "$volume" "$snap" b || die "zuma_replicate_full failed"
        else
                zuma_replicate_incremental a "$volume" "$parent" "$snap" b ||
                        die "zuma_replicate_incremental ($stage) failed"
        fi
        measure_end
        note="Zumastor replication of snapshot $snap${parent:+ from $parent} ($stage)"
        if [ -n "$zuma_run_s" ]; then
                note="$note, zuma-sendd to zuma-recvd over TLS; time: the sender's, Replicate to the job's end (${zuma_run_outside_s:-?} s from the script's gdbus call to the Finished signal; $wire_s s for the whole hook, bus look-ups included); the sender counted $zuma_run_bytes bytes of frames"
                wire_s=$zuma_run_s
                measured[zuma_frame_bytes_$stage]=$zuma_run_bytes
        fi
        report zuma_repl "$stage" "$note"
        if [ -n "$parent" ] && declare -F zuma_changed_baseline >/dev/null; then
                zuma_changed_baseline "$parent" "$snap"
                measured[zstd_changed_$stage]=$zuma_changed_zstd
                measured[changed_chunks_$stage]=$zuma_changed_count
                progress "$stage: $zuma_changed_count chunks of $zuma_chunk_size bytes differ, zstd -3 of them: $zuma_changed_zstd bytes"
        fi
}

# zuma_ratios STAGE SUFFIX: the issue's ratios for one workload (SUFFIX ""
# for 1pct, the workload the issue names them for).
zuma_ratios() {
        local stage=$1 suffix=$2 bytes s zstd

        bytes=${measured[zuma_repl_bytes_$stage]}
        s=${measured[zuma_repl_s_$stage]}
        if [ -z "$suffix" ]; then
                emit repl_bytes_ratio_vs_rsync "$(ratio "$bytes" "${measured[rsync_bytes_$stage]}")" ratio \
                        "${measured[rsync_bytes_$stage]}" \
                        "$stage: Zumastor wire bytes ($bytes) / rsync's (the baseline), a-b veth, both directions; goal <= 0.1; $fs_note"
        fi
        emit "repl_time_ratio_vs_rsync$suffix" "$(ratio "$s" "${measured[rsync_s_$stage]}")" ratio \
                "${measured[rsync_s_$stage]}" \
                "$stage: Zumastor run time ($s s) / rsync's (the baseline, s); $fs_note"
        emit "repl_time_ratio_vs_btrfs_send$suffix" "$(ratio "$s" "${measured[btrfs_send_s_$stage]}")" \
                ratio "${measured[btrfs_send_s_$stage]}" \
                "$stage: Zumastor run time ($s s) / btrfs send -p | TCP | btrfs receive's (the baseline, s); goal <= 1; $fs_note"
        zstd=${measured[zstd_changed_$stage]:-}
        [ -n "$zstd" ] || return 0
        emit "repl_bytes_ratio_vs_zstd_changed$suffix" "$(ratio "$bytes" "$zstd")" ratio "$zstd" \
                "$stage: Zumastor wire bytes ($bytes, TLS, TCP/IP headers and ACKs included) / zstd -3 of each of the ${measured[changed_chunks_$stage]} chunks that differ between the two snapshots, alone (the baseline, bytes); the sender's frames alone: ${measured[zuma_frame_bytes_$stage]:-?} bytes, ratio $(ratio "${measured[zuma_frame_bytes_$stage]:-nan}" "$zstd"); goal <= 1.05; $fs_note"
}

# --- the run ---

progress "setup: the tree on a's ext4 and btrfs"
repl_workload_setup "$a_ext4" "$volume_bytes" "$seed" >&2
repl_workload_setup "$a_btrfs/data" "$volume_bytes" "$seed" >/dev/null
progress "full: the whole tree"
rsync_transfer full
btrfs_transfer full snap-0
if [ $zuma = 1 ] && declare -F zuma_replicate_prepare >/dev/null; then
        zuma_replicate_prepare a "$volume" b || die "zuma_replicate_prepare failed"
fi
zuma_transfer full repl-0
n=0
for workload in $REPL_WORKLOADS; do
        n=$((n + 1))
        progress "$workload: the change, then each transfer"
        repl_workload_change "$a_ext4" "$workload" "$volume_bytes" "$seed" >&2
        repl_workload_change "$a_btrfs/data" "$workload" "$volume_bytes" "$seed" >/dev/null
        rsync_transfer "$workload"
        btrfs_transfer "$workload" "snap-$n" "snap-$((n - 1))"
        zuma_transfer "$workload" "repl-$n" "repl-$((n - 1))"
done

if [ $zuma = 1 ]; then
        zuma_ratios 1pct ""
        zuma_ratios large _large
        zuma_ratios none _none
        emit repl_zero_change_s "${measured[zuma_repl_s_none]}" s "${measured[btrfs_send_s_none]}" \
                "no change (none): Zumastor run time, Replicate to the job's end (${measured[zuma_repl_bytes_none]} wire bytes, ${measured[changed_chunks_none]:-?} chunks differ: ext4's own writes, e.g. atimes rsync's reads set); baseline: btrfs send -p's (s), rsync's ${measured[rsync_s_none]} s; goal <= 0.5 s at any volume size; $fs_note"
fi
if [ $zuma = 1 ] && declare -F zuma_resume_bench >/dev/null; then
        zuma_resume_bench repl-0
fi

progress "checking b's trees against a's"
e2e_manifest "$a_ext4" >"$ZUMA_TEST_DIR/want"
e2e_manifest "$b_ext4" >"$ZUMA_TEST_DIR/rsync-got"
e2e_same_manifest "$ZUMA_TEST_DIR/want" "$ZUMA_TEST_DIR/rsync-got" "b's rsync copy"
e2e_manifest "$b_btrfs/snap-$n" >"$ZUMA_TEST_DIR/btrfs-got"
e2e_same_manifest "$ZUMA_TEST_DIR/want" "$ZUMA_TEST_DIR/btrfs-got" "b's received btrfs snapshot"
if [ $zuma = 1 ] && declare -F repl_snapshot_sha >/dev/null; then
        [ "$(repl_snapshot_sha a "$volume" "repl-$n")" = "$(repl_snapshot_sha b "$volume" "repl-$n")" ] ||
                die "b's replica of repl-$n differs from a's snapshot"
fi
progress "done"
