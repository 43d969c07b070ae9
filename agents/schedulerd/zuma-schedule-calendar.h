/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The instants of a schedule's classes, in UTC (zuma-utc.h), and the
 * periods between them.
 *
 * A class's instants cut time into periods: an hourly period is an hour
 * from hh:00, a daily one a day from 00:00, a weekly one an ISO week from
 * Monday 00:00, a monthly one a calendar month, a yearly one a calendar
 * year, and an every-class period N seconds from a multiple of N seconds
 * since 1970-01-01T00:00:00Z (so --every 15m falls on :00, :15, :30, :45
 * and --every 1w on Thursdays, the epoch's weekday).  Retention keeps the
 * first snapshot of each period (zuma-schedule-prune.h), and the planner
 * names a snapshot after the classes whose period it opens
 * (zuma-schedule-plan.h): both read their periods here.
 *
 * Times are seconds since the epoch in [ZUMA_UTC_MIN, ZUMA_UTC_MAX] (weeks,
 * months and years are read from GDateTime, which refuses the rest); an
 * answer may lie outside (the week holding 1970-01-01 started on
 * 1969-12-29, the month after 9999-12 is 10000-01).
 */
#pragma once

#include <glib.h>

#include "zuma-schedule.h"

G_BEGIN_DECLS

/* "Never": no instant handled yet, no snapshot taken yet. */
#define ZUMA_SCHEDULE_NEVER G_MININT64

/* The start of the period of class_ holding t: the class's latest instant
 * at or before t.  class_ need not be on (the every class needs its
 * interval). */
gint64 zuma_schedule_period_start(const ZumaSchedule *schedule, ZumaScheduleClass class_, gint64 t);

/* The start of the period of class_ after the one holding t: the class's
 * first instant after t. */
gint64 zuma_schedule_period_end(const ZumaSchedule *schedule, ZumaScheduleClass class_, gint64 t);

/* The latest instant at or before t of any class that is on. */
gint64 zuma_schedule_latest_instant(const ZumaSchedule *schedule, gint64 t);

/* The first instant after t of any class that is on. */
gint64 zuma_schedule_next_instant(const ZumaSchedule *schedule, gint64 t);

/* The classes that are on and have an instant in (after, upto]: every class
 * that is on when after is ZUMA_SCHEDULE_NEVER.  For two snapshots taken
 * at after and upto with none between, the classes whose period the second
 * one opens. */
guint zuma_schedule_classes_starting(const ZumaSchedule *schedule, gint64 after, gint64 upto);

G_END_DECLS
