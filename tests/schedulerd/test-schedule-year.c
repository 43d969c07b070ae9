/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A simulated year per schedule, against an independent model.
 *
 * The "daemon" here is the loop the real one will run: ask the planner,
 * take the snapshot it names (into a list that plays the server), record
 * plan.handled, prune, carry out the verdicts, sleep until plan.next.  Its
 * clock wakes a little late, and now and then the host is down for an
 * hour to ten days.  Hand-taken snapshots appear and scheduled ones get
 * pinned at random.
 *
 * The model knows nothing of the library's arithmetic: it finds instants
 * by walking back minute by minute, hour by hour, day by day with libc's
 * gmtime_r() (under TZ=Europe/Berlin, to show that the time zone changes
 * nothing), decides which classes a snapshot serves by comparing calendar
 * fields with the previous snapshot's, and keeps, per class, the newest N
 * snapshots that served it.  After every step the scheduled snapshots
 * that exist must be exactly the model's (kept by some class, or pinned),
 * with the same classes keeping each and the documented priority; hand-
 * taken ones are all there; no name or instant twice; one snapshot per
 * wake-up at most.
 *
 * Random: prints its seed; ZUMA_TEST_SEED=N or --seed N repeats a run.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zuma-schedule-calendar.h"
#include "zuma-schedule-name.h"
#include "zuma-schedule-plan.h"
#include "zuma-schedule-prune.h"

static guint32 seed;

/* --- the model --- */

typedef struct {
        gint64 instant;
        guint served; /* classes, decided when taken */
        /* For each class served: how many snapshots served it before. */
        guint position[ZUMA_SCHEDULE_N_CLASSES];
        gboolean pinned;
        char *name;
} ModelSnapshot;

typedef struct {
        const ZumaSchedule *schedule;
        GArray *snapshots; /* ModelSnapshot the model keeps, in the order taken */
        guint served[ZUMA_SCHEDULE_N_CLASSES]; /* snapshots ever taken that served each */
        gint64 last;                           /* the last instant taken, or ZUMA_SCHEDULE_NEVER */
} Model;

static struct tm utc_of(gint64 t)
{
        time_t tt = (time_t)t;
        struct tm tm;

        g_assert_nonnull(gmtime_r(&tt, &tm));
        return tm;
}

/* The latest instant of class c at or before t, from libc's broken-down
 * time: back by the minutes, hours and weekdays it reports. */
static gint64 model_latest(const ZumaSchedule *s, int c, gint64 t)
{
        struct tm tm = utc_of(t);
        gint64 x = t - tm.tm_sec;

        if (c == ZUMA_SCHEDULE_EVERY) {
                while (x % s->every)
                        x -= 60;
                return x;
        }
        x -= tm.tm_min * 60;
        if (c == ZUMA_SCHEDULE_HOURLY)
                return x;
        x -= tm.tm_hour * 3600;
        if (c == ZUMA_SCHEDULE_DAILY)
                return x;
        if (c == ZUMA_SCHEDULE_WEEKLY)
                return x - (tm.tm_wday + 6) % 7 * 86400;
        /* Months and years by libc's timegm(). */
        tm.tm_sec = tm.tm_min = tm.tm_hour = 0;
        tm.tm_mday = 1;
        if (c == ZUMA_SCHEDULE_YEARLY)
                tm.tm_mon = 0;
        return (gint64)timegm(&tm);
}

/* Whether a and b (a < b) lie in different periods of class c. */
static gboolean model_new_period(const ZumaSchedule *s, int c, gint64 a, gint64 b)
{
        struct tm x = utc_of(a), y = utc_of(b);

        switch (c) {
        case ZUMA_SCHEDULE_EVERY:
                return a / s->every != b / s->every;
        case ZUMA_SCHEDULE_HOURLY:
                return x.tm_year != y.tm_year || x.tm_yday != y.tm_yday || x.tm_hour != y.tm_hour;
        case ZUMA_SCHEDULE_DAILY:
                return x.tm_year != y.tm_year || x.tm_yday != y.tm_yday;
        case ZUMA_SCHEDULE_WEEKLY:
                /* Mondays of their weeks, as days since the epoch. */
                return (a / 86400 - (x.tm_wday + 6) % 7) != (b / 86400 - (y.tm_wday + 6) % 7);
        case ZUMA_SCHEDULE_MONTHLY:
                return x.tm_year != y.tm_year || x.tm_mon != y.tm_mon;
        default:
                return x.tm_year != y.tm_year;
        }
}

