#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest test: the host's zuma-mounterd end-to-end test (tests/e2e/
# test-e2e-mount.sh: the origin mounted where configured, snapshots
# mounted under the template as they come and go, renames, busy mounts
# refusing a delete, scheduled pruning, revert with the origin mounted,
# stop and restart of the server followed) with zuma-snapshotd on the
# kernel frontend: the mounts are of zumastor dm devices.
set -euo pipefail
# shellcheck source=host-e2e.sh
. "$ZUMA_SOURCE_ROOT/tests/kernel/guest/host-e2e.sh"
host_e2e test-e2e-mount
