/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unit tests of zuma-notifyd's pure parts: durations in words and the
 * usage forecast, the configuration file (defaults, each key, each kind of
 * mistake named and falling back), the coalescer's rules (first event at
 * once, the window, the flush, the batch, ids, transfers) and the texts and urgencies
 * of every event.  Times are made up; TZ=UTC (tests/notifyd/meson.build).
 */
#include <math.h>
#include <string.h>

#include <glib/gstdio.h>

#include "zuma-notify-coalesce.h"
#include "zuma-notify-config.h"
#include "zuma-notify-humanize.h"
#include "zuma-notify-message.h"

#define S ((gint64)G_USEC_PER_SEC)
/* g_format_size() keeps number and unit together. */
#define NBSP "\u00a0"
#define MIN_S ((gint64)60)
#define HOUR_S ((gint64)3600)
#define DAY_S ((gint64)86400)

/* --- humanized durations --- */

static void check_duration(gint64 seconds, const char *want)
{
        g_autofree char *got = zuma_humanize_duration(seconds);

        g_assert_cmpstr(got, ==, want);
}

static void test_humanize(void)
{
        check_duration(-5, "less than a minute");
        check_duration(0, "less than a minute");
        check_duration(59, "less than a minute");
        check_duration(60, "about a minute");
        check_duration(89, "about a minute");
        check_duration(90, "about 2 minutes");
        check_duration(45 * MIN_S, "about 45 minutes");
        check_duration(59 * MIN_S + 29, "about 59 minutes");
        /* Never "about 60 minutes". */
        check_duration(59 * MIN_S + 30, "about an hour");
        check_duration(HOUR_S + 29 * MIN_S, "about an hour");
        check_duration(HOUR_S + 30 * MIN_S, "about 2 hours");
        check_duration(6 * HOUR_S - 10 * MIN_S, "about 6 hours");
        check_duration(35 * HOUR_S + 59 * MIN_S, "about 36 hours");
        check_duration(36 * HOUR_S, "about 2 days");
        check_duration(3 * DAY_S + 11 * HOUR_S, "about 3 days");
        check_duration(3 * DAY_S + 12 * HOUR_S, "about 4 days");
        check_duration(400 * DAY_S, "about 400 days");
        /* No overflow at the end of the range. */
        check_duration(G_MAXINT64, "about 2147483647 days");
}

static void check_elapsed(gdouble seconds, const char *want)
{
        g_autofree char *got = zuma_humanize_elapsed(seconds);

        g_assert_cmpstr(got, ==, want);
}

static void test_elapsed(void)
{
        check_elapsed(-1, "0 s");
        check_elapsed(0, "0 s");
        check_elapsed(NAN, "0 s");
        check_elapsed(0.04, "0.0 s");
        check_elapsed(0.42, "0.4 s");
        /* Never "1.0 s" next to "1 s". */
        check_elapsed(0.96, "1 s");
        check_elapsed(4.4, "4 s");
        check_elapsed(59.4, "59 s");
        check_elapsed(59.6, "1 min 0 s");
        check_elapsed(200, "3 min 20 s");
        check_elapsed(2 * HOUR_S + 5 * MIN_S + 10, "2 h 5 min");
        /* No overflow at the end of the range. */
        check_elapsed(1e300, "2147483647 h 0 min");
}

static void test_forecast(void)
{
        g_autofree char *six_hours = zuma_humanize_full_in(6 * HOUR_S + 5 * MIN_S);
        g_autofree char *now = zuma_humanize_full_in(0);

        g_assert_cmpstr(six_hours, ==, "full in about 6 hours at the current rate");
        g_assert_cmpstr(now, ==, "full in less than a minute at the current rate");
        g_assert_null(zuma_humanize_full_in(-1));
}

/* --- configuration --- */

static GPtrArray *load(ZumaNotifyConfig *config, const char *text)
{
        GPtrArray *problems = g_ptr_array_new_with_free_func(g_free);

        zuma_notify_config_init(config);
        zuma_notify_config_load_data(config, "notify.conf", text, strlen(text), problems);
        for (guint i = 0; i < problems->len; i++)
                g_test_message("problem: %s", (char *)problems->pdata[i]);
        return problems;
}