/* Rank by nominal period, the every class first on a tie: the documented
 * order, written out again. */
static int model_rank(const ZumaSchedule *s, int c)
{
        static const gint64 period[] = { 0, 3600, 86400, 7 * 86400, 31 * 86400, 366 * 86400 };
        int rank = 0;

        for (int o = 0; o < ZUMA_SCHEDULE_N_CLASSES; o++) {
                gint64 po = o ? period[o] : s->every, pc = c ? period[c] : s->every;

                rank += po < pc || (po == pc && o < c);
        }
        return rank;
}

/* What the model expects at now: the instant due, or NEVER. */
static gint64 model_due(const Model *m, gint64 now, guint *ret_served)
{
        gint64 latest = ZUMA_SCHEDULE_NEVER;

        for (int c = 0; c < ZUMA_SCHEDULE_N_CLASSES; c++)
                if (m->schedule->keep[c])
                        latest = MAX(latest, model_latest(m->schedule, c, now));
        if (latest <= m->last)
                return ZUMA_SCHEDULE_NEVER;
        *ret_served = 0;
        for (int c = 0; c < ZUMA_SCHEDULE_N_CLASSES; c++)
                if (m->schedule->keep[c] && (m->last == ZUMA_SCHEDULE_NEVER ||
                                             model_new_period(m->schedule, c, m->last, latest)))
                        *ret_served |= 1u << c;
        return latest;
}

/* Which classes keep a snapshot: it is among the newest keep[c] that
 * served c. */
static guint model_kept_by(const Model *m, const ModelSnapshot *ms)
{
        guint kept = 0;

        for (int c = 0; c < ZUMA_SCHEDULE_N_CLASSES; c++)
                if ((ms->served & (1u << c)) &&
                    ms->position[c] + m->schedule->keep[c] >= m->served[c])
                        kept |= 1u << c;
        return kept;
}

static void model_take(Model *m, gint64 instant, guint served, const char *name)
{
        ModelSnapshot ms = { instant, served, { 0 }, FALSE, g_strdup(name) };

        for (int c = 0; c < ZUMA_SCHEDULE_N_CLASSES; c++)
                if (served & (1u << c))
                        ms.position[c] = m->served[c]++;
        g_array_append_val(m->snapshots, ms);
        m->last = instant;
}

/* The model's own retention: forgets what no class keeps, unless pinned. */
static void model_prune(Model *m)
{
        for (guint i = m->snapshots->len; i-- > 0;) {
                ModelSnapshot *ms = &g_array_index(m->snapshots, ModelSnapshot, i);

                if (!ms->pinned && !model_kept_by(m, ms)) {
                        g_free(ms->name);
                        g_array_remove_index(m->snapshots, i);
                }
        }
}

static int model_largest(const ZumaSchedule *s, guint served)
{
        int top = -1;

        for (int c = 0; c < ZUMA_SCHEDULE_N_CLASSES; c++)
                if ((served & (1u << c)) && (top < 0 || model_rank(s, c) > model_rank(s, top)))
                        top = c;
        return top;
}

/* --- the server's list --- */

typedef struct {
        char *name;
        gint64 creation_time;
        gboolean pinned;
        gboolean hand;
} ServerSnapshot;

static void server_snapshot_clear(gpointer p)
{
        g_free(((ServerSnapshot *)p)->name);
}

static ServerSnapshot *server_find(GArray *server, const char *name)
{
        for (guint i = 0; i < server->len; i++)
                if (g_str_equal(g_array_index(server, ServerSnapshot, i).name, name))
                        return &g_array_index(server, ServerSnapshot, i);
        return NULL;
}

static void server_add(GArray *server, const char *name, gint64 now, gboolean hand)
{
        ServerSnapshot snapshot = { g_strdup(name), now, FALSE, hand };

        g_assert_null(server_find(server, name));
        g_array_append_val(server, snapshot);
}

