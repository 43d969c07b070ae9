/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One look at one volume's schedule, at one time: what the planner says
 * (zuma-schedule-plan.h), the snapshot if one is due
 * (zuma-scheduled-snapshot.h), retention (zuma-schedule-prune.h:
 * DeleteSnapshots in batches of at most ZUMA_MAX_DELETE_NAMES, then
 * SetPriority where a kept snapshot's priority differs), the last handled
 * instant saved, and the entry's properties shown.
 *
 * The core decides what is the schedule's: a snapshot not named as the
 * schedule names them is never deleted nor re-prioritised, and a pinned
 * one is never deleted.  Retention runs only on a running volume; a
 * snapshot due while the volume is stopped waits (the scheduler looks
 * again when the volume starts), and a failed one is retried a minute
 * later (ZUMA_SCHEDULE_RETRY_SECONDS), as one catch-up.
 */
#pragma once

#include <gio/gio.h>

#include "zuma-schedule-entry.h"
#include "zuma-scheduled-snapshot.h"
#include "zuma-server-client.h"

G_BEGIN_DECLS

#define ZUMA_SCHEDULE_RETRY_SECONDS 60

typedef struct {
        GDBusConnection *connection;
        guint freeze_timeout_ms;
        const char *hang_marker; /* --test-hang-after-freeze, or NULL */
} ZumaScheduleRunner;

/* Runs entry at now against volume, its volume as the server listed it
 * (NULL: the server has no volume with that UUID), which it updates
 * (snapshots taken and deleted); sets entry->wake_at. */
void zuma_schedule_run(const ZumaScheduleRunner *runner, ZumaScheduleEntry *entry,
                       ZumaServerVolume *volume, gint64 now);

/* The instant of the newest of volume's scheduled snapshots under entry's
 * schedule; ZUMA_SCHEDULE_NEVER if none. */
gint64 zuma_schedule_newest_instant(const ZumaScheduleEntry *entry, const ZumaServerVolume *volume,
                                    gint64 now);

G_END_DECLS