static void assert_problem(GPtrArray *problems, guint i, const char *part1, const char *part2)
{
        const char *problem;

        g_assert_cmpuint(i, <, problems->len);
        problem = problems->pdata[i];
        g_assert_nonnull(strstr(problem, "notify.conf: "));
        g_assert_nonnull(strstr(problem, part1));
        if (part2)
                g_assert_nonnull(strstr(problem, part2));
}

static void test_config_defaults(void)
{
        ZumaNotifyConfig config;
        g_autoptr(GPtrArray) problems = load(&config, "");
        g_autofree char *path = zuma_notify_config_default_path();
        g_autoptr(GPtrArray) missing = g_ptr_array_new_with_free_func(g_free);

        g_assert_cmpuint(problems->len, ==, 0);
        for (guint i = 0; i < ZUMA_NOTIFY_N_CLASSES; i++)
                g_assert_true(config.enabled[i]);
        g_assert_cmpint(config.window_seconds, ==, HOUR_S);
        g_assert_cmpint(config.batch_seconds, ==, DAY_S);
        g_assert_true(g_str_has_suffix(path, "/zumastor/notify.conf"));
        /* A missing file is the defaults, and no problem. */
        zuma_notify_config_load(&config, "/nonexistent/zumastor/notify.conf", missing);
        g_assert_cmpuint(missing->len, ==, 0);
}

static void test_config_keys(void)
{
        ZumaNotifyConfig config;
        g_autoptr(GPtrArray) problems =
                load(&config, "# mine\n[events]\nsnapshot-taken=false\nusage=false\n"
                              "command=true\nreplication=false\n"
                              "[coalesce]\nwindow=2s\nbatch=1h30m\n");

        g_assert_cmpuint(problems->len, ==, 0);
        g_assert_false(config.enabled[ZUMA_NOTIFY_SNAPSHOT_TAKEN]);
        g_assert_false(config.enabled[ZUMA_NOTIFY_USAGE]);
        g_assert_true(config.enabled[ZUMA_NOTIFY_SNAPSHOT_DELETED]);
        g_assert_true(config.enabled[ZUMA_NOTIFY_COMMAND]);
        g_assert_false(config.enabled[ZUMA_NOTIFY_REPLICATION]);
        g_assert_true(config.enabled[ZUMA_NOTIFY_REPLICATION_FAILURE]);
        g_assert_cmpint(config.window_seconds, ==, 2);
        g_assert_cmpint(config.batch_seconds, ==, 5400);
        g_assert_cmpstr(zuma_notify_class_key(ZUMA_NOTIFY_MISSED), ==, "missed");
        g_assert_cmpstr(zuma_notify_class_key(ZUMA_NOTIFY_REPLICATION_FAILURE), ==,
                        "replication-failure");
}

static void test_config_mistakes(void)
{
        ZumaNotifyConfig config;
        g_autoptr(GPtrArray) problems =
                load(&config, "[events]\nsnapshot-taken=maybe\nfailure=false\nfailures=true\n"
                              "[coalesce]\nwindow=2 hours\nbatch=-1d\ncolour=red\n[extra]\na=b\n");

        /* Each mistake named by file, group and key; the value in question
         * keeps its default, the good ones count. */
        g_assert_cmpuint(problems->len, ==, 6);
        assert_problem(problems, 0, "unknown group [extra]", NULL);
        assert_problem(problems, 1, "[events] snapshot-taken:", "boolean");
        assert_problem(problems, 2, "[events] failures:", "unknown event class");
        assert_problem(problems, 3, "[coalesce] colour:", "unknown key");
        assert_problem(problems, 4, "[coalesce] window:", "using the default");
        assert_problem(problems, 5, "[coalesce] batch:", "sign");
        g_assert_true(config.enabled[ZUMA_NOTIFY_SNAPSHOT_TAKEN]);
        g_assert_false(config.enabled[ZUMA_NOTIFY_FAILURE]);
        g_assert_cmpint(config.window_seconds, ==, HOUR_S);
        g_assert_cmpint(config.batch_seconds, ==, DAY_S);
}

