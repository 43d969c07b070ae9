/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * When to take a scheduled snapshot, and which one: a pure function of the
 * schedule, the last instant the daemon handled, the instants of the
 * volume's scheduled snapshots and now.  It reads no clock and keeps no
 * state; the daemon keeps last_handled (durably) and calls it whenever its
 * timer fires, the clock is set, or it starts.
 *
 * The rules:
 *
 * - One snapshot per instant, whatever the number of classes it serves:
 *   00:00 on January 1st is one snapshot, named after its largest class.
 * - The classes a snapshot serves are those whose period it opens: the
 *   classes with an instant after the volume's previous scheduled snapshot
 *   (zuma_schedule_classes_starting()); retention keeps exactly these
 *   (zuma-schedule-prune.h).  The first snapshot of a schedule opens every
 *   period, so it serves every class.
 * - A snapshot is due when the latest instant at or before now (D) lies
 *   after the last handled instant and after every scheduled snapshot
 *   taken at or before now.  Only D is taken: after downtime, however
 *   long, one catch-up snapshot at the latest instant, serving every class
 *   whose instant passed meanwhile, never a burst.
 * - Never two snapshots for one instant: D lies after every snapshot up to
 *   now, and a future one (from before the clock went back) is never at D.
 * - The clock went back (now before last_handled): last_handled is
 *   forgotten and only the snapshots count.  Those between now and
 *   last_handled are not taken again (plan.next skips their instants); the
 *   schedule resumes at the first instant without a snapshot, rather than
 *   waiting for the clock to pass last_handled again (a clock set a year
 *   ahead by mistake and set right must not stop snapshots for a year).
 *   If the latest instant at or before now has no snapshot and none was
 *   taken after it, it is due at once, as after downtime.  plan.handled is
 *   then lower than last_handled: the daemon stores it all the same.
 * - The clock went forward: as downtime, one catch-up snapshot.
 *
 * After taking the snapshot (or deciding not to) the daemon records
 * plan.handled as last_handled and sleeps until plan.next (or until the
 * clock is set).  If taking the snapshot fails, it keeps the old
 * last_handled and asks again later: the retry is another catch-up.
 */
#pragma once

#include <glib.h>

#include "zuma-schedule.h"

G_BEGIN_DECLS

typedef struct {
        gboolean due;            /* take a snapshot now */
        gint64 instant;          /* if due: the instant it stands for (UTC seconds) */
        guint classes;           /* if due: the classes it serves (ZUMA_SCHEDULE_CLASS_BIT) */
        ZumaScheduleClass label; /* if due: the largest of them, which names it */
        gint64 handled;          /* the new last handled instant, once done */
        gint64 next;             /* the next instant after now without a snapshot */
} ZumaSchedulePlan;

/* Plans for volume's valid schedule at now (in range).  last_handled is
 * ZUMA_SCHEDULE_NEVER before the first; taken holds the instants of the
 * volume's scheduled snapshots (zuma_schedule_name_parse()), in any order. */
void zuma_schedule_plan(const ZumaSchedule *schedule, gint64 last_handled, gint64 now,
                        const gint64 *taken, gsize n_taken, ZumaSchedulePlan *ret_plan);

/* The name of the snapshot a due plan takes. */
char *zuma_schedule_plan_name(const ZumaSchedulePlan *plan, const char *volume);

G_END_DECLS
