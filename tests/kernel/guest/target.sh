#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest test (tests/vm/guest-run-tests.sh): the zumastor target against the
# fake server on the guest's two scratch disks (tests/kernel/README).
set -euo pipefail

# shellcheck disable=SC2086 # two disk names
exec "$ZUMA_SOURCE_ROOT/tests/kernel/test-dm-zumastor.sh" \
        --module "$ZUMA_BUILD_ROOT/tests/kernel/dm-zumastor.ko" \
        --server "$ZUMA_BUILD_ROOT/tests/kernel/zuma-fake-server" $ZUMA_VM_DISKS
