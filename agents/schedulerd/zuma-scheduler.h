/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaScheduler: zuma-schedulerd's bus side and its timing.
 *
 * Objects (under /org/zumastor/Scheduler1, an ObjectManager):
 *   Manager              org.zumastor.Scheduler1.Manager (and, with
 *                        --test-clock, org.zumastor.Scheduler1.TestClock)
 *   schedules/UUID       org.zumastor.Scheduler1.Schedule, one per volume
 *
 * When it looks at the schedules ("plans"): at start, at the earliest
 * wake-up of any schedule (the clock's timer), when the clock is set,
 * when zuma-snapshotd's name gets an owner again (g_bus_watch_name: a
 * restarted server, or one started after the scheduler), when a volume
 * starts (its Started signal), after DefineSchedule, and, with the test
 * clock, whenever the test moves it.  A look lists the server's volumes
 * once and runs every schedule (zuma-schedule-run.h).
 *
 * One thing at a time: a look runs to its end (each call to the server
 * and each command has its deadline) before the main loop answers the
 * next bus call, so a schedule never changes under a snapshot being
 * taken and two looks never overlap.  Bus callers wait at most that long;
 * no thread is needed.
 */
#pragma once

#include <gio/gio.h>

#include "zuma-auth.h"

G_BEGIN_DECLS

typedef struct ZumaScheduler ZumaScheduler;

typedef struct {
        GDBusConnection *connection;
        ZumaAuth *auth;
        const char *state_dir;
        const char *run_dir;
        /* --test-clock: the test clock's start; otherwise the real clock. */
        gboolean test_clock;
        gint64 test_clock_start;
        guint freeze_timeout_ms;
        gboolean test_hang_after_freeze;
} ZumaSchedulerSetup;

ZumaScheduler *zuma_scheduler_new(const ZumaSchedulerSetup *setup, GError **error);
/* Loads the schedules saved in the state directory and exports them. */
gboolean zuma_scheduler_load(ZumaScheduler *self, GError **error);
char *zuma_scheduler_describe(ZumaScheduler *self);
void zuma_scheduler_free(ZumaScheduler *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ZumaScheduler, zuma_scheduler_free)

G_END_DECLS
