/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unit tests of the scheduler's time: UTC split and join against libc's
 * gmtime_r() and timegm(), class periods, snapshot names (format, strict
 * parse, round trip), the planner's rules (one snapshot per instant,
 * catch-up after downtime, clock jumps) and health.  Fixed cases; the
 * randomised year is test-schedule-year.c.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zuma-name-rule.h"
#include "zuma-schedule-calendar.h"
#include "zuma-schedule-health.h"
#include "zuma-schedule-name.h"
#include "zuma-schedule-plan.h"
#include "zuma-utc.h"

/* UTC seconds of a date and time, by libc (independent of zuma-utc.c). */
static gint64 at(int year, int month, int day, int hour, int minute)
{
        struct tm tm = { 0 };

        tm.tm_year = year - 1900;
        tm.tm_mon = month - 1;
        tm.tm_mday = day;
        tm.tm_hour = hour;
        tm.tm_min = minute;
        return (gint64)timegm(&tm);
}

static ZumaSchedule *schedule_of(guint32 every_keep, gint64 every, guint32 hourly, guint32 daily,
                                 guint32 weekly, guint32 monthly, guint32 yearly)
{
        ZumaSchedule *s = zuma_schedule_new();

        s->keep[ZUMA_SCHEDULE_EVERY] = every_keep;
        s->every = every;
        s->keep[ZUMA_SCHEDULE_HOURLY] = hourly;
        s->keep[ZUMA_SCHEDULE_DAILY] = daily;
        s->keep[ZUMA_SCHEDULE_WEEKLY] = weekly;
        s->keep[ZUMA_SCHEDULE_MONTHLY] = monthly;
        s->keep[ZUMA_SCHEDULE_YEARLY] = yearly;
        g_assert_true(zuma_schedule_validate(s, NULL));
        return s;
}

/* --- UTC --- */

static void check_split(gint64 t)
{
        time_t tt = (time_t)t;
        struct tm tm;
        ZumaUtcTime utc;
        gint64 back = -1;

        g_assert_nonnull(gmtime_r(&tt, &tm));
        zuma_utc_split(t, &utc);
        g_assert_cmpint(utc.year, ==, tm.tm_year + 1900);
        g_assert_cmpint(utc.month, ==, tm.tm_mon + 1);
        g_assert_cmpint(utc.day, ==, tm.tm_mday);
        g_assert_cmpint(utc.hour, ==, tm.tm_hour);
        g_assert_cmpint(utc.minute, ==, tm.tm_min);
        g_assert_cmpint(utc.second, ==, tm.tm_sec);
        g_assert_cmpint(utc.weekday, ==, tm.tm_wday == 0 ? 7 : tm.tm_wday);
        g_assert_true(zuma_utc_join(&utc, &back));
        g_assert_cmpint(back, ==, t);
}

static void test_utc(void)
{
        g_autoptr(GRand) rand = g_rand_new_with_seed(12);
        ZumaUtcTime utc;
        gint64 t = 42;

        check_split(ZUMA_UTC_MIN);
        check_split(ZUMA_UTC_MAX);
        check_split(at(2000, 2, 29, 12, 0));
        check_split(at(2100, 3, 1, 0, 0));
        for (int i = 0; i < 20000; i++)
                check_split((gint64)g_rand_double_range(rand, 0, (double)ZUMA_UTC_MAX));
        /* Leap days: every fourth year, not every hundredth, every 400th. */
        utc = (ZumaUtcTime){ 2028, 2, 29, 0, 0, 0, 0 };
        g_assert_true(zuma_utc_join(&utc, &t));
        g_assert_cmpint(t, ==, at(2028, 2, 29, 0, 0));
        utc = (ZumaUtcTime){ 2000, 2, 29, 0, 0, 0, 0 };
        g_assert_true(zuma_utc_join(&utc, &t));
        g_assert_cmpint(t, ==, at(2000, 2, 29, 0, 0));
        t = 42;

        /* Dates that do not exist, and times out of range. */
        utc = (ZumaUtcTime){ 2026, 2, 29, 0, 0, 0, 0 };
        g_assert_false(zuma_utc_join(&utc, &t));
        utc = (ZumaUtcTime){ 2100, 2, 29, 0, 0, 0, 0 };
        g_assert_false(zuma_utc_join(&utc, &t));
        utc = (ZumaUtcTime){ 10000, 1, 1, 0, 0, 0, 0 };
        g_assert_false(zuma_utc_join(&utc, &t));
        utc = (ZumaUtcTime){ 1969, 12, 31, 23, 59, 59, 0 };
        g_assert_false(zuma_utc_join(&utc, &t));
        utc = (ZumaUtcTime){ 2026, 4, 31, 0, 0, 0, 0 };
        g_assert_false(zuma_utc_join(&utc, &t));
        utc = (ZumaUtcTime){ 2026, 13, 1, 0, 0, 0, 0 };
        g_assert_false(zuma_utc_join(&utc, &t));
        utc = (ZumaUtcTime){ 2026, 12, 6, 24, 0, 0, 0 };
        g_assert_false(zuma_utc_join(&utc, &t));
        g_assert_cmpint(t, ==, 42);
}

