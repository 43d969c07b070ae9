/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-utc"

#include "zuma-utc.h"

void zuma_utc_split(gint64 t, ZumaUtcTime *ret)
{
        g_autoptr(GDateTime) utc = NULL;

        g_return_if_fail(zuma_utc_in_range(t));
        utc = g_date_time_new_from_unix_utc(t);
        g_date_time_get_ymd(utc, &ret->year, &ret->month, &ret->day);
        ret->hour = g_date_time_get_hour(utc);
        ret->minute = g_date_time_get_minute(utc);
        ret->second = g_date_time_get_second(utc);
        ret->weekday = g_date_time_get_day_of_week(utc);
}

gboolean zuma_utc_join(const ZumaUtcTime *utc, gint64 *ret_t)
{
        /* NULL when a field is out of its range or the month lacks the day;
         * years before 1970 are left to the range check. */
        g_autoptr(GDateTime) instant = g_date_time_new_utc(utc->year, utc->month, utc->day,
                                                           utc->hour, utc->minute, utc->second);
        gint64 t;

        if (!instant)
                return FALSE;
        t = g_date_time_to_unix(instant);
        if (!zuma_utc_in_range(t))
                return FALSE;
        *ret_t = t;
        return TRUE;
}
