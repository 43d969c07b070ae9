#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest test: the host's file-system end-to-end test (tests/e2e/
# test-e2e-fs.sh: ext4 on loop devices, seeded trees between snapshots,
# fsck and manifests of every snapshot, a writable snapshot, a daemon
# restart, revert, the store full under both policies) with zuma-snapshotd
# on the kernel frontend: the same test the FUSE frontend passes, on
# zumastor dm devices.
set -euo pipefail
# shellcheck source=host-e2e.sh
. "$ZUMA_SOURCE_ROOT/tests/kernel/guest/host-e2e.sh"
host_e2e test-e2e-fs
