/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Retention: which of a volume's scheduled snapshots to delete, and the
 * auto-delete priority each kept one should have.  Pure: the daemon passes
 * the volume's snapshots as the server lists them and carries out the
 * verdicts (DeleteSnapshots, SetPriority where it differs).
 *
 * Which snapshots are the schedule's: those named as
 * zuma-schedule-name.h describes, for this volume.  Every other snapshot
 * (taken by hand, by replication, or named by the server) is never touched.
 *
 * Retention is by period (zuma-schedule-calendar.h), as snapper's timeline
 * cleanup: a class keeps the first scheduled snapshot of each of its
 * periods, for its newest N periods that have one.  An hourly class of 24
 * keeps the first snapshot of each of the 24 newest hours that have a
 * snapshot, a daily class of 7 the first of each of the 7 newest days, and
 * so on; the planner takes a snapshot at the start of each period, so
 * these are the snapshots that served the class (zuma-schedule-plan.h).
 * Periods without snapshots (downtime) do not count: a host that was off
 * for a week still keeps its 7 dailies.  A snapshot is kept when any class
 * keeps it, when it is pinned, or when its instant lies after now (the
 * clock went back: it neither counts nor goes).  Everything else
 * scheduled is deleted.  Pruning again right after deletes nothing more:
 * deleting a snapshot never moves a kept one out of its class's newest N
 * periods, nor makes another one the first of a kept period.
 *
 * The time that counts is the instant in the name, not the creation time:
 * a catch-up snapshot taken at 14:37 for 14:00 belongs to 14:00's periods,
 * and a clock that jumps does not reorder the snapshots.  If a snapshot
 * that opened a period is deleted by hand, the next one in that period
 * stands in for it.  If the schedule changes, the snapshots are judged by
 * the new one: a class turned off keeps nothing.
 *
 * Auto-delete priorities.  When the store fills and the volume's policy is
 * autodelete, the server deletes the unpinned snapshot with the LOWEST
 * priority first, the oldest among equals (snapstore/snapshot.c
 * autodelete_one(); the Snapshot interface's Priority property: "lower
 * goes first").  Hand-taken snapshots get 0 unless the user says
 * otherwise.  Scheduled snapshots get negative priorities by the largest
 * class that keeps them, -10 per class rank:
 *
 *   rank (ZUMA_SCHEDULE_N_CLASSES = 6 ranks)     priority
 *   0  every (interval under 1h), or hourly       -60
 *   1  hourly                                     -50
 *   2  daily                                      -40
 *   3  weekly                                     -30
 *   4  monthly                                    -20
 *   5  yearly                                     -10
 *
 * (without an every class, or with one under an hour; an every class of
 * 6h ranks between hourly and daily and pushes hourly down to -60).  So the
 * store-full autodelete takes hourlies before dailies before weeklies
 * before monthlies before yearlies, and every scheduled snapshot before one
 * taken by hand.  A snapshot kept by several classes has the priority of
 * the largest; as it ages out of a class its priority drops, so the daemon
 * updates priorities after each prune.  A pinned snapshot no class keeps
 * gets the lowest (it would go first if unpinned).
 */
#pragma once

#include <glib.h>

#include "zuma-schedule.h"

G_BEGIN_DECLS

/* Priority step between class ranks; the largest class gets -STEP. */
#define ZUMA_SCHEDULE_PRIORITY_STEP 10

/* One snapshot of the volume, as the server lists it. */
typedef struct {
        const char *name;
        gint64 creation_time; /* UTC seconds (Snapshot.CreationTime); not used to
                               * order snapshots: the name's instant is */
        gboolean pinned;      /* Snapshot.Pinned */
} ZumaPruneSnapshot;

typedef enum {
        ZUMA_PRUNE_NOT_SCHEDULED, /* not one of the schedule's: never touched */
        ZUMA_PRUNE_KEEP,          /* kept by a class, pinned, or after now */
        ZUMA_PRUNE_DELETE,        /* scheduled, unpinned, and no class keeps it */
} ZumaPruneAction;

typedef struct {
        ZumaPruneAction action;
        /* The rest only for scheduled snapshots (action KEEP or DELETE): */
        ZumaScheduleClass label; /* the class in its name */
        gint64 instant;          /* the instant in its name */
        guint kept_by;           /* the classes that keep it (ZUMA_SCHEDULE_CLASS_BIT) */
        gint32 priority;         /* if kept: the priority it should have */
} ZumaPruneVerdict;

/* The auto-delete priority of a class's snapshots (above). */
gint32 zuma_schedule_class_priority(const ZumaSchedule *schedule, ZumaScheduleClass class_);

/* Judges the n snapshots of volume under its valid schedule at now;
 * ret_verdicts[i] (n of them) is the verdict on snapshots[i]. */
void zuma_schedule_prune(const ZumaSchedule *schedule, const char *volume, gint64 now,
                         const ZumaPruneSnapshot *snapshots, gsize n,
                         ZumaPruneVerdict *ret_verdicts);

G_END_DECLS
