/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-schedule-name"

#include "zuma-schedule-name.h"

#include <string.h>

#include "zuma-name-rule.h"
#include "zuma-utc.h"

/* "YYYY-MM-DD-HH:MM": the digit positions and the separators between. */
#define STAMP_FORMAT "dddd-dd-dd-dd:dd"
#define STAMP_LEN (sizeof(STAMP_FORMAT) - 1)

char *zuma_schedule_name_format(const char *volume, ZumaScheduleClass class_, gint64 instant)
{
        ZumaUtcTime utc;
        char *name;

        g_return_val_if_fail(zuma_volume_name_valid(volume), NULL);
        g_return_val_if_fail(zuma_utc_in_range(instant), NULL);
        g_return_val_if_fail(instant % ZUMA_SECONDS_PER_MINUTE == 0, NULL);
        zuma_utc_split(instant, &utc);
        name = g_strdup_printf("%s-%s-%04d-%02d-%02d-%02d:%02d", volume,
                               zuma_schedule_class_name(class_), utc.year, utc.month, utc.day,
                               utc.hour, utc.minute);
        g_assert(zuma_snapshot_name_valid(name));
        return name;
}

/* Reads n digits at p (which holds at least n bytes). */
static int digits(const char *p, int n)
{
        int value = 0;

        for (int i = 0; i < n; i++)
                value = value * 10 + (p[i] - '0');
        return value;
}

static gboolean stamp_parse(const char *stamp, gint64 *ret_instant)
{
        ZumaUtcTime utc = { 0 };

        if (strlen(stamp) != STAMP_LEN)
                return FALSE;
        for (gsize i = 0; i < STAMP_LEN; i++)
                if (STAMP_FORMAT[i] == 'd' ? !g_ascii_isdigit(stamp[i])
                                           : stamp[i] != STAMP_FORMAT[i])
                        return FALSE;
        utc.year = digits(stamp, 4);
        utc.month = digits(stamp + 5, 2);
        utc.day = digits(stamp + 8, 2);
        utc.hour = digits(stamp + 11, 2);
        utc.minute = digits(stamp + 14, 2);
        return zuma_utc_join(&utc, ret_instant);
}

gboolean zuma_schedule_name_parse(const char *volume, const char *name,
                                  ZumaScheduleClass *ret_class, gint64 *ret_instant)
{
        gsize volume_len = strlen(volume);
        const char *class_start, *dash;
        char class_name[16];
        ZumaScheduleClass class_;
        gint64 instant;

        if (!zuma_snapshot_name_valid(name) || strncmp(name, volume, volume_len) != 0 ||
            name[volume_len] != '-')
                return FALSE;
        class_start = name + volume_len + 1;
        dash = strchr(class_start, '-');
        if (!dash || (gsize)(dash - class_start) >= sizeof(class_name))
                return FALSE;
        memcpy(class_name, class_start, (gsize)(dash - class_start));
        class_name[dash - class_start] = '\0';
        if (!zuma_schedule_class_from_name(class_name, &class_) || !stamp_parse(dash + 1, &instant))
                return FALSE;
        if (ret_class)
                *ret_class = class_;
        if (ret_instant)
                *ret_instant = instant;
        return TRUE;
}
