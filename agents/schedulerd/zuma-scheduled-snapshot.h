/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Taking one scheduled snapshot:
 *
 *   1. the schedule's pre command, if any (its failure is reported and the
 *      snapshot still taken: a missed snapshot helps nobody);
 *   2. if the volume's origin device is mounted, its file system frozen
 *      (zuma-freeze.h: watchdog, hard timeout);
 *   3. Volume.CreateSnapshot(name, {attach: false, priority}) with the
 *      freeze timeout as its deadline;
 *   4. the file system thawed, on every path;
 *   5. the post command, if any (after the thaw: it never lengthens the
 *      freeze).
 *
 * Only the snapshot itself decides success.  A failed command or freeze
 * (the snapshot is then crash-consistent only) comes back in
 * *ret_warnings, and a failed command through command_failed too.
 */
#pragma once

#include <gio/gio.h>

#include "zuma-schedule.h"
#include "zuma-server-client.h"

G_BEGIN_DECLS

typedef void (*ZumaCommandFailedFunc)(const char *which, const char *message, gpointer user_data);

typedef struct {
        /* How long the file system may stay frozen (the watchdog's
         * deadline and CreateSnapshot's). */
        guint freeze_timeout_ms;
        /* --test-hang-after-freeze: once frozen, write RUN_DIR/frozen and
         * hang until killed, or until a test writes to the FIFO
         * RUN_DIR/resume; NULL: off. */
        const char *hang_marker;
        ZumaCommandFailedFunc command_failed;
        gpointer user_data;
} ZumaSnapshotTaking;

gboolean zuma_take_scheduled_snapshot(GDBusConnection *connection, const ZumaServerVolume *volume,
                                      const ZumaSchedule *schedule, const char *name,
                                      gint32 priority, const ZumaSnapshotTaking *how,
                                      char **ret_path, char **ret_warnings, GError **error);

G_END_DECLS