/* --- class periods --- */

static void test_periods(void)
{
        g_autoptr(ZumaSchedule) s = schedule_of(2, 15 * 60, 1, 1, 1, 1, 1);
        gint64 t = at(2026, 12, 6, 14, 37) + 12; /* a Sunday */
        static const struct {
                ZumaScheduleClass c;
                int start[5], end[5];
        } cases[] = {
                { ZUMA_SCHEDULE_EVERY, { 2026, 12, 6, 14, 30 }, { 2026, 12, 6, 14, 45 } },
                { ZUMA_SCHEDULE_HOURLY, { 2026, 12, 6, 14, 0 }, { 2026, 12, 6, 15, 0 } },
                { ZUMA_SCHEDULE_DAILY, { 2026, 12, 6, 0, 0 }, { 2026, 12, 7, 0, 0 } },
                { ZUMA_SCHEDULE_WEEKLY, { 2026, 11, 30, 0, 0 }, { 2026, 12, 7, 0, 0 } },
                { ZUMA_SCHEDULE_MONTHLY, { 2026, 12, 1, 0, 0 }, { 2027, 1, 1, 0, 0 } },
                { ZUMA_SCHEDULE_YEARLY, { 2026, 1, 1, 0, 0 }, { 2027, 1, 1, 0, 0 } },
        };

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                const int *a = cases[i].start, *b = cases[i].end;

                g_assert_cmpint(zuma_schedule_period_start(s, cases[i].c, t), ==,
                                at(a[0], a[1], a[2], a[3], a[4]));
                g_assert_cmpint(zuma_schedule_period_end(s, cases[i].c, t), ==,
                                at(b[0], b[1], b[2], b[3], b[4]));
        }
        /* An instant is the start of its own period. */
        g_assert_cmpint(zuma_schedule_period_start(s, ZUMA_SCHEDULE_WEEKLY, at(2026, 12, 7, 0, 0)),
                        ==, at(2026, 12, 7, 0, 0));
        g_assert_cmpint(zuma_schedule_latest_instant(s, t), ==, at(2026, 12, 6, 14, 30));
        g_assert_cmpint(zuma_schedule_next_instant(s, t), ==, at(2026, 12, 6, 14, 45));
        /* The week of the epoch began on Monday 1969-12-29. */
        g_assert_cmpint(zuma_schedule_period_start(s, ZUMA_SCHEDULE_WEEKLY, 0), ==, -3 * 86400);
        /* The last month and year end in 10000, past the range. */
        g_assert_cmpint(zuma_schedule_period_start(s, ZUMA_SCHEDULE_YEARLY, ZUMA_UTC_MAX), ==,
                        at(9999, 1, 1, 0, 0));
        g_assert_cmpint(zuma_schedule_period_end(s, ZUMA_SCHEDULE_MONTHLY, ZUMA_UTC_MAX), ==,
                        ZUMA_UTC_MAX + 1);
        g_assert_cmpint(zuma_schedule_period_end(s, ZUMA_SCHEDULE_YEARLY, ZUMA_UTC_MAX), ==,
                        ZUMA_UTC_MAX + 1);
        /* February of a leap year; --every 1w falls on Thursdays (the epoch's). */
        g_assert_cmpint(zuma_schedule_period_end(s, ZUMA_SCHEDULE_MONTHLY, at(2028, 2, 10, 0, 0)),
                        ==, at(2028, 3, 1, 0, 0));
        s->every = 7 * 86400;
        g_assert_cmpint(zuma_schedule_period_start(s, ZUMA_SCHEDULE_EVERY, t), ==,
                        at(2026, 12, 3, 0, 0));
        /* --every 7m: multiples of 420 s since the epoch, across midnight. */
        s->every = 7 * 60;
        g_assert_cmpint(zuma_schedule_period_start(s, ZUMA_SCHEDULE_EVERY, at(2026, 12, 7, 0, 0)) %
                                420,
                        ==, 0);

        g_assert_cmpuint(zuma_schedule_classes_starting(s, ZUMA_SCHEDULE_NEVER, t), ==,
                         ZUMA_SCHEDULE_ALL_CLASSES);
        g_assert_cmpuint(
                zuma_schedule_classes_starting(s, at(2026, 12, 6, 23, 0), at(2026, 12, 7, 0, 0)),
                ==,
                ZUMA_SCHEDULE_CLASS_BIT(ZUMA_SCHEDULE_EVERY) |
                        ZUMA_SCHEDULE_CLASS_BIT(ZUMA_SCHEDULE_HOURLY) |
                        ZUMA_SCHEDULE_CLASS_BIT(ZUMA_SCHEDULE_DAILY) |
                        ZUMA_SCHEDULE_CLASS_BIT(ZUMA_SCHEDULE_WEEKLY));
        g_assert_cmpuint(
                zuma_schedule_classes_starting(s, at(2026, 12, 7, 0, 0), at(2026, 12, 7, 0, 7)), ==,
                ZUMA_SCHEDULE_CLASS_BIT(ZUMA_SCHEDULE_EVERY));
}

