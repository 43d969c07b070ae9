/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-notifyd"

#include "zuma-notify-humanize.h"

#define MINUTE 60
#define HOUR (60 * MINUTE)
#define DAY (24 * HOUR)

/* n units, rounded to nearest; one and many named apart. */
static char *about(gint64 seconds, gint64 unit, const char *one, const char *many)
{
        gint64 n = (seconds + unit / 2) / unit;

        if (n <= 1)
                return g_strdup_printf("about %s", one);
        return g_strdup_printf("about %" G_GINT64_FORMAT " %s", n, many);
}

char *zuma_humanize_duration(gint64 seconds)
{
        if (seconds < MINUTE)
                return g_strdup("less than a minute");
        /* Nearest minute below 60, else hours: 59.5 minutes and up rounds
         * to an hour. */
        if (seconds < HOUR - MINUTE / 2)
                return about(seconds, MINUTE, "a minute", "minutes");
        if (seconds < DAY + DAY / 2)
                return about(seconds, HOUR, "an hour", "hours");
        /* Clamp far futures: G_MAXINT64 seconds must not overflow. */
        return about(MIN(seconds, (gint64)G_MAXINT32 * DAY), DAY, "a day", "days");
}

char *zuma_humanize_full_in(gint64 full_in_seconds)
{
        g_autofree char *when = NULL;

        if (full_in_seconds < 0)
                return NULL;
        when = zuma_humanize_duration(full_in_seconds);
        return g_strdup_printf("full in %s at the current rate", when);
}

char *zuma_humanize_elapsed(gdouble seconds)
{
        gint64 whole;

        if (!(seconds > 0)) /* also NaN */
                return g_strdup("0 s");
        if (seconds < 0.95)
                return g_strdup_printf("%.1f s", seconds);
        /* Clamped: a bogus huge value must not overflow. */
        whole = (gint64)(MIN(seconds, (gdouble)G_MAXINT32 * HOUR) + 0.5);
        if (whole < MINUTE)
                return g_strdup_printf("%" G_GINT64_FORMAT " s", whole);
        if (whole < HOUR)
                return g_strdup_printf("%" G_GINT64_FORMAT " min %" G_GINT64_FORMAT " s",
                                       whole / MINUTE, whole % MINUTE);
        return g_strdup_printf("%" G_GINT64_FORMAT " h %" G_GINT64_FORMAT " min", whole / HOUR,
                               whole % HOUR / MINUTE);
}