typedef struct {
        guint taken, catch_ups, downtimes, deleted, hand, pinned, wakes;
} Stats;

/* The server's scheduled snapshots are exactly the model's, with the
 * classes and priorities the model gives them; the hand-taken are all
 * there.  verdicts are the prune's, index-aligned with server. */
static void check(const Model *m, GArray *server, const ZumaPruneVerdict *verdicts,
                  guint hand_expected, gint64 now)
{
        g_autoptr(GHashTable) index = g_hash_table_new(g_str_hash, g_str_equal);
        guint hand = 0;

        for (guint i = 0; i < server->len; i++) {
                const ServerSnapshot *ss = &g_array_index(server, ServerSnapshot, i);

                g_assert_true(g_hash_table_insert(index, ss->name, GUINT_TO_POINTER(i + 1)));
                hand += ss->hand;
        }
        g_assert_cmpuint(hand, ==, hand_expected);
        g_assert_cmpuint(server->len, ==, m->snapshots->len + hand);
        for (guint i = 0; i < m->snapshots->len; i++) {
                const ModelSnapshot *ms = &g_array_index(m->snapshots, ModelSnapshot, i);
                guint at = GPOINTER_TO_UINT(g_hash_table_lookup(index, ms->name));
                guint kept = model_kept_by(m, ms);
                const ZumaPruneVerdict *v;
                int top = -1;

                if (!at)
                        g_error("seed %u, now %" G_GINT64_FORMAT ": %s should exist", seed, now,
                                ms->name);
                v = &verdicts[at - 1];
                g_assert_cmpint(v->action, ==, ZUMA_PRUNE_KEEP);
                g_assert_cmpuint(v->kept_by, ==, kept);
                g_assert_cmpint(v->instant, ==, ms->instant);
                top = kept ? model_rank(m->schedule, model_largest(m->schedule, kept)) : 0;
                g_assert_cmpint(v->priority, ==, -10 * (6 - top));
        }
}