/* --- names --- */

static void test_names(void)
{
        static const char *const volumes[] = {
                "vol",        "my-vol",
                "a.b_c+d",    "x",
                "vol-hourly", "v23456789012345678901234567890123456789012345678901234567890123",
        };
        static const char *const refused[] = {
                "vol-hourly-2026-12-06-14:00:00", /* the server's style */
                "vol-2026-12-06-14:00:05",        /* the server's default name */
                "vol-hourly-2026-02-30-14:00",
                "vol-hourly-2026-12-06-24:00",
                "vol-hourly-2026-12-06-14:60",
                "vol-hourly-2026-12-6-14:00",
                "vol-hourly-2026-12-06-14:0a",
                "vol-hourly-+026-12-06-14:00",
                "vol-hourly-1969-12-31-23:59",
                "vol-hourly-2026-12-06-14:00x",
                "vol-hourly-2026-12-06-14-00",
                "vol-Hourly-2026-12-06-14:00",
                "vol-fortnightly-2026-12-06-14:00",
                "vol--2026-12-06-14:00",
                "volx-hourly-2026-12-06-14:00",
                "other-hourly-2026-12-06-14:00",
                "vol-hourly-2026-12-06-14:00 ",
                "vol-hourly",
                "vol-",
                "vol",
                "",
                "vol-hourly-hourly-2026-12-06-14:00",
        };
        g_autoptr(GRand) rand = g_rand_new_with_seed(7);
        g_autofree char *hourly =
                zuma_schedule_name_format("vol", ZUMA_SCHEDULE_HOURLY, at(2026, 12, 6, 14, 0));
        g_autofree char *daily =
                zuma_schedule_name_format("vol", ZUMA_SCHEDULE_DAILY, at(2026, 12, 6, 0, 0));
        ZumaScheduleClass c = ZUMA_SCHEDULE_YEARLY;
        gint64 instant = 42;

        g_assert_cmpstr(hourly, ==, "vol-hourly-2026-12-06-14:00");
        g_assert_cmpstr(daily, ==, "vol-daily-2026-12-06-00:00");
        for (gsize i = 0; i < G_N_ELEMENTS(refused); i++)
                if (zuma_schedule_name_parse("vol", refused[i], &c, &instant))
                        g_error("%s taken for a scheduled name", refused[i]);
        g_assert_cmpint(c, ==, ZUMA_SCHEDULE_YEARLY);
        g_assert_cmpint(instant, ==, 42);
        /* A volume named vol-hourly has names that start like vol's. */
        g_assert_true(zuma_schedule_name_parse("vol-hourly", "vol-hourly-hourly-2026-12-06-14:00",
                                               &c, &instant));
        g_assert_false(
                zuma_schedule_name_parse("vol", "vol-hourly-hourly-2026-12-06-14:00", NULL, NULL));

        for (int i = 0; i < 20000; i++) {
                const char *volume = volumes[g_rand_int_range(rand, 0, G_N_ELEMENTS(volumes))];
                ZumaScheduleClass label = g_rand_int_range(rand, 0, ZUMA_SCHEDULE_N_CLASSES);
                gint64 t = (gint64)g_rand_double_range(rand, 0, (double)ZUMA_UTC_MAX) / 60 * 60;
                g_autofree char *name = zuma_schedule_name_format(volume, label, t);

                g_assert_true(zuma_snapshot_name_valid(name));
                g_assert_true(zuma_schedule_name_parse(volume, name, &c, &instant));
                g_assert_cmpint(c, ==, label);
                g_assert_cmpint(instant, ==, t);
        }
}

