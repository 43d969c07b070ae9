/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Health of a volume's schedule for monitoring: how old its newest
 * scheduled snapshot is, whether one is overdue, and the Nagios-style
 * verdict of `zumactl check VOL [--max-age DURATION]`.
 *
 *   gap      the longest time between two instants of the schedule's most
 *            frequent class (--every's interval, 1h, 1d, 7d, 31d, 366d)
 *   grace    min(5m, gap / 2): how long a due snapshot may take to appear
 *            (pre command, freeze, the server's answer, a retry)
 *   overdue  the latest instant at or before now is more than grace ago,
 *            and no scheduled snapshot stands for it or a later instant
 *   max age  --max-age, or by default 2 x gap + grace
 *
 *   0 OK        a scheduled snapshot exists, it is at most max age old,
 *               and none is overdue
 *   1 WARNING   one is overdue (a snapshot was missed), but the newest is
 *               still at most max age old
 *   2 CRITICAL  no scheduled snapshot at all, or the newest is older than
 *               max age
 *
 * So with the default an hourly schedule warns at 14:05 when 14:00's
 * snapshot is missing and turns critical after two missed instants
 * (2h5m); `--max-age 1d` makes it warn for any missed one and go
 * critical only when nothing was taken for a day.  Age is measured from
 * the instant in the newest snapshot's name (its place in the schedule;
 * a catch-up snapshot is a few minutes older by this measure than by its
 * creation time).  A newest snapshot after now (the clock went back) is 0
 * seconds old.
 */
#pragma once

#include <glib.h>

#include "zuma-schedule.h"

G_BEGIN_DECLS

typedef enum {
        ZUMA_HEALTH_OK = 0,
        ZUMA_HEALTH_WARNING = 1,
        ZUMA_HEALTH_CRITICAL = 2,
} ZumaHealthStatus;

#define ZUMA_HEALTH_GRACE_MAX 300 /* seconds */

typedef struct {
        gboolean has_snapshot; /* a scheduled snapshot exists */
        gint64 newest;         /* if so: its instant */
        gint64 age;            /* if so: now - newest, at least 0 */
        gint64 due;            /* the latest instant at or before now */
        gint64 next;           /* the first instant after now */
        gboolean overdue;
        gint64 grace;   /* seconds */
        gint64 max_age; /* seconds: the threshold in use */
        ZumaHealthStatus status;
} ZumaScheduleHealth;

/* The default max age of a valid schedule: 2 x gap + grace. */
gint64 zuma_schedule_default_max_age(const ZumaSchedule *schedule);

/* The health of a valid schedule at now (in range), given the instant of
 * its newest scheduled snapshot (ZUMA_SCHEDULE_NEVER for none) and
 * max_age (> 0), or 0 for the default. */
void zuma_schedule_health(const ZumaSchedule *schedule, gint64 newest, gint64 now, gint64 max_age,
                          ZumaScheduleHealth *ret_health);

/* "OK", "WARNING", "CRITICAL". */
const char *zuma_health_status_name(ZumaHealthStatus status);

/* The one status line of a check, with Nagios performance data:
 *   OK: vol: newest scheduled snapshot 2026-12-06 14:00 UTC, 12m old; next
 *   2026-12-06 15:00 UTC | age=720s;;7500;0 */
char *zuma_schedule_health_line(const ZumaScheduleHealth *health, const char *volume);

G_END_DECLS
