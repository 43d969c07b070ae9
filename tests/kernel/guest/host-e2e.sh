# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Sourced by the guest wrappers of the host's end-to-end tests
# (e2e-fs.sh, e2e-mount.sh): host_e2e NAME runs tests/e2e/NAME.sh
# unchanged, with zuma-snapshotd on the kernel frontend (the module
# loaded first), ext4 alone for time under TCG.
#
# Not every host test can run here: test-e2e-crash requires writers to
# fail when the server dies (on the kernel frontend they wait for the next
# server, which guest/e2e.sh tests); the replication tests run several
# "hosts" in network namespaces of one kernel, and the kernel frontend's
# device-mapper names and sessions are the kernel's, one server per
# kernel; test-e2e-views needs an smbd the guest does not start.

host_e2e() {
        grep -q '^dm_zumastor ' /proc/modules || insmod "$ZUMA_BUILD_ROOT/tests/kernel/dm-zumastor.ko"
        export ZUMA_BUILD_DIR=$ZUMA_BUILD_ROOT ZUMA_SOURCE_DIR=$ZUMA_SOURCE_ROOT
        export ZUMA_TEST_FRONTEND=kernel ZUMA_TEST_TIMEOUT=60 ZUMA_E2E_FS=ext4
        exec "$ZUMA_SOURCE_ROOT/tests/e2e/$1.sh"
}