/* --- the planner --- */

static void test_plan_first_and_steady(void)
{
        g_autoptr(ZumaSchedule) s = schedule_of(0, 0, 24, 7, 0, 0, 0);
        gint64 taken[2];
        ZumaSchedulePlan plan;
        g_autofree char *name = NULL;
        g_autofree char *second = NULL;
        g_autofree char *midnight = NULL;

        /* The first plan takes a snapshot at once, serving every class. */
        zuma_schedule_plan(s, ZUMA_SCHEDULE_NEVER, at(2026, 12, 6, 14, 37), NULL, 0, &plan);
        g_assert_true(plan.due);
        g_assert_cmpint(plan.instant, ==, at(2026, 12, 6, 14, 0));
        g_assert_cmpuint(plan.classes, ==, zuma_schedule_classes(s));
        g_assert_cmpint(plan.label, ==, ZUMA_SCHEDULE_DAILY);
        g_assert_cmpint(plan.handled, ==, plan.instant);
        g_assert_cmpint(plan.next, ==, at(2026, 12, 6, 15, 0));
        name = zuma_schedule_plan_name(&plan, "vol");
        g_assert_cmpstr(name, ==, "vol-daily-2026-12-06-14:00");
        taken[0] = plan.instant;

        /* Then nothing until 15:00, and at 15:00 an hourly. */
        zuma_schedule_plan(s, plan.handled, at(2026, 12, 6, 15, 0) - 1, taken, 1, &plan);
        g_assert_false(plan.due);
        g_assert_cmpint(plan.handled, ==, at(2026, 12, 6, 14, 0));
        g_assert_cmpint(plan.next, ==, at(2026, 12, 6, 15, 0));
        zuma_schedule_plan(s, plan.handled, at(2026, 12, 6, 15, 0), taken, 1, &plan);
        g_assert_true(plan.due);
        second = zuma_schedule_plan_name(&plan, "vol");
        g_assert_cmpstr(second, ==, "vol-hourly-2026-12-06-15:00");
        g_assert_cmpuint(plan.classes, ==, ZUMA_SCHEDULE_CLASS_BIT(ZUMA_SCHEDULE_HOURLY));

        /* Midnight serves hourly and daily, named daily: one snapshot. */
        taken[1] = at(2026, 12, 6, 23, 0);
        zuma_schedule_plan(s, taken[1], at(2026, 12, 7, 0, 0) + 30, taken, 2, &plan);
        g_assert_true(plan.due);
        g_assert_cmpuint(plan.classes, ==,
                         ZUMA_SCHEDULE_CLASS_BIT(ZUMA_SCHEDULE_HOURLY) |
                                 ZUMA_SCHEDULE_CLASS_BIT(ZUMA_SCHEDULE_DAILY));
        midnight = zuma_schedule_plan_name(&plan, "vol");
        g_assert_cmpstr(midnight, ==, "vol-daily-2026-12-07-00:00");
}

/* Runs the daemon's loop from start to end waking at each plan.next (plus
 * delay), taking what is due; returns the instants taken, with their
 * names in *ret_names. */
