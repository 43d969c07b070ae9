/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unit tests of retention (agents/schedulerd/zuma-schedule-prune.c) on
 * fixed lists: which scheduled snapshots go, that pinned and hand-taken
 * ones stay, snapshots from the future, idempotence, stand-ins for a
 * period's deleted first snapshot, and the direction of priorities.
 */
#include <string.h>
#include <time.h>

#include "zuma-schedule-calendar.h"
#include "zuma-schedule-name.h"
#include "zuma-schedule-prune.h"

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

typedef struct {
        GPtrArray *names;  /* owned */
        GArray *snapshots; /* ZumaPruneSnapshot, names borrowed from names */
        GArray *verdicts;  /* ZumaPruneVerdict */
} List;

static void list_init(List *list)
{
        list->names = g_ptr_array_new_with_free_func(g_free);
        list->snapshots = g_array_new(FALSE, TRUE, sizeof(ZumaPruneSnapshot));
        list->verdicts = g_array_new(FALSE, TRUE, sizeof(ZumaPruneVerdict));
}

static void list_clear(List *list)
{
        g_ptr_array_unref(list->names);
        g_array_unref(list->snapshots);
        g_array_unref(list->verdicts);
}

static void add(List *list, const char *name, gboolean pinned)
{
        ZumaPruneSnapshot snapshot = { 0 };
        char *copy = g_strdup(name);

        g_ptr_array_add(list->names, copy);
        snapshot.name = copy;
        snapshot.creation_time = 0;
        snapshot.pinned = pinned;
        g_array_append_val(list->snapshots, snapshot);
}

static void add_scheduled(List *list, ZumaScheduleClass label, gint64 instant, gboolean pinned)
{
        g_autofree char *name = zuma_schedule_name_format("vol", label, instant);

        add(list, name, pinned);
}

static void prune(const ZumaSchedule *s, List *list, gint64 now)
{
        g_array_set_size(list->verdicts, list->snapshots->len);
        zuma_schedule_prune(s, "vol", now, (const ZumaPruneSnapshot *)list->snapshots->data,
                            list->snapshots->len, (ZumaPruneVerdict *)list->verdicts->data);
}

static const ZumaPruneVerdict *verdict(List *list, const char *name)
{
        for (guint i = 0; i < list->names->len; i++)
                if (g_str_equal(list->names->pdata[i], name))
                        return &g_array_index(list->verdicts, ZumaPruneVerdict, i);
        g_error("no snapshot %s", name);
}

/* Removes the snapshots the verdicts delete; returns how many. */
static guint carry_out(List *list)
{
        guint deleted = 0;

        for (guint i = list->snapshots->len; i-- > 0;)
                if (g_array_index(list->verdicts, ZumaPruneVerdict, i).action ==
                    ZUMA_PRUNE_DELETE) {
                        g_array_remove_index(list->snapshots, i);
                        g_array_remove_index(list->verdicts, i);
                        g_ptr_array_remove_index(list->names, i);
                        deleted++;
                }
        return deleted;
}

static ZumaSchedule *hourly_daily(guint32 hourly, guint32 daily)
{
        ZumaSchedule *s = zuma_schedule_new();

        s->keep[ZUMA_SCHEDULE_HOURLY] = hourly;
        s->keep[ZUMA_SCHEDULE_DAILY] = daily;
        return s;
}

/* Hourly snapshots from..to as the planner names them. */
static void add_hours(List *list, gint64 from, gint64 to)
{
        for (gint64 t = from; t <= to; t += 3600)
                add_scheduled(list, t % 86400 ? ZUMA_SCHEDULE_HOURLY : ZUMA_SCHEDULE_DAILY, t,
                              FALSE);
}