static void simulate(const ZumaSchedule *s, int days, GRand *rand, Stats *stats)
{
        g_autoptr(GArray) server = g_array_new(FALSE, TRUE, sizeof(ServerSnapshot));
        g_autoptr(GHashTable) ever = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        Model m = {
                s, g_array_new(FALSE, TRUE, sizeof(ModelSnapshot)), { 0 }, ZUMA_SCHEDULE_NEVER
        };
        gint64 start = (2025 - 1970) * G_GINT64_CONSTANT(31556952) +
                       g_rand_int_range(rand, 0, 6 * 365) * G_GINT64_CONSTANT(86400) +
                       g_rand_int_range(rand, 0, 86400);
        gint64 end = start + days * G_GINT64_CONSTANT(86400);
        gint64 handled = ZUMA_SCHEDULE_NEVER;
        guint hand_count = 0;
        gint64 now = start;
        gboolean after_downtime = FALSE;

        g_array_set_clear_func(server, server_snapshot_clear);
        while (now < end) {
                g_autoptr(GArray) taken = g_array_new(FALSE, FALSE, sizeof(gint64));
                g_autoptr(GArray) list = g_array_new(FALSE, TRUE, sizeof(ZumaPruneSnapshot));
                g_autofree ZumaPruneVerdict *verdicts = NULL;
                ZumaSchedulePlan plan, again;
                gint64 expect_instant;
                guint expect_served = 0;

                stats->wakes++;
                for (guint i = 0; i < server->len; i++) {
                        gint64 instant;

                        if (zuma_schedule_name_parse("vol",
                                                     g_array_index(server, ServerSnapshot, i).name,
                                                     NULL, &instant))
                                g_array_append_val(taken, instant);
                }
                zuma_schedule_plan(s, handled, now, (const gint64 *)taken->data, taken->len, &plan);
                expect_instant = model_due(&m, now, &expect_served);
                if (plan.due != (expect_instant != ZUMA_SCHEDULE_NEVER))
                        g_error("seed %u, now %" G_GINT64_FORMAT ": due %d, model says %d", seed,
                                now, plan.due, !plan.due);
                if (plan.due) {
                        g_autofree char *name = zuma_schedule_plan_name(&plan, "vol");
                        ZumaScheduleClass label;
                        gint64 instant;

                        g_assert_cmpint(plan.instant, ==, expect_instant);
                        g_assert_cmpuint(plan.classes, ==, expect_served);
                        g_assert_true(zuma_schedule_name_parse("vol", name, &label, &instant));
                        g_assert_cmpint(label, ==, model_largest(s, expect_served));
                        g_assert_cmpint(instant, ==, plan.instant);
                        /* No name twice, ever (no clock jumps here). */
                        g_assert_true(g_hash_table_add(ever, g_strdup(name)));
                        server_add(server, name, now, FALSE);
                        model_take(&m, plan.instant, expect_served, name);
                        stats->taken++;
                        stats->catch_ups += after_downtime;
                        g_array_append_val(taken, plan.instant);
                }
                handled = plan.handled;
                zuma_schedule_plan(s, handled, now, (const gint64 *)taken->data, taken->len,
                                   &again);
                g_assert_false(again.due);

                /* Prune and carry out. */
                for (guint i = 0; i < server->len; i++) {
                        const ServerSnapshot *ss = &g_array_index(server, ServerSnapshot, i);
                        ZumaPruneSnapshot p = { ss->name, ss->creation_time, ss->pinned };

                        g_array_append_val(list, p);
                }
                verdicts = g_new0(ZumaPruneVerdict, MAX(list->len, 1));
                zuma_schedule_prune(s, "vol", now, (const ZumaPruneSnapshot *)list->data, list->len,
                                    verdicts);
                for (guint i = server->len; i-- > 0;) {
                        const ServerSnapshot *ss = &g_array_index(server, ServerSnapshot, i);

                        if (ss->hand)
                                g_assert_cmpint(verdicts[i].action, ==, ZUMA_PRUNE_NOT_SCHEDULED);
                        if (verdicts[i].action != ZUMA_PRUNE_DELETE)
                                continue;
                        g_assert_false(ss->pinned);
                        g_assert_false(ss->hand);
                        g_array_remove_index(server, i);
                        memmove(&verdicts[i], &verdicts[i + 1],
                                (server->len - i) * sizeof(*verdicts));
                        stats->deleted++;
                }
                model_prune(&m);
                check(&m, server, verdicts, hand_count, now);

                /* Now and then a hand-taken snapshot, or a pin. */
                if (g_rand_int_range(rand, 0, 200) == 0) {
                        g_autofree char *name = NULL;
                        struct tm tm = utc_of(now);

                        if (g_rand_boolean(rand))
                                name = g_strdup_printf("vol-%04d-%02d-%02d-%02d:%02d:%02d",
                                                       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                                                       tm.tm_hour, tm.tm_min, tm.tm_sec);
                        else
                                name = g_strdup_printf("before-upgrade-%u", hand_count);
                        if (!server_find(server, name)) {
                                server_add(server, name, now, TRUE);
                                hand_count++;
                                stats->hand++;
                        }
                }
                if (server->len && g_rand_int_range(rand, 0, 300) == 0) {
                        ServerSnapshot *ss = &g_array_index(server, ServerSnapshot,
                                                            g_rand_int_range(rand, 0, server->len));

                        for (guint j = 0; j < m.snapshots->len && !ss->hand && !ss->pinned; j++) {
                                ModelSnapshot *ms = &g_array_index(m.snapshots, ModelSnapshot, j);

                                if (g_str_equal(ms->name, ss->name)) {
                                        ms->pinned = ss->pinned = TRUE;
                                        stats->pinned++;
                                }
                        }
                }

                /* Sleep until the next instant; wake a little late, and
                 * sometimes (about 20 times a year) much later. */
                g_assert_cmpint(plan.next, >, now);
                after_downtime =
                        g_rand_double(rand) < (double)(plan.next - now) / (366.0 * 86400 / 20);
                now = plan.next + g_rand_int_range(rand, 0, 90);
                if (after_downtime) {
                        now += g_rand_int_range(rand, 3600, 10 * 86400);
                        stats->downtimes++;
                }
        }
        for (guint i = 0; i < m.snapshots->len; i++)
                g_free(g_array_index(m.snapshots, ModelSnapshot, i).name);
        g_array_unref(m.snapshots);
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

/* A year; 120 days for a schedule with instants every few minutes (still
 * four months' boundaries), so the suite stays fast under sanitizers. */
static void run_one(ZumaSchedule *schedule, const char *what)
{
        g_autoptr(ZumaSchedule) s = schedule;
        int days = s->every && s->every < 3600 ? 120 : 366;
        g_autoptr(GRand) rand = g_rand_new_with_seed(seed ^ g_str_hash(what));
        Stats stats = { 0 };

        simulate(s, days, rand, &stats);
        g_test_message(
                "%s, %d days: %u wake-ups, %u snapshots (%u catch-ups after %u downtimes), %u "
                "deleted, %u hand-taken, %u pinned",
                what, days, stats.wakes, stats.taken, stats.catch_ups, stats.downtimes,
                stats.deleted, stats.hand, stats.pinned);
        g_assert_cmpuint(stats.taken, >, 300);
}

static void test_year_calendar(void)
{
        run_one(schedule_of(0, 0, 24, 7, 4, 12, 3), "hourly/daily/weekly/monthly/yearly");
}

static void test_year_every(void)
{
        run_one(schedule_of(6, 15 * 60, 6, 3, 0, 2, 0), "every 15m, hourly, daily, monthly");
}

static void test_year_every_6h(void)
{
        run_one(schedule_of(5, 6 * 3600, 0, 10, 2, 0, 1), "every 6h, daily, weekly, yearly");
}

static void test_year_random(void)
{
        static const gint64 intervals[] = { 7 * 60,   15 * 60, 3600,     90 * 60,
                                            6 * 3600, 86400,   3 * 86400 };
        g_autoptr(GRand) rand = g_rand_new_with_seed(seed ^ 0x5eed);
        ZumaSchedule *s = zuma_schedule_new();
        g_autofree char *what = NULL;

        s->keep[ZUMA_SCHEDULE_HOURLY] = g_rand_int_range(rand, 1, 40);
        for (int c = ZUMA_SCHEDULE_DAILY; c < ZUMA_SCHEDULE_N_CLASSES; c++)
                if (g_rand_boolean(rand))
                        s->keep[c] = g_rand_int_range(rand, 1, 15);
        if (g_rand_boolean(rand)) {
                s->every = intervals[g_rand_int_range(rand, 0, G_N_ELEMENTS(intervals))];
                s->keep[ZUMA_SCHEDULE_EVERY] = g_rand_int_range(rand, 1, 20);
        }
        g_assert_true(zuma_schedule_validate(s, NULL));
        what = g_strdup_printf("every %" G_GINT64_FORMAT "s x%u, hourly %u, daily %u, weekly "
                               "%u, monthly %u, yearly %u",
                               s->every, s->keep[0], s->keep[1], s->keep[2], s->keep[3], s->keep[4],
                               s->keep[5]);
        run_one(s, what);
}

/* Clock chaos: the clock jumps back and forth.  No model of what is kept
 * (snapshots from the future do not count until their time); what must
 * hold: never a name that exists, one snapshot per wake-up at most, pinned
 * and hand-taken ones untouched, a second prune deletes nothing, and once
 * the clock is right again snapshots resume within the hour. */
static void test_clock_chaos(void)
{
        g_autoptr(ZumaSchedule) s = schedule_of(4, 20 * 60, 12, 7, 2, 2, 1);
        g_autoptr(GRand) rand = g_rand_new_with_seed(seed ^ 0xc10c);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GHashTable) pinned = g_hash_table_new(g_str_hash, g_str_equal);
        gint64 now = (2026 - 1970) * G_GINT64_CONSTANT(31556952);
        gint64 handled = ZUMA_SCHEDULE_NEVER;

        g_ptr_array_add(names, g_strdup("vol-2026-01-01-00:00:00"));
        for (int step = 0; step < 8000; step++) {
                g_autoptr(GArray) taken = g_array_new(FALSE, FALSE, sizeof(gint64));
                g_autoptr(GArray) list = g_array_new(FALSE, TRUE, sizeof(ZumaPruneSnapshot));
                g_autofree ZumaPruneVerdict *verdicts = NULL;
                ZumaSchedulePlan plan;
                int jump = g_rand_int_range(rand, 0, 100);

                for (guint i = 0; i < names->len; i++) {
                        gint64 instant;

                        if (zuma_schedule_name_parse("vol", names->pdata[i], NULL, &instant))
                                g_array_append_val(taken, instant);
                }
                zuma_schedule_plan(s, handled, now, (const gint64 *)taken->data, taken->len, &plan);
                if (plan.due) {
                        char *name = zuma_schedule_plan_name(&plan, "vol");

                        for (guint i = 0; i < names->len; i++)
                                g_assert_cmpstr(names->pdata[i], !=, name);
                        for (guint i = 0; i < taken->len; i++)
                                g_assert_cmpint(g_array_index(taken, gint64, i), !=, plan.instant);
                        g_ptr_array_add(names, name);
                        g_array_append_val(taken, plan.instant);
                        if (g_rand_int_range(rand, 0, 400) == 0)
                                g_hash_table_add(pinned, name);
                }
                handled = plan.handled;
                {
                        ZumaSchedulePlan again;

                        zuma_schedule_plan(s, handled, now, (const gint64 *)taken->data, taken->len,
                                           &again);
                        g_assert_false(again.due);
                }
                for (int round = 0; round < 2; round++) {
                        guint deleted = 0;

                        g_array_set_size(list, 0);
                        for (guint i = 0; i < names->len; i++) {
                                ZumaPruneSnapshot p = { names->pdata[i], now,
                                                        g_hash_table_contains(pinned,
                                                                              names->pdata[i]) };

                                g_array_append_val(list, p);
                        }
                        g_free(verdicts);
                        verdicts = g_new0(ZumaPruneVerdict, MAX(list->len, 1));
                        zuma_schedule_prune(s, "vol", now, (const ZumaPruneSnapshot *)list->data,
                                            list->len, verdicts);
                        for (guint i = names->len; i-- > 0;)
                                if (verdicts[i].action == ZUMA_PRUNE_DELETE) {
                                        g_assert_false(
                                                g_hash_table_contains(pinned, names->pdata[i]));
                                        g_assert_cmpstr(names->pdata[i], !=,
                                                        "vol-2026-01-01-00:00:00");
                                        g_ptr_array_remove_index(names, i);
                                        deleted++;
                                }
                        if (round == 1)
                                g_assert_cmpuint(deleted, ==, 0);
                }
                g_assert_cmpint(plan.next, >, now);
                if (jump < 3)
                        now -= g_rand_int_range(rand, 60, 3 * 86400); /* back */
                else if (jump < 5)
                        now += g_rand_int_range(rand, 3600, 30 * 86400); /* forward */
                else
                        now = plan.next + g_rand_int_range(rand, 0, 30);
        }
        g_test_message("clock chaos: %u snapshots at the end", names->len);
        g_assert_true(g_ptr_array_find_with_equal_func(names, "vol-2026-01-01-00:00:00",
                                                       g_str_equal, NULL));
}