static void test_config_unparsable(void)
{
        ZumaNotifyConfig config;
        g_autoptr(GPtrArray) problems = load(&config, "[events\nsnapshot-taken=false\n");
        g_autoptr(GPtrArray) too_long = NULL;

        g_assert_cmpuint(problems->len, ==, 1);
        assert_problem(problems, 0, "using the defaults", NULL);
        g_assert_true(config.enabled[ZUMA_NOTIFY_SNAPSHOT_TAKEN]);
        /* Out of range: a window over a day, a batch of 0. */
        too_long = load(&config, "[coalesce]\nwindow=2d\nbatch=0s\n");
        g_assert_cmpuint(too_long->len, ==, 2);
        g_assert_cmpint(config.window_seconds, ==, HOUR_S);
        g_assert_cmpint(config.batch_seconds, ==, DAY_S);
}

/* A file: read; too large: not read, the defaults. */
static void test_config_file(void)
{
        g_autofree char *dir = g_dir_make_tmp("notifyd-XXXXXX", NULL);
        g_autofree char *path = g_build_filename(dir, "notify.conf", NULL);
        g_autofree char *huge = g_strnfill(70 * 1024, '#');
        g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) too_large = g_ptr_array_new_with_free_func(g_free);
        ZumaNotifyConfig config;

        g_assert_nonnull(dir);
        zuma_notify_config_init(&config);
        g_assert_true(g_file_set_contents(path, "[events]\nmissed=false\n", -1, NULL));
        zuma_notify_config_load(&config, path, problems);
        g_assert_cmpuint(problems->len, ==, 0);
        g_assert_false(config.enabled[ZUMA_NOTIFY_MISSED]);
        zuma_notify_config_init(&config);
        g_assert_true(g_file_set_contents(path, huge, -1, NULL));
        zuma_notify_config_load(&config, path, too_large);
        g_assert_cmpuint(too_large->len, ==, 1);
        assert_problem(too_large, 0, path, "larger than");
        g_assert_true(config.enabled[ZUMA_NOTIFY_MISSED]);
        g_assert_cmpint(g_unlink(path), ==, 0);
        g_assert_cmpint(g_rmdir(dir), ==, 0);
}

/* --- coalescing --- */

/* A day of hourly snapshots, window 1 h (exactly the period): each one
 * updates the one notification; the 25th starts a new one. */
static void test_coalesce_day_of_hourlies(void)
{
        g_autoptr(ZumaCoalescer) c = zuma_coalescer_new(HOUR_S, DAY_S);
        gint64 t0 = 1000 * S, wall0 = 1796515200LL * S; /* 2026-12-06 00:00 UTC */
        ZumaBatch *batch = NULL;
        guint generation;

        for (int hour = 0; hour < 24; hour++) {
                g_autofree char *name = g_strdup_printf("vol-hourly-%02d", hour);

                g_assert_true(zuma_coalescer_add(c, "taken/vol", "vol", name,
                                                 t0 + hour * HOUR_S * S, wall0 + hour * HOUR_S * S,
                                                 &batch));
                zuma_coalescer_posted(c, batch, t0 + hour * HOUR_S * S);
                if (hour == 0)
                        zuma_coalescer_set_id(c, "taken/vol", batch->generation, 7);
                g_assert_cmpuint(batch->id, ==, 7);
                g_assert_cmpint(zuma_coalescer_next_due(c), ==, -1);
        }
        g_assert_cmpuint(batch->count, ==, 24);
        {
                g_autoptr(ZumaMessage) m = zuma_message_taken(batch, wall0 + 23 * HOUR_S * S);

                g_assert_cmpstr(m->summary, ==, "24 snapshots of vol taken");
                g_assert_cmpstr(m->body, ==, "since 00:00; the newest is vol-hourly-23");
                g_assert_cmpint(m->urgency, ==, ZUMA_URGENCY_LOW);
        }
        generation = batch->generation;
        g_assert_true(zuma_coalescer_add(c, "taken/vol", "vol", "next-day", t0 + DAY_S * S,
                                         wall0 + DAY_S * S, &batch));
        g_assert_cmpuint(batch->count, ==, 1);
        g_assert_cmpuint(batch->id, ==, 0);
        g_assert_cmpuint(batch->generation, ==, generation + 1);
        /* A late answer for the old notification does not stick. */
        zuma_coalescer_set_id(c, "taken/vol", generation, 7);
        g_assert_cmpuint(batch->id, ==, 0);
}

