#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest test: the host's file-system end-to-end test (tests/e2e/
# test-e2e-fs.sh: ext4 on loop devices, seeded trees between snapshots,
# fsck and manifests of every snapshot, a writable snapshot, a daemon
# restart, revert, the store full under both policies) with zuma-snapshotd
# on the kernel frontend: the same test the FUSE frontend passes, on
# zumastor dm devices.  ext4 alone, for time under TCG.
set -euo pipefail

grep -q '^dm_zumastor ' /proc/modules || insmod "$ZUMA_BUILD_ROOT/tests/kernel/dm-zumastor.ko"
export ZUMA_BUILD_DIR=$ZUMA_BUILD_ROOT ZUMA_SOURCE_DIR=$ZUMA_SOURCE_ROOT
export ZUMA_TEST_FRONTEND=kernel ZUMA_TEST_TIMEOUT=60 ZUMA_E2E_FS=ext4
exec "$ZUMA_SOURCE_ROOT/tests/e2e/test-e2e-fs.sh"