static GArray *run(const ZumaSchedule *s, GArray *taken, gint64 *last_handled, gint64 start,
                   gint64 end, gint64 delay, GPtrArray *names)
{
        gint64 now = start;

        while (now <= end) {
                ZumaSchedulePlan plan;

                zuma_schedule_plan(s, *last_handled, now, (const gint64 *)taken->data, taken->len,
                                   &plan);
                if (plan.due) {
                        g_ptr_array_add(names, zuma_schedule_plan_name(&plan, "vol"));
                        g_array_append_val(taken, plan.instant);
                }
                *last_handled = plan.handled;
                /* Asked again at once: never a second snapshot. */
                zuma_schedule_plan(s, *last_handled, now, (const gint64 *)taken->data, taken->len,
                                   &plan);
                g_assert_false(plan.due);
                g_assert_cmpint(plan.next, >, now);
                now = plan.next + delay;
        }
        return taken;
}

static void test_plan_downtime(void)
{
        g_autoptr(ZumaSchedule) s = schedule_of(0, 0, 24, 7, 4, 0, 0);
        g_autoptr(GArray) taken = g_array_new(FALSE, FALSE, sizeof(gint64));
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        gint64 handled = ZUMA_SCHEDULE_NEVER;
        ZumaSchedulePlan plan;
        guint before;

        /* Thursday 10:00 to Sunday 14:37: 3 days down, one catch-up at
         * 14:00, hourly and daily (no Monday passed). */
        run(s, taken, &handled, at(2026, 12, 3, 9, 0), at(2026, 12, 3, 10, 0), 5, names);
        before = names->len;
        zuma_schedule_plan(s, handled, at(2026, 12, 6, 14, 37), (const gint64 *)taken->data,
                           taken->len, &plan);
        g_assert_true(plan.due);
        g_assert_cmpint(plan.instant, ==, at(2026, 12, 6, 14, 0));
        g_assert_cmpuint(plan.classes, ==,
                         ZUMA_SCHEDULE_CLASS_BIT(ZUMA_SCHEDULE_HOURLY) |
                                 ZUMA_SCHEDULE_CLASS_BIT(ZUMA_SCHEDULE_DAILY));
        run(s, taken, &handled, at(2026, 12, 6, 14, 37), at(2026, 12, 6, 14, 59), 0, names);
        g_assert_cmpuint(names->len, ==, before + 1);
        g_assert_cmpstr(names->pdata[before], ==, "vol-daily-2026-12-06-14:00");

        /* Saturday to Tuesday: the catch-up serves the week too. */
        run(s, taken, &handled, at(2026, 12, 12, 10, 0), at(2026, 12, 12, 10, 0), 0, names);
        before = names->len;
        run(s, taken, &handled, at(2026, 12, 15, 9, 10), at(2026, 12, 15, 9, 59), 3, names);
        g_assert_cmpuint(names->len, ==, before + 1);
        g_assert_cmpstr(names->pdata[before], ==, "vol-weekly-2026-12-15-09:00");
}

static gboolean names_unique(GPtrArray *names)
{
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

        for (guint i = 0; i < names->len; i++)
                if (!g_hash_table_add(seen, names->pdata[i]))
                        return FALSE;
        return TRUE;
}