/* A burst inside the window: first at once, the rest held and flushed as
 * one update at the window's end. */
static void test_coalesce_burst(void)
{
        g_autoptr(ZumaCoalescer) c = zuma_coalescer_new(10, DAY_S);
        g_autoptr(GPtrArray) none = NULL;
        g_autoptr(GPtrArray) due = NULL;
        ZumaBatch *batch = NULL, *other = NULL;
        gint64 t0 = 5 * S;

        g_assert_true(zuma_coalescer_add(c, "taken/a", "a", "s1", t0, t0, &batch));
        zuma_coalescer_posted(c, batch, t0);
        for (int i = 2; i <= 5; i++) {
                g_autofree char *name = g_strdup_printf("s%d", i);

                g_assert_false(zuma_coalescer_add(c, "taken/a", "a", name, t0 + i * S, t0, &batch));
        }
        /* Another volume is a batch of its own, posted at once. */
        g_assert_true(zuma_coalescer_add(c, "taken/b", "b", "b1", t0 + 3 * S, t0, &other));
        zuma_coalescer_posted(c, other, t0 + 3 * S);
        g_assert_true(other != batch);
        g_assert_cmpint(zuma_coalescer_next_due(c), ==, t0 + 10 * S);
        none = zuma_coalescer_take_due(c, t0 + 10 * S - 1);
        g_assert_cmpuint(none->len, ==, 0);
        due = zuma_coalescer_take_due(c, t0 + 10 * S);
        g_assert_cmpuint(due->len, ==, 1);
        g_assert_true(due->pdata[0] == batch);
        g_assert_cmpuint(batch->count, ==, 5);
        g_assert_cmpstr(batch->newest, ==, "s5");
        zuma_coalescer_posted(c, batch, t0 + 10 * S);
        g_assert_cmpint(zuma_coalescer_next_due(c), ==, -1);
        /* After the window, the next one is posted at once again. */
        g_assert_true(zuma_coalescer_add(c, "taken/a", "a", "s6", t0 + 20 * S, t0, &batch));
        g_assert_cmpuint(batch->count, ==, 6);
}

/* A batch past its length with events held is flushed before it ends;
 * ids are forgotten when the notification server goes. */
static void test_coalesce_batch_end(void)
{
        g_autoptr(ZumaCoalescer) c = zuma_coalescer_new(60, 100);
        ZumaBatch *batch = NULL;

        g_assert_true(zuma_coalescer_add(c, "k", "v", "1", 1 * S, 0, &batch));
        zuma_coalescer_posted(c, batch, 1 * S);
        zuma_coalescer_set_id(c, "k", batch->generation, 3);
        g_assert_true(zuma_coalescer_add(c, "k", "v", "2", 90 * S, 0, &batch));
        zuma_coalescer_posted(c, batch, 90 * S);
        /* Held at 95 s (window); and at 130 s, though the batch ended at
         * 101 s, as it still holds an event. */
        g_assert_false(zuma_coalescer_add(c, "k", "v", "3", 95 * S, 0, &batch));
        g_assert_cmpuint(batch->count, ==, 3);
        g_assert_false(zuma_coalescer_add(c, "k", "v", "4", 130 * S, 0, &batch));
        g_assert_cmpuint(batch->count, ==, 4);
        g_assert_cmpuint(batch->id, ==, 3);
        zuma_coalescer_forget_ids(c);
        g_assert_cmpuint(batch->id, ==, 0);
        zuma_coalescer_posted(c, batch, 150 * S);
        /* Nothing held: the next event starts a new batch. */
        g_assert_true(zuma_coalescer_add(c, "k", "v", "5", 151 * S, 0, &batch));
        g_assert_cmpuint(batch->count, ==, 1);
}

