/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Civil time in UTC by plain arithmetic: seconds since the epoch to year,
 * month, day, hour, minute, weekday and back.  No time zone, no libc
 * gmtime()/timegm(), no GDateTime: the scheduler's instants and snapshot
 * names are in UTC whatever TZ says, and the same arithmetic must give the
 * same answer in every process and test.
 *
 * The range is 1970-01-01T00:00:00Z (0) to 9999-12-31T23:59:59Z: names
 * carry four-digit years, and a clock before the epoch is a broken clock.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define ZUMA_UTC_MIN G_GINT64_CONSTANT(0)
#define ZUMA_UTC_MAX G_GINT64_CONSTANT(253402300799) /* 9999-12-31T23:59:59Z */

#define ZUMA_SECONDS_PER_MINUTE 60
#define ZUMA_SECONDS_PER_HOUR 3600
#define ZUMA_SECONDS_PER_DAY 86400
#define ZUMA_SECONDS_PER_WEEK (7 * 86400)

typedef struct {
        int year;    /* 1970..9999 */
        int month;   /* 1..12 */
        int day;     /* 1..31 */
        int hour;    /* 0..23 */
        int minute;  /* 0..59 */
        int second;  /* 0..59 (UTC seconds since the epoch have no leap second) */
        int weekday; /* 1 (Monday) .. 7 (Sunday), ISO 8601; ignored by zuma_utc_join() */
} ZumaUtcTime;

/* Whether t lies in [ZUMA_UTC_MIN, ZUMA_UTC_MAX]. */
static inline gboolean zuma_utc_in_range(gint64 t)
{
        return t >= ZUMA_UTC_MIN && t <= ZUMA_UTC_MAX;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (any year that fits
 * an int; month 1..12, day 1..31 unchecked) and back. */
gint64 zuma_utc_days_from_civil(int year, int month, int day);
void zuma_utc_civil_from_days(gint64 days, int *ret_year, int *ret_month, int *ret_day);

/* Days in a month of a year (28..31). */
int zuma_utc_days_in_month(int year, int month);

/* t (in range) broken down. */
void zuma_utc_split(gint64 t, ZumaUtcTime *ret);

/* The instant of a broken-down time; FALSE (and *ret_t untouched) when a
 * field is out of its range, the day does not exist in its month, or the
 * result falls outside the range. */
gboolean zuma_utc_join(const ZumaUtcTime *utc, gint64 *ret_t);

/* Floor division and the matching remainder (0..d-1), for times before an
 * alignment point (a week before the epoch's Thursday). */
static inline gint64 zuma_floor_div(gint64 n, gint64 d)
{
        return n / d - ((n % d != 0) && ((n < 0) != (d < 0)));
}

G_END_DECLS
