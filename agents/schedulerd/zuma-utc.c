/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The day arithmetic is Howard Hinnant's days_from_civil/civil_from_days
 * (public domain): the Gregorian calendar repeats every 400 years (146097
 * days), and counting years from March puts the leap day last.
 */
#define G_LOG_DOMAIN "zuma-utc"

#include "zuma-utc.h"

gint64 zuma_utc_days_from_civil(int year, int month, int day)
{
        gint64 y = (gint64)year - (month <= 2);
        gint64 era = (y >= 0 ? y : y - 399) / 400;
        gint64 year_of_era = y - era * 400;
        gint64 day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
        gint64 day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;

        return era * 146097 + day_of_era - 719468;
}

void zuma_utc_civil_from_days(gint64 days, int *ret_year, int *ret_month, int *ret_day)
{
        gint64 z = days + 719468;
        gint64 era = (z >= 0 ? z : z - 146096) / 146097;
        gint64 day_of_era = z - era * 146097;
        gint64 year_of_era =
                (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
        gint64 day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        gint64 month_from_march = (5 * day_of_year + 2) / 153;
        int month = (int)(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);

        *ret_day = (int)(day_of_year - (153 * month_from_march + 2) / 5 + 1);
        *ret_month = month;
        *ret_year = (int)(year_of_era + era * 400 + (month <= 2));
}

int zuma_utc_days_in_month(int year, int month)
{
        static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        gboolean leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

        g_return_val_if_fail(month >= 1 && month <= 12, 0);
        return days[month - 1] + (month == 2 && leap);
}

void zuma_utc_split(gint64 t, ZumaUtcTime *ret)
{
        gint64 days, seconds;

        g_return_if_fail(zuma_utc_in_range(t));
        days = zuma_floor_div(t, ZUMA_SECONDS_PER_DAY);
        seconds = t - days * ZUMA_SECONDS_PER_DAY;
        zuma_utc_civil_from_days(days, &ret->year, &ret->month, &ret->day);
        ret->hour = (int)(seconds / ZUMA_SECONDS_PER_HOUR);
        ret->minute = (int)(seconds % ZUMA_SECONDS_PER_HOUR / ZUMA_SECONDS_PER_MINUTE);
        ret->second = (int)(seconds % ZUMA_SECONDS_PER_MINUTE);
        /* 1970-01-01 was a Thursday, ISO weekday 4. */
        ret->weekday = (int)((days + 3) % 7 + 1);
}

gboolean zuma_utc_join(const ZumaUtcTime *utc, gint64 *ret_t)
{
        gint64 t;

        if (utc->year < 1970 || utc->year > 9999 || utc->month < 1 || utc->month > 12 ||
            utc->day < 1 || utc->day > zuma_utc_days_in_month(utc->year, utc->month) ||
            utc->hour < 0 || utc->hour > 23 || utc->minute < 0 || utc->minute > 59 ||
            utc->second < 0 || utc->second > 59)
                return FALSE;
        t = zuma_utc_days_from_civil(utc->year, utc->month, utc->day) * ZUMA_SECONDS_PER_DAY +
            utc->hour * ZUMA_SECONDS_PER_HOUR + utc->minute * ZUMA_SECONDS_PER_MINUTE + utc->second;
        if (!zuma_utc_in_range(t))
                return FALSE;
        *ret_t = t;
        return TRUE;
}