/* window=0s: every event is posted at once. */
static void test_coalesce_no_window(void)
{
        g_autoptr(ZumaCoalescer) c = zuma_coalescer_new(0, DAY_S);
        ZumaBatch *batch = NULL;

        for (int i = 1; i <= 3; i++) {
                g_assert_true(zuma_coalescer_add(c, "k", "v", "x", i, 0, &batch));
                zuma_coalescer_posted(c, batch, i);
        }
        g_assert_cmpuint(batch->count, ==, 3);
}

/* A target replicated every 5 minutes, window 1 h: the first run is told,
 * the next eleven are held and posted as one update at the end of the
 * window, with the newest run's figures and the total. */
static void test_coalesce_transfers(void)
{
        g_autoptr(ZumaCoalescer) c = zuma_coalescer_new(HOUR_S, DAY_S);
        g_autoptr(GPtrArray) due = NULL;
        gint64 t0 = 1000 * S;
        ZumaBatch *batch = NULL;
        guint posts = 1;

        g_assert_true(zuma_coalescer_add_transfer(c, "sent/t", "vol", "s0", "backup", 1000, 2.0, t0,
                                                  0, &batch));
        zuma_coalescer_posted(c, batch, t0);
        g_assert_cmpstr(batch->peer, ==, "backup");
        for (int i = 1; i < 12; i++)
                if (zuma_coalescer_add_transfer(c, "sent/t", "vol", "s", "backup", 1000 + i, i,
                                                t0 + i * 5 * MIN_S * S, 0, &batch))
                        posts++;
        g_assert_cmpuint(posts, ==, 1);
        g_assert_cmpint(zuma_coalescer_next_due(c), ==, t0 + HOUR_S * S);
        due = zuma_coalescer_take_due(c, t0 + HOUR_S * S);
        g_assert_cmpuint(due->len, ==, 1);
        batch = due->pdata[0];
        g_assert_cmpuint(batch->count, ==, 12);
        g_assert_cmpuint(batch->bytes, ==, 1011);
        g_assert_cmpfloat(batch->seconds, ==, 11);
        g_assert_cmpuint(batch->bytes_total, ==, 12 * 1000 + 66);
        /* A plain event after a transfer carries no transfer's figures. */
        g_assert_true(zuma_coalescer_add(c, "taken/vol", "vol", "x", t0, 0, &batch));
        g_assert_null(batch->peer);
        g_assert_cmpuint(batch->bytes_total, ==, 0);
}

/* --- texts and urgencies --- */

static void check_message(ZumaMessage *message, const char *summary, const char *body,
                          ZumaUrgency urgency)
{
        g_autoptr(ZumaMessage) m = message;

        g_assert_cmpstr(m->summary, ==, summary);
        g_assert_cmpstr(m->body, ==, body);
        g_assert_cmpint(m->urgency, ==, urgency);
}

