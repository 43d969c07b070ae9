/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-schedule-health"

#include "zuma-schedule-health.h"

#include "zuma-duration.h"
#include "zuma-schedule-calendar.h"
#include "zuma-utc.h"

static gint64 shortest_gap(const ZumaSchedule *schedule)
{
        gint64 gap = G_MAXINT64;

        for (int c = 0; c < ZUMA_SCHEDULE_N_CLASSES; c++)
                if (zuma_schedule_has_class(schedule, c))
                        gap = MIN(gap, zuma_schedule_class_longest_gap(schedule, c));
        return gap;
}

static gint64 grace_of(gint64 gap)
{
        return MIN(ZUMA_HEALTH_GRACE_MAX, gap / 2);
}

gint64 zuma_schedule_default_max_age(const ZumaSchedule *schedule)
{
        gint64 gap;

        g_return_val_if_fail(zuma_schedule_classes(schedule) != 0, 0);
        gap = shortest_gap(schedule);
        return 2 * gap + grace_of(gap);
}

void zuma_schedule_health(const ZumaSchedule *schedule, gint64 newest, gint64 now, gint64 max_age,
                          ZumaScheduleHealth *ret_health)
{
        ZumaScheduleHealth health = { 0 };

        g_return_if_fail(zuma_schedule_classes(schedule) != 0);
        g_return_if_fail(zuma_utc_in_range(now));
        g_return_if_fail(max_age >= 0);

        health.grace = grace_of(shortest_gap(schedule));
        health.max_age = max_age ? max_age : zuma_schedule_default_max_age(schedule);
        health.due = zuma_schedule_latest_instant(schedule, now);
        health.next = zuma_schedule_next_instant(schedule, now);
        health.has_snapshot = newest != ZUMA_SCHEDULE_NEVER;
        if (health.has_snapshot) {
                health.newest = newest;
                health.age = MAX(0, now - newest);
        }
        health.overdue =
                now - health.due > health.grace && (!health.has_snapshot || newest < health.due);
        if (!health.has_snapshot || health.age > health.max_age)
                health.status = ZUMA_HEALTH_CRITICAL;
        else if (health.overdue)
                health.status = ZUMA_HEALTH_WARNING;
        else
                health.status = ZUMA_HEALTH_OK;
        *ret_health = health;
}

const char *zuma_health_status_name(ZumaHealthStatus status)
{
        switch (status) {
        case ZUMA_HEALTH_OK:
                return "OK";
        case ZUMA_HEALTH_WARNING:
                return "WARNING";
        case ZUMA_HEALTH_CRITICAL:
                return "CRITICAL";
        }
        g_return_val_if_reached("UNKNOWN");
}

static char *format_instant(gint64 t)
{
        ZumaUtcTime utc;

        if (!zuma_utc_in_range(t))
                return g_strdup("(out of range)");
        zuma_utc_split(t, &utc);
        return g_strdup_printf("%04d-%02d-%02d %02d:%02d UTC", utc.year, utc.month, utc.day,
                               utc.hour, utc.minute);
}

char *zuma_schedule_health_line(const ZumaScheduleHealth *health, const char *volume)
{
        g_autofree char *next = format_instant(health->next);
        g_autofree char *max_age = zuma_duration_format(health->max_age);
        GString *line = g_string_new(NULL);

        g_string_append_printf(line, "%s: %s: ", zuma_health_status_name(health->status), volume);
        if (health->has_snapshot) {
                g_autofree char *newest = format_instant(health->newest);
                g_autofree char *age = zuma_duration_format(health->age);

                g_string_append_printf(line, "newest scheduled snapshot %s, %s old", newest, age);
        } else {
                g_string_append(line, "no scheduled snapshot");
        }
        if (health->overdue) {
                g_autofree char *due = format_instant(health->due);

                g_string_append_printf(line, "; the snapshot for %s is overdue", due);
        }
        if (health->status == ZUMA_HEALTH_CRITICAL && health->has_snapshot)
                g_string_append_printf(line, "; older than %s", max_age);
        g_string_append_printf(line, "; next %s", next);
        /* 'label'=value[unit];[warn];[crit];[min] */
        if (health->has_snapshot)
                g_string_append_printf(line, " | age=%" G_GINT64_FORMAT "s;;%" G_GINT64_FORMAT ";0",
                                       health->age, health->max_age);
        return g_string_free(line, FALSE);
}
