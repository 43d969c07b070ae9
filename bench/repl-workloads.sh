# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# repl-workloads.sh: the change workloads of the replication benchmark
# (issue 14), as shell functions for bench/repl-bench.sh and for any test
# or benchmark that replicates the same changes (the Zumastor side: ext4 on
# a Zumastor origin).  The work is bench/repl-workload.py's; every byte it
# writes is a function of the seed, the volume size and the round, so the
# same call makes the same change on any file system.
#
#   repl_workload_setup DIR VOLUME_BYTES SEED      the tree on the mounted file
#                                                  system at DIR, synced
#   repl_workload_change DIR WORKLOAD VOLUME_BYTES SEED [ROUND]
#                                                  WORKLOAD: 1pct (1% of the
#                                                  volume's 4 KiB blocks, in small
#                                                  files), large (large.bin
#                                                  rewritten), none; synced
#   REPL_WORKLOADS                                 "1pct large none", in the
#                                                  benchmark's order
#
# VOLUME_BYTES is the size of the volume the change is counted against (the
# ext4 origin's), on every side alike.  Needs python3 3.9 or later.

REPL_WORKLOAD_PY=$(dirname "$(realpath "${BASH_SOURCE[0]}")")/repl-workload.py
# shellcheck disable=SC2034 # for the sourcing script
REPL_WORKLOADS="1pct large none"

repl_workload_setup() {
        python3 "$REPL_WORKLOAD_PY" setup "$1" --volume-bytes "$2" --seed "$3" &&
                sync -f "$1"
}

repl_workload_change() {
        python3 "$REPL_WORKLOAD_PY" change "$1" "$2" --volume-bytes "$3" --seed "$4" \
                --round "${5:-1}" && sync -f "$1"
}