static void test_messages(void)
{
        ZumaBatch one = { .volume = "vol", .newest = "vol-hourly-2026-12-06-14:00", .count = 1 };
        ZumaBatch three = { .volume = "vol",
                            .newest = "c",
                            .count = 3,
                            .started_wall = 1796515200LL * S + 14 * HOUR_S * S };
        const char *const volumes[] = { "a", "b", NULL };
        const char *const volume[] = { "a", NULL };

        check_message(zuma_message_taken(&one, 0), "Snapshot of vol taken",
                      "vol-hourly-2026-12-06-14:00", ZUMA_URGENCY_LOW);
        check_message(zuma_message_taken(&three, three.started_wall + HOUR_S * S),
                      "3 snapshots of vol taken", "since 14:00; the newest is c", ZUMA_URGENCY_LOW);
        /* Another day names the day. */
        check_message(zuma_message_taken(&three, three.started_wall + DAY_S * S),
                      "3 snapshots of vol taken", "since Sun 14:00; the newest is c",
                      ZUMA_URGENCY_LOW);
        check_message(zuma_message_autodeleted(&one, 0), "Snapshot of vol deleted: store full",
                      "vol-hourly-2026-12-06-14:00 was deleted to make room for writes to vol.",
                      ZUMA_URGENCY_NORMAL);
        check_message(zuma_message_autodeleted(&three, three.started_wall),
                      "3 snapshots of vol deleted: store full",
                      "since 14:00, to make room for writes; the last was c.", ZUMA_URGENCY_NORMAL);
        check_message(zuma_message_usage("vol", 80, TRUE, 6 * HOUR_S),
                      "Snapshot store of vol over 80% full",
                      "Its store will be full in about 6 hours at the current rate.",
                      ZUMA_URGENCY_NORMAL);
        check_message(zuma_message_usage("vol", 90, TRUE, -1),
                      "Snapshot store of vol over 90% full",
                      "No forecast: the store is not growing, or its growth is not known yet.",
                      ZUMA_URGENCY_CRITICAL);
        check_message(zuma_message_usage("vol", 95, TRUE, 30),
                      "Snapshot store of vol over 95% full",
                      "Its store will be full in less than a minute at the current rate.",
                      ZUMA_URGENCY_CRITICAL);
        check_message(zuma_message_usage("vol", 80, FALSE, 30),
                      "Snapshot store of vol below 80% again", "", ZUMA_URGENCY_LOW);
        check_message(zuma_message_failed("vol", "block 7: bad checksum"), "Volume vol failed",
                      "block 7: bad checksum", ZUMA_URGENCY_CRITICAL);
        check_message(zuma_message_stopped("vol", "odd"), "Volume vol stopped unexpectedly",
                      "The snapshot server gave the reason \"odd\".", ZUMA_URGENCY_CRITICAL);
        check_message(zuma_message_server_gone(volumes),
                      "Zumastor snapshot server stopped unexpectedly",
                      "It left the bus while a, b were running.", ZUMA_URGENCY_CRITICAL);
        check_message(zuma_message_server_gone(volume),
                      "Zumastor snapshot server stopped unexpectedly",
                      "It left the bus while a was running.", ZUMA_URGENCY_CRITICAL);
        check_message(zuma_message_missed("vol", 3 * HOUR_S, ""),
                      "Scheduled snapshot of vol missed",
                      "The newest scheduled snapshot is about 3 hours old.", ZUMA_URGENCY_CRITICAL);
        check_message(zuma_message_missed("vol", -1, NULL), "Scheduled snapshot of vol missed",
                      "No scheduled snapshot was taken yet.", ZUMA_URGENCY_CRITICAL);
        check_message(zuma_message_missed("vol", 5, "server away"),
                      "Scheduled snapshot of vol missed",
                      "The scheduler's last attempt: server away", ZUMA_URGENCY_CRITICAL);
        check_message(zuma_message_snapshot_failed("vol", "vol-hourly-x", "no space"),
                      "Scheduled snapshot of vol failed",
                      "vol-hourly-x: no space (retried in a minute)", ZUMA_URGENCY_CRITICAL);
        check_message(zuma_message_command_failed("vol", "pre", "exit status 3"),
                      "Pre-snapshot command of vol failed", "exit status 3", ZUMA_URGENCY_CRITICAL);
        check_message(zuma_message_command_failed("vol", "post", "timed out"),
                      "Post-snapshot command of vol failed", "timed out", ZUMA_URGENCY_CRITICAL);
}