static void test_plan_clock_back(void)
{
        g_autoptr(ZumaSchedule) s = schedule_of(0, 0, 24, 7, 0, 0, 0);
        g_autoptr(GArray) taken = g_array_new(FALSE, FALSE, sizeof(gint64));
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        gint64 handled = ZUMA_SCHEDULE_NEVER;
        ZumaSchedulePlan plan;
        guint before;

        run(s, taken, &handled, at(2026, 12, 6, 10, 0), at(2026, 12, 6, 14, 30), 2, names);
        g_assert_cmpuint(names->len, ==, 5);

        /* Three hours back: 11:00..14:00 have snapshots; nothing is due
         * until 15:00, and 15:00 is the next planned instant. */
        zuma_schedule_plan(s, handled, at(2026, 12, 6, 11, 30), (const gint64 *)taken->data,
                           taken->len, &plan);
        g_assert_false(plan.due);
        g_assert_cmpint(plan.handled, ==, at(2026, 12, 6, 11, 0));
        g_assert_cmpint(plan.next, ==, at(2026, 12, 6, 15, 0));
        handled = plan.handled;
        run(s, taken, &handled, at(2026, 12, 6, 11, 30), at(2026, 12, 6, 16, 30), 0, names);
        g_assert_cmpuint(names->len, ==, 7);
        g_assert_cmpstr(names->pdata[5], ==, "vol-hourly-2026-12-06-15:00");
        g_assert_true(names_unique(names));

        /* Forward by half a year by mistake: one catch-up, monthly-sized
         * label absent, so daily. */
        before = names->len;
        run(s, taken, &handled, at(2027, 6, 1, 0, 20), at(2027, 6, 1, 0, 20), 0, names);
        g_assert_cmpuint(names->len, ==, before + 1);
        g_assert_cmpstr(names->pdata[before], ==, "vol-daily-2027-06-01-00:00");

        /* And back to the right time: the schedule resumes at the next
         * hour, not in June. */
        before = names->len;
        run(s, taken, &handled, at(2026, 12, 6, 16, 40), at(2026, 12, 7, 1, 30), 0, names);
        g_assert_cmpuint(names->len, ==, before + 9); /* 17:00 .. 01:00 */
        g_assert_cmpstr(names->pdata[before], ==, "vol-hourly-2026-12-06-17:00");
        g_assert_cmpstr(names->pdata[before + 7], ==, "vol-daily-2026-12-07-00:00");
        g_assert_true(names_unique(names));

        /* Time reaches June 2027 again: its instant has a snapshot and is
         * skipped, the next hour is not. */
        before = names->len;
        run(s, taken, &handled, at(2027, 5, 31, 23, 30), at(2027, 6, 1, 1, 30), 0, names);
        g_assert_cmpuint(names->len, ==, before + 2); /* 23:00 catch-up, 01:00 */
        g_assert_cmpstr(names->pdata[before], ==, "vol-daily-2027-05-31-23:00");
        g_assert_cmpstr(names->pdata[before + 1], ==, "vol-hourly-2027-06-01-01:00");
        g_assert_true(names_unique(names));
}

/* Names a fixed sequence of plans produces, around both DST changes of
 * 2026 in Europe (29 March, 25 October, 01:00 UTC). */
static char *plans_around_dst(void)
{
        g_autoptr(ZumaSchedule) s = schedule_of(4, 20 * 60, 24, 7, 4, 12, 2);
        g_autoptr(GArray) taken = g_array_new(FALSE, FALSE, sizeof(gint64));
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        gint64 handled = ZUMA_SCHEDULE_NEVER;

        run(s, taken, &handled, at(2026, 3, 28, 22, 0), at(2026, 3, 29, 4, 0), 1, names);
        run(s, taken, &handled, at(2026, 10, 24, 22, 0), at(2026, 10, 25, 4, 0), 1, names);
        g_ptr_array_add(names, NULL);
        return g_strjoinv(" ", (char **)names->pdata);
}

static void test_plan_dst(void)
{
        g_autofree char *utc = NULL;
        g_autofree char *berlin = NULL;

        g_setenv("TZ", "UTC", TRUE);
        tzset();
        utc = plans_around_dst();
        g_setenv("TZ", "Europe/Berlin", TRUE);
        tzset();
        berlin = plans_around_dst();
        g_assert_cmpstr(utc, ==, berlin);
        /* Every 20 minutes through 01:00 UTC, when Berlin's clocks jump. */
        g_assert_nonnull(strstr(utc, "vol-every-2026-03-29-00:40 vol-hourly-2026-03-29-01:00 "
                                     "vol-every-2026-03-29-01:20"));
        g_assert_nonnull(strstr(utc, "vol-daily-2026-10-25-00:00"));
        g_unsetenv("TZ");
        tzset();
}

/* --- health --- */

