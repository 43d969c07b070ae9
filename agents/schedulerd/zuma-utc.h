/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Civil time in UTC: seconds since the epoch to year, month, day, hour,
 * minute, weekday and back, by GLib's GDateTime in its UTC zone.  The
 * scheduler's instants and snapshot names are in UTC whatever TZ says;
 * GDateTime in UTC never reads TZ, so every process and test gets the same
 * answer.
 *
 * The range is 1970-01-01T00:00:00Z (0) to 9999-12-31T23:59:59Z: names
 * carry four-digit years (GDateTime's own limit too), and a clock before
 * the epoch is a broken clock.
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

/* t (in range) broken down. */
void zuma_utc_split(gint64 t, ZumaUtcTime *ret);

/* The instant of a broken-down time; FALSE (and *ret_t untouched) when a
 * field is out of its range, the day does not exist in its month, or the
 * result falls outside the range. */
gboolean zuma_utc_join(const ZumaUtcTime *utc, gint64 *ret_t);

G_END_DECLS