static void test_prune_basic(void)
{
        g_autoptr(ZumaSchedule) s = hourly_daily(3, 2);
        gint64 now = at(2026, 12, 6, 14, 30);
        List list;

        list_init(&list);
        add_hours(&list, at(2026, 12, 4, 0, 0), at(2026, 12, 6, 14, 0));
        add(&list, "vol-2026-12-05-10:00:00", FALSE); /* the server's default name */
        add(&list, "before-upgrade", FALSE);
        add(&list, "other-hourly-2026-12-05-03:00", FALSE); /* another volume's */
        add(&list, "vol-hourly-2026-12-05-03:00:00", FALSE);
        add_scheduled(&list, ZUMA_SCHEDULE_HOURLY, at(2026, 12, 4, 5, 0) + 60, TRUE);
        prune(s, &list, now);

        g_assert_cmpint(verdict(&list, "vol-2026-12-05-10:00:00")->action, ==,
                        ZUMA_PRUNE_NOT_SCHEDULED);
        g_assert_cmpint(verdict(&list, "before-upgrade")->action, ==, ZUMA_PRUNE_NOT_SCHEDULED);
        g_assert_cmpint(verdict(&list, "other-hourly-2026-12-05-03:00")->action, ==,
                        ZUMA_PRUNE_NOT_SCHEDULED);
        g_assert_cmpint(verdict(&list, "vol-hourly-2026-12-05-03:00:00")->action, ==,
                        ZUMA_PRUNE_NOT_SCHEDULED);

        /* Hourly keeps 12:00..14:00, daily the 6th and the 5th. */
        for (guint i = 0; i < list.names->len; i++) {
                const char *name = list.names->pdata[i];
                const ZumaPruneVerdict *v = &g_array_index(list.verdicts, ZumaPruneVerdict, i);
                gboolean hourly = g_str_equal(name, "vol-hourly-2026-12-06-12:00") ||
                                  g_str_equal(name, "vol-hourly-2026-12-06-13:00") ||
                                  g_str_equal(name, "vol-hourly-2026-12-06-14:00");
                gboolean daily = g_str_equal(name, "vol-daily-2026-12-06-00:00") ||
                                 g_str_equal(name, "vol-daily-2026-12-05-00:00");

                if (v->action == ZUMA_PRUNE_NOT_SCHEDULED)
                        continue;
                g_assert_cmpuint(
                        v->kept_by, ==,
                        (hourly ? ZUMA_SCHEDULE_CLASS_BIT(ZUMA_SCHEDULE_HOURLY) : 0) |
                                (daily ? ZUMA_SCHEDULE_CLASS_BIT(ZUMA_SCHEDULE_DAILY) : 0));
                if (g_str_equal(name, "vol-hourly-2026-12-04-05:01"))
                        g_assert_cmpint(v->action, ==, ZUMA_PRUNE_KEEP); /* pinned */
                else
                        g_assert_cmpint(v->action, ==,
                                        hourly || daily ? ZUMA_PRUNE_KEEP : ZUMA_PRUNE_DELETE);
        }
        g_assert_cmpint(verdict(&list, "vol-hourly-2026-12-06-14:00")->priority, ==, -50);
        g_assert_cmpint(verdict(&list, "vol-daily-2026-12-06-00:00")->priority, ==, -40);
        g_assert_cmpint(verdict(&list, "vol-hourly-2026-12-04-05:01")->priority, ==, -60);
        g_assert_cmpint(verdict(&list, "vol-hourly-2026-12-06-14:00")->instant, ==,
                        at(2026, 12, 6, 14, 0));

        /* Carried out, and pruned again: nothing more goes. */
        g_assert_cmpuint(carry_out(&list), ==, 63 - 5);
        prune(s, &list, now);
        g_assert_cmpuint(carry_out(&list), ==, 0);
        g_assert_cmpuint(list.names->len, ==, 5 + 4 + 1);
        list_clear(&list);
}

