#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest test (tests/vm/guest-run-tests.sh): the fake server sends malformed,
# out-of-range, duplicate and unexpected replies; the kernel refuses each
# and does not oops.  The seed is ZUMA_TEST_SEED when set (0 or unset:
# one is picked and printed).
set -euo pipefail

# shellcheck disable=SC2086 # two disk names
exec "$ZUMA_SOURCE_ROOT/tests/kernel/test-dm-zumastor.sh" --fuzz "${ZUMA_TEST_SEED:-0}" \
        --module "$ZUMA_BUILD_ROOT/tests/kernel/dm-zumastor.ko" \
        --server "$ZUMA_BUILD_ROOT/tests/kernel/zuma-fake-server" $ZUMA_VM_DISKS