static void test_health(void)
{
        g_autoptr(ZumaSchedule) s = schedule_of(0, 0, 24, 7, 0, 0, 0);
        gint64 newest = at(2026, 12, 6, 14, 0);
        ZumaScheduleHealth h;
        g_autofree char *ok = NULL;
        g_autofree char *warning = NULL;
        g_autofree char *critical = NULL;
        g_autofree char *none = NULL;

        g_assert_cmpint(zuma_schedule_default_max_age(s), ==, 2 * 3600 + 300);

        zuma_schedule_health(s, newest, at(2026, 12, 6, 14, 30), 0, &h);
        g_assert_cmpint(h.status, ==, ZUMA_HEALTH_OK);
        g_assert_cmpint(h.age, ==, 1800);
        g_assert_false(h.overdue);
        ok = zuma_schedule_health_line(&h, "vol");
        g_assert_cmpstr(ok, ==,
                        "OK: vol: newest scheduled snapshot 2026-12-06 14:00 UTC, 30m old; "
                        "next 2026-12-06 15:00 UTC | age=1800s;;7500;0");

        /* 15:00 missing: within the grace, then overdue. */
        zuma_schedule_health(s, newest, at(2026, 12, 6, 15, 5), 0, &h);
        g_assert_cmpint(h.status, ==, ZUMA_HEALTH_OK);
        zuma_schedule_health(s, newest, at(2026, 12, 6, 15, 5) + 1, 0, &h);
        g_assert_cmpint(h.status, ==, ZUMA_HEALTH_WARNING);
        g_assert_true(h.overdue);
        warning = zuma_schedule_health_line(&h, "vol");
        g_assert_nonnull(strstr(warning, "WARNING: vol: "));
        g_assert_nonnull(strstr(warning, "2026-12-06 15:00 UTC is overdue"));

        /* Two missed: critical by default, a warning under --max-age 1d. */
        zuma_schedule_health(s, newest, at(2026, 12, 6, 16, 5) + 1, 0, &h);
        g_assert_cmpint(h.status, ==, ZUMA_HEALTH_CRITICAL);
        critical = zuma_schedule_health_line(&h, "vol");
        g_assert_nonnull(strstr(critical, "CRITICAL: vol: "));
        g_assert_nonnull(strstr(critical, "older than 2h5m"));
        zuma_schedule_health(s, newest, at(2026, 12, 6, 16, 5) + 1, 86400, &h);
        g_assert_cmpint(h.status, ==, ZUMA_HEALTH_WARNING);
        zuma_schedule_health(s, newest, at(2026, 12, 7, 14, 0) + 1, 86400, &h);
        g_assert_cmpint(h.status, ==, ZUMA_HEALTH_CRITICAL);
        /* A max age shorter than the schedule's gap is the caller's word. */
        zuma_schedule_health(s, newest, at(2026, 12, 6, 14, 50), 1800, &h);
        g_assert_cmpint(h.status, ==, ZUMA_HEALTH_CRITICAL);
        g_assert_false(h.overdue);

        /* None at all. */
        zuma_schedule_health(s, ZUMA_SCHEDULE_NEVER, at(2026, 12, 6, 14, 10), 0, &h);
        g_assert_cmpint(h.status, ==, ZUMA_HEALTH_CRITICAL);
        none = zuma_schedule_health_line(&h, "vol");
        g_assert_cmpstr(none, ==,
                        "CRITICAL: vol: no scheduled snapshot; the snapshot for 2026-12-06 14:00 "
                        "UTC is overdue; next 2026-12-06 15:00 UTC");

        /* The clock went back past the newest: 0 s old, fine. */
        zuma_schedule_health(s, newest, at(2026, 12, 6, 12, 10), 0, &h);
        g_assert_cmpint(h.status, ==, ZUMA_HEALTH_OK);
        g_assert_cmpint(h.age, ==, 0);

        /* A 1m schedule has a 30 s grace; a daily one 5m. */
        {
                g_autoptr(ZumaSchedule) fast = schedule_of(10, 60, 0, 0, 0, 0, 0);
                g_autoptr(ZumaSchedule) monthly = schedule_of(0, 0, 0, 0, 0, 3, 0);

                zuma_schedule_health(fast, at(2026, 12, 6, 14, 0), at(2026, 12, 6, 14, 1) + 31, 0,
                                     &h);
                g_assert_cmpint(h.grace, ==, 30);
                g_assert_cmpint(h.status, ==, ZUMA_HEALTH_WARNING);
                g_assert_cmpint(zuma_schedule_default_max_age(monthly), ==, 2 * 31 * 86400 + 300);
        }
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/utc/split-join", test_utc);
        g_test_add_func("/calendar/periods", test_periods);
        g_test_add_func("/name/format-parse", test_names);
        g_test_add_func("/plan/first-and-steady", test_plan_first_and_steady);
        g_test_add_func("/plan/downtime", test_plan_downtime);
        g_test_add_func("/plan/clock-back-and-forward", test_plan_clock_back);
        g_test_add_func("/plan/dst", test_plan_dst);
        g_test_add_func("/health", test_health);
        return g_test_run();
}