int main(int argc, char **argv)
{
        const char *env = g_getenv("ZUMA_TEST_SEED");
        int kept = 1;

        seed = env ? (guint32)strtoul(env, NULL, 0) : (guint32)g_random_int();
        for (int i = 1; i < argc; i++) {
                if (g_str_equal(argv[i], "--seed") && i + 1 < argc)
                        seed = (guint32)strtoul(argv[++i], NULL, 0);
                else if (g_str_has_prefix(argv[i], "--seed="))
                        seed = (guint32)strtoul(argv[i] + 7, NULL, 0);
                else
                        argv[kept++] = argv[i];
        }
        argc = kept;
        argv[argc] = NULL;
        g_printerr("test-schedule-year: seed %u (ZUMA_TEST_SEED=%u or --seed %u repeats)\n", seed,
                   seed, seed);
        /* Any time zone: the schedule is UTC.  Berlin has DST. */
        g_setenv("TZ", "Europe/Berlin", TRUE);
        tzset();

        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/year/calendar-classes", test_year_calendar);
        g_test_add_func("/year/every-15m", test_year_every);
        g_test_add_func("/year/every-6h", test_year_every_6h);
        g_test_add_func("/year/random-schedule", test_year_random);
        g_test_add_func("/year/clock-chaos", test_clock_chaos);
        return g_test_run();
}
