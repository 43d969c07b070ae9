/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-schedule-calendar"

#include "zuma-schedule-calendar.h"

#include "zuma-utc.h"

/* The multiple of step at or before t (t may be negative: a period that
 * began before the epoch). */
static gint64 floor_to(gint64 t, gint64 step)
{
        return (t / step - (t % step != 0 && t < 0)) * step;
}

/* The start of the ISO week, month or year holding t (in range), and its
 * length in seconds (*ret_length untouched on failure): a length, not the
 * next start, since the period after 9999-12 starts in 10000, past
 * GDateTime's range. */
static gint64 calendar_period(ZumaScheduleClass class_, gint64 t, gint64 *ret_length)
{
        g_autoptr(GDateTime) utc = NULL;
        int days_before, days;

        g_return_val_if_fail(zuma_utc_in_range(t), t);
        utc = g_date_time_new_from_unix_utc(t);
        switch (class_) {
        case ZUMA_SCHEDULE_WEEKLY:
                days_before = g_date_time_get_day_of_week(utc) - 1;
                days = 7;
                break;
        case ZUMA_SCHEDULE_MONTHLY:
                days_before = g_date_time_get_day_of_month(utc) - 1;
                days = g_date_get_days_in_month((GDateMonth)g_date_time_get_month(utc),
                                                (GDateYear)g_date_time_get_year(utc));
                break;
        case ZUMA_SCHEDULE_YEARLY:
                days_before = g_date_time_get_day_of_year(utc) - 1;
                days = g_date_is_leap_year((GDateYear)g_date_time_get_year(utc)) ? 366 : 365;
                break;
        default:
                g_return_val_if_reached(t);
        }
        *ret_length = (gint64)days * ZUMA_SECONDS_PER_DAY;
        return floor_to(t, ZUMA_SECONDS_PER_DAY) - (gint64)days_before * ZUMA_SECONDS_PER_DAY;
}

gint64 zuma_schedule_period_start(const ZumaSchedule *schedule, ZumaScheduleClass class_, gint64 t)
{
        gint64 length;

        switch (class_) {
        case ZUMA_SCHEDULE_EVERY:
                g_return_val_if_fail(schedule->every > 0, t);
                return floor_to(t, schedule->every);
        case ZUMA_SCHEDULE_HOURLY:
                return floor_to(t, ZUMA_SECONDS_PER_HOUR);
        case ZUMA_SCHEDULE_DAILY:
                return floor_to(t, ZUMA_SECONDS_PER_DAY);
        case ZUMA_SCHEDULE_WEEKLY:
        case ZUMA_SCHEDULE_MONTHLY:
        case ZUMA_SCHEDULE_YEARLY:
                return calendar_period(class_, t, &length);
        }
        g_return_val_if_reached(t);
}

gint64 zuma_schedule_period_end(const ZumaSchedule *schedule, ZumaScheduleClass class_, gint64 t)
{
        gint64 start, length = 0;

        switch (class_) {
        case ZUMA_SCHEDULE_EVERY:
                return zuma_schedule_period_start(schedule, class_, t) + schedule->every;
        case ZUMA_SCHEDULE_HOURLY:
                return floor_to(t, ZUMA_SECONDS_PER_HOUR) + ZUMA_SECONDS_PER_HOUR;
        case ZUMA_SCHEDULE_DAILY:
                return floor_to(t, ZUMA_SECONDS_PER_DAY) + ZUMA_SECONDS_PER_DAY;
        case ZUMA_SCHEDULE_WEEKLY:
        case ZUMA_SCHEDULE_MONTHLY:
        case ZUMA_SCHEDULE_YEARLY:
                start = calendar_period(class_, t, &length);
                return start + length;
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
