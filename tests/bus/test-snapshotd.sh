#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# test-snapshotd.sh TEST-BINARY [ARGS...]: runs the bus test of
# zuma-snapshotd on a private system bus (see zuma-test-bus.sh).
set -eu

# shellcheck source-path=SCRIPTDIR source=zuma-test-bus.sh
. "$(dirname "$(realpath "$0")")/zuma-test-bus.sh"

zuma_test_require_root
zuma_test_setup
zuma_test_start_bus
zuma_test_start_daemon
echo "# bus $DBUS_SYSTEM_BUS_ADDRESS, frontend $ZUMA_TEST_FRONTEND, dir $ZUMA_TEST_DIR"
# Authorization here is the uid/group rule only: this bus runs no polkitd,
# so zuma-auth's polkit step (org.zumastor.Zumastor1.manage) refuses; the
# real polkitd is tested in test-polkit.sh, the group rule in tests/common
# with a fake credential source.
echo "# polkit: not here (no polkitd on this bus; see test-polkit.sh); uid/group rule only"

status=0
"$@" || status=$?
if [ $status = 0 ]; then
        # A clean shutdown is part of the test (and where ASan reports leaks).
        zuma_test_stop_daemon || status=$?
fi
# fatal-criticals (zuma-test-bus.sh) made the daemon abort on one; this
# also catches one the test did not notice.
if grep -q -- '-CRITICAL \*\*' "$ZUMA_TEST_DIR/snapshotd.log"; then
        echo "# a GLib critical in zuma-snapshotd"
        [ $status != 0 ] || status=1
fi
if [ $status != 0 ]; then
        echo "# daemon log (last 80 lines):"
        tail -n 80 "$ZUMA_TEST_DIR/snapshotd.log" | sed 's/^/# /'
fi
exit $status