static void test_messages_replication(void)
{
        ZumaBatch sent = { .volume = "vol",
                           .newest = "vol-hourly-2026-12-06-14:00",
                           .count = 1,
                           .peer = "backup",
                           .bytes = 12300000,
                           .seconds = 4.2,
                           .bytes_total = 12300000 };
        ZumaBatch sent3 = { .volume = "vol",
                            .newest = "c",
                            .count = 3,
                            .peer = "backup",
                            .bytes = 512,
                            .seconds = 0.25,
                            .bytes_total = 40100000,
                            .started_wall = 1796515200LL * S + 14 * HOUR_S * S };
        ZumaBatch received = { .volume = "vol",
                               .newest = "s1",
                               .count = 1,
                               .peer = "10.0.0.1:4000",
                               .bytes = 1500000,
                               .seconds = -1 };
        ZumaBatch received3 = { .volume = "vol",
                                .newest = "c",
                                .count = 3,
                                .peer = "",
                                .bytes = 2000,
                                .seconds = -1,
                                .bytes_total = 3000000,
                                .started_wall = 1796515200LL * S + 14 * HOUR_S * S };

        check_message(zuma_message_replicated(&sent, 0), "Volume vol replicated to backup",
                      "Snapshot vol-hourly-2026-12-06-14:00, 12.3" NBSP "MB in 4 s",
                      ZUMA_URGENCY_LOW);
        check_message(zuma_message_replicated(&sent3, sent3.started_wall + HOUR_S * S),
                      "Volume vol replicated to backup 3 times",
                      "since 14:00, 40.1" NBSP "MB in all; the newest is c, 512 bytes in 0.2 s",
                      ZUMA_URGENCY_LOW);
        /* The target held the snapshot already: nothing sent. */
        sent.bytes = 0;
        check_message(zuma_message_replicated(&sent, 0), "Volume vol replicated to backup",
                      "Snapshot vol-hourly-2026-12-06-14:00, nothing new to send",
                      ZUMA_URGENCY_LOW);
        sent3.bytes = 0;
        sent3.bytes_total = 0;
        check_message(zuma_message_replicated(&sent3, sent3.started_wall),
                      "Volume vol replicated to backup 3 times",
                      "since 14:00, nothing new to send; the newest is c, nothing new to send",
                      ZUMA_URGENCY_LOW);
        check_message(zuma_message_replication_failed("vol", "backup", "connection refused"),
                      "Replication of vol to backup failed", "connection refused",
                      ZUMA_URGENCY_CRITICAL);
        check_message(zuma_message_received(&received, 0),
                      "Replica vol received snapshot s1 from 10.0.0.1:4000",
                      "1.5" NBSP "MB on the wire", ZUMA_URGENCY_LOW);
        /* No peer known: none named. */
        check_message(zuma_message_received(&received3, received3.started_wall),
                      "Replica vol received 3 snapshots",
                      "since 14:00, 3.0" NBSP "MB in all; the newest is c, 2.0" NBSP "kB",
                      ZUMA_URGENCY_LOW);
        check_message(zuma_message_receive_failed("vol", "wrong base snapshot"),
                      "Receiving vol failed", "wrong base snapshot", ZUMA_URGENCY_CRITICAL);
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/notifyd/humanize", test_humanize);
        g_test_add_func("/notifyd/elapsed", test_elapsed);
        g_test_add_func("/notifyd/forecast", test_forecast);
        g_test_add_func("/notifyd/config/defaults", test_config_defaults);
        g_test_add_func("/notifyd/config/keys", test_config_keys);
        g_test_add_func("/notifyd/config/mistakes", test_config_mistakes);
        g_test_add_func("/notifyd/config/unparsable", test_config_unparsable);
        g_test_add_func("/notifyd/config/file", test_config_file);
        g_test_add_func("/notifyd/coalesce/day-of-hourlies", test_coalesce_day_of_hourlies);
        g_test_add_func("/notifyd/coalesce/burst", test_coalesce_burst);
        g_test_add_func("/notifyd/coalesce/batch-end", test_coalesce_batch_end);
        g_test_add_func("/notifyd/coalesce/no-window", test_coalesce_no_window);
        g_test_add_func("/notifyd/coalesce/transfers", test_coalesce_transfers);
        g_test_add_func("/notifyd/messages", test_messages);
        g_test_add_func("/notifyd/messages/replication", test_messages_replication);
        return g_test_run();
}
