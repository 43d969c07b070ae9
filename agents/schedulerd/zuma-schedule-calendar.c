/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-schedule-calendar"

#include "zuma-schedule-calendar.h"

#include "zuma-utc.h"

static gint64 floor_to(gint64 t, gint64 step)
{
        return zuma_floor_div(t, step) * step;
}

gint64 zuma_schedule_period_start(const ZumaSchedule *schedule, ZumaScheduleClass class_, gint64 t)
{
        gint64 days = zuma_floor_div(t, ZUMA_SECONDS_PER_DAY);
        int year, month, day;

        switch (class_) {
        case ZUMA_SCHEDULE_EVERY:
                g_return_val_if_fail(schedule->every > 0, t);
                return floor_to(t, schedule->every);
        case ZUMA_SCHEDULE_HOURLY:
                return floor_to(t, ZUMA_SECONDS_PER_HOUR);
        case ZUMA_SCHEDULE_DAILY:
                return days * ZUMA_SECONDS_PER_DAY;
        case ZUMA_SCHEDULE_WEEKLY:
                /* Day 0 was a Thursday: day 3 of an ISO week counted from 0. */
                return (days - (days + 3 - floor_to(days + 3, 7))) * ZUMA_SECONDS_PER_DAY;
        case ZUMA_SCHEDULE_MONTHLY:
                zuma_utc_civil_from_days(days, &year, &month, &day);
                return zuma_utc_days_from_civil(year, month, 1) * ZUMA_SECONDS_PER_DAY;
        case ZUMA_SCHEDULE_YEARLY:
                zuma_utc_civil_from_days(days, &year, &month, &day);
                return zuma_utc_days_from_civil(year, 1, 1) * ZUMA_SECONDS_PER_DAY;
        }
        g_return_val_if_reached(t);
}

gint64 zuma_schedule_period_end(const ZumaSchedule *schedule, ZumaScheduleClass class_, gint64 t)
{
        gint64 start = zuma_schedule_period_start(schedule, class_, t);
        int year, month, day;

        switch (class_) {
        case ZUMA_SCHEDULE_EVERY:
                return start + schedule->every;
        case ZUMA_SCHEDULE_HOURLY:
                return start + ZUMA_SECONDS_PER_HOUR;
        case ZUMA_SCHEDULE_DAILY:
                return start + ZUMA_SECONDS_PER_DAY;
        case ZUMA_SCHEDULE_WEEKLY:
                return start + ZUMA_SECONDS_PER_WEEK;
        case ZUMA_SCHEDULE_MONTHLY:
                zuma_utc_civil_from_days(start / ZUMA_SECONDS_PER_DAY, &year, &month, &day);
                return zuma_utc_days_from_civil(month == 12 ? year + 1 : year,
                                                month == 12 ? 1 : month + 1, 1) *
                       ZUMA_SECONDS_PER_DAY;
        case ZUMA_SCHEDULE_YEARLY:
                zuma_utc_civil_from_days(start / ZUMA_SECONDS_PER_DAY, &year, &month, &day);
                return zuma_utc_days_from_civil(year + 1, 1, 1) * ZUMA_SECONDS_PER_DAY;
        }
        g_return_val_if_reached(t);
}

gint64 zuma_schedule_latest_instant(const ZumaSchedule *schedule, gint64 t)
{
        gint64 latest = ZUMA_SCHEDULE_NEVER;

        for (int c = 0; c < ZUMA_SCHEDULE_N_CLASSES; c++)
                if (zuma_schedule_has_class(schedule, c))
                        latest = MAX(latest, zuma_schedule_period_start(schedule, c, t));
        return latest;
}

gint64 zuma_schedule_next_instant(const ZumaSchedule *schedule, gint64 t)
{
        gint64 next = G_MAXINT64;

        for (int c = 0; c < ZUMA_SCHEDULE_N_CLASSES; c++)
                if (zuma_schedule_has_class(schedule, c))
                        next = MIN(next, zuma_schedule_period_end(schedule, c, t));
        return next;
}

guint zuma_schedule_classes_starting(const ZumaSchedule *schedule, gint64 after, gint64 upto)
{
        guint classes = 0;

        for (int c = 0; c < ZUMA_SCHEDULE_N_CLASSES; c++)
                if (zuma_schedule_has_class(schedule, c) &&
                    (after == ZUMA_SCHEDULE_NEVER ||
                     zuma_schedule_period_start(schedule, c, upto) > after))
                        classes |= ZUMA_SCHEDULE_CLASS_BIT(c);
        return classes;
}