static void test_prune_future_and_duplicates(void)
{
        g_autoptr(ZumaSchedule) s = hourly_daily(2, 1);
        gint64 now = at(2026, 12, 6, 14, 30);
        List list;

        list_init(&list);
        add_hours(&list, at(2026, 12, 6, 10, 0), at(2026, 12, 6, 14, 0));
        /* From before the clock went back: kept, not counted. */
        add_scheduled(&list, ZUMA_SCHEDULE_YEARLY, at(2027, 6, 1, 0, 0), FALSE);
        add_scheduled(&list, ZUMA_SCHEDULE_HOURLY, at(2026, 12, 6, 15, 0), FALSE);
        /* Two names for one instant: the first listed stands for it. */
        add_scheduled(&list, ZUMA_SCHEDULE_DAILY, at(2026, 12, 6, 14, 0), FALSE);
        prune(s, &list, now);

        g_assert_cmpint(verdict(&list, "vol-yearly-2027-06-01-00:00")->action, ==, ZUMA_PRUNE_KEEP);
        g_assert_cmpuint(verdict(&list, "vol-yearly-2027-06-01-00:00")->kept_by, ==, 0);
        g_assert_cmpint(verdict(&list, "vol-yearly-2027-06-01-00:00")->priority, ==, -10);
        g_assert_cmpint(verdict(&list, "vol-hourly-2026-12-06-15:00")->action, ==, ZUMA_PRUNE_KEEP);
        g_assert_cmpint(verdict(&list, "vol-hourly-2026-12-06-14:00")->action, ==, ZUMA_PRUNE_KEEP);
        g_assert_cmpint(verdict(&list, "vol-hourly-2026-12-06-13:00")->action, ==, ZUMA_PRUNE_KEEP);
        g_assert_cmpint(verdict(&list, "vol-hourly-2026-12-06-12:00")->action, ==,
                        ZUMA_PRUNE_DELETE);
        g_assert_cmpint(verdict(&list, "vol-daily-2026-12-06-14:00")->action, ==,
                        ZUMA_PRUNE_DELETE);
        /* Daily keeps the first of the day that is left: 10:00. */
        g_assert_cmpuint(verdict(&list, "vol-hourly-2026-12-06-10:00")->kept_by, ==,
                         ZUMA_SCHEDULE_CLASS_BIT(ZUMA_SCHEDULE_DAILY));
        list_clear(&list);
}

static void test_prune_stand_in(void)
{
        g_autoptr(ZumaSchedule) s = hourly_daily(2, 3);
        gint64 now = at(2026, 12, 6, 14, 30);
        List list;

        list_init(&list);
        /* The 5th's 00:00 was deleted by hand: its 01:00 stands in. */
        add_hours(&list, at(2026, 12, 5, 1, 0), at(2026, 12, 5, 3, 0));
        add_hours(&list, at(2026, 12, 6, 0, 0), at(2026, 12, 6, 14, 0));
        prune(s, &list, now);
        g_assert_cmpuint(verdict(&list, "vol-hourly-2026-12-05-01:00")->kept_by, ==,
                         ZUMA_SCHEDULE_CLASS_BIT(ZUMA_SCHEDULE_DAILY));
        g_assert_cmpint(verdict(&list, "vol-hourly-2026-12-05-02:00")->action, ==,
                        ZUMA_PRUNE_DELETE);
        carry_out(&list);
        prune(s, &list, now);
        g_assert_cmpuint(carry_out(&list), ==, 0);
        list_clear(&list);
}

static void test_priorities(void)
{
        g_autoptr(ZumaSchedule) s = zuma_schedule_new();
        gint32 previous = G_MININT32;

        /* Lower goes first in the store-full autodelete: hourly < daily <
         * weekly < monthly < yearly < 0 (hand-taken). */
        for (int c = ZUMA_SCHEDULE_EVERY; c <= ZUMA_SCHEDULE_YEARLY; c++) {
                gint32 p = zuma_schedule_class_priority(s, c);

                g_assert_cmpint(p, >, previous);
                g_assert_cmpint(p, <, 0);
                previous = p;
        }
        g_assert_cmpint(zuma_schedule_class_priority(s, ZUMA_SCHEDULE_HOURLY), ==, -50);
        g_assert_cmpint(zuma_schedule_class_priority(s, ZUMA_SCHEDULE_YEARLY), ==, -10);
        s->every = 6 * 3600;
        g_assert_cmpint(zuma_schedule_class_priority(s, ZUMA_SCHEDULE_HOURLY), ==, -60);
        g_assert_cmpint(zuma_schedule_class_priority(s, ZUMA_SCHEDULE_EVERY), ==, -50);
        g_assert_cmpint(zuma_schedule_class_priority(s, ZUMA_SCHEDULE_DAILY), ==, -40);
}

static void test_prune_empty(void)
{
        g_autoptr(ZumaSchedule) s = hourly_daily(1, 1);

        zuma_schedule_prune(s, "vol", at(2026, 12, 6, 0, 0), NULL, 0, NULL);
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/prune/basic", test_prune_basic);
        g_test_add_func("/prune/future-and-duplicates", test_prune_future_and_duplicates);
        g_test_add_func("/prune/stand-in", test_prune_stand_in);
        g_test_add_func("/prune/priorities", test_priorities);
        g_test_add_func("/prune/empty", test_prune_empty);
        return g_test_run();
}
