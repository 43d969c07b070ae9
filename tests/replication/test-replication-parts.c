/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The parts of zuma-sendd and zuma-recvd that need no bus, network or
 * root: which stream brings a target up to a snapshot (zuma-send-plan.c),
 * retention on a replica (zuma-replica-prune.c), and the target's and
 * source's files (zuma-target.c, zuma-source.c): round trips, and damaged
 * files refused naming what is wrong.
 */
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "zuma-error.h"
#include "zuma-replica-prune.h"
#include "zuma-send-plan.h"
#include "zuma-source.h"
#include "zuma-target.h"

static GVariant *remote(const char *text)
{
        return g_variant_ref_sink(g_variant_new_parsed(text));
}

static void test_plan(void)
{
        const ZumaPlanSnapshot local[] = {
                { "s2", 200, 2 },
                { "s1", 100, 1 },
                { "s3", 300, 3 },
                { "s3b", 300, 4 },
        };
        g_autoptr(GVariant) none = remote("@a(sx) []");
        g_autoptr(GVariant) has_s1 = remote("[('s1', @x 100)]");
        g_autoptr(GVariant) has_s1_s2 = remote("[('s2', @x 200), ('s1', @x 100)]");
        g_autoptr(GVariant) has_newest = remote("[('s3b', @x 300)]");
        g_autoptr(GVariant) other_s1 = remote("[('s1', @x 99)]");
        g_autoptr(GVariant) clash = remote("[('s3b', @x 1)]");
        g_autoptr(GError) error = NULL;
        ZumaSendPlan plan;

        /* Nothing in common: a full stream of the newest (same second: the
         * higher id). */
        g_assert_true(zuma_send_plan(local, G_N_ELEMENTS(local), none, NULL, &plan, &error));
        g_assert_cmpstr(plan.to, ==, "s3b");
        g_assert_cmpstr(plan.from, ==, "");
        g_assert_false(plan.up_to_date);
        /* The newest common older snapshot is the base. */
        g_assert_true(zuma_send_plan(local, G_N_ELEMENTS(local), has_s1_s2, NULL, &plan, &error));
        g_assert_cmpstr(plan.from, ==, "s2");
        g_assert_cmpint(plan.from_ctime, ==, 200);
        g_assert_true(zuma_send_plan(local, G_N_ELEMENTS(local), has_s1, "s2", &plan, &error));
        g_assert_cmpstr(plan.to, ==, "s2");
        g_assert_cmpstr(plan.from, ==, "s1");
        /* A base must be older than the snapshot sent. */
        g_assert_true(zuma_send_plan(local, G_N_ELEMENTS(local), has_s1_s2, "s1", &plan, &error));
        g_assert_true(plan.up_to_date);
        g_assert_true(zuma_send_plan(local, G_N_ELEMENTS(local), has_newest, "s2", &plan, &error));
        g_assert_cmpstr(plan.from, ==, "");
        /* Held already: nothing to send. */
        g_assert_true(zuma_send_plan(local, G_N_ELEMENTS(local), has_newest, NULL, &plan, &error));
        g_assert_true(plan.up_to_date);
        /* Same name, another time: not a common snapshot. */
        g_assert_true(zuma_send_plan(local, G_N_ELEMENTS(local), other_s1, "s2", &plan, &error));
        g_assert_cmpstr(plan.from, ==, "");
        g_assert_false(zuma_send_plan(local, G_N_ELEMENTS(local), clash, NULL, &plan, &error));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_ALREADY_EXISTS);
        g_clear_error(&error);
        g_assert_false(zuma_send_plan(local, G_N_ELEMENTS(local), none, "nope", &plan, &error));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND);
        g_clear_error(&error);
        g_assert_false(zuma_send_plan(local, 0, none, NULL, &plan, &error));
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND);
}

static void assert_doomed(char **got, const char *want)
{
        g_autofree char *joined = g_strjoinv(" ", got);

        g_assert_cmpstr(joined, ==, want);
        g_strfreev(got);
}

static void test_prune(void)
{
        const char *const names[] = {
                "vol-hourly-2026-12-07-01:00",   "vol-hourly-2026-12-07-03:00",
                "vol-hourly-2026-12-07-02:00",   "vol-daily-2026-12-06-00:00",
                "vol-daily-2026-12-07-00:00",    "hand-taken",
                "other-hourly-2026-12-07-00:00",
        };
        g_autoptr(GVariant) hourly2 = remote("{'hourly': @u 2}");
        g_autoptr(GVariant) both1 = remote("{'hourly': @u 1, 'daily': @u 1}");
        g_autoptr(GVariant) zero = remote("{'hourly': @u 0}");
        g_autoptr(GVariant) nothing = remote("@a{su} {}");

        /* The oldest hourly goes; dailies, hand-taken snapshots and another
         * volume's names are not counted. */
        assert_doomed(zuma_replica_prune("vol", names, G_N_ELEMENTS(names), hourly2,
                                         "vol-hourly-2026-12-07-03:00"),
                      "vol-hourly-2026-12-07-01:00");
        assert_doomed(zuma_replica_prune("vol", names, G_N_ELEMENTS(names), both1,
                                         "vol-hourly-2026-12-07-03:00"),
                      "vol-hourly-2026-12-07-02:00 vol-hourly-2026-12-07-01:00 "
                      "vol-daily-2026-12-06-00:00");
        /* keep 0 still keeps the newest replicated snapshot: the next
         * incremental stream's base. */
        assert_doomed(zuma_replica_prune("vol", names, G_N_ELEMENTS(names), zero,
                                         "vol-hourly-2026-12-07-03:00"),
                      "vol-hourly-2026-12-07-02:00 vol-hourly-2026-12-07-01:00");
        assert_doomed(zuma_replica_prune("vol", names, G_N_ELEMENTS(names), nothing, "hand-taken"),
                      "");
}

static void test_target_file(void)
{
        g_autofree char *dir = g_dir_make_tmp("zuma-target-XXXXXX", NULL);
        const char *uuid = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
        g_autoptr(ZumaTarget) t = zuma_target_new(uuid, "vol", "offsite", "backup:7890");
        g_autoptr(ZumaTarget) back = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *path = zuma_target_path(dir, uuid, "offsite");
        g_autofree char *text = NULL;
        g_autofree char *rm = g_strdup_printf("rm -rf '%s'", dir);
        g_autofree char *bad = NULL;
        g_autofree char *bad_keep = NULL;
        char **parts;

        t->period = 3600;
        t->after_snapshot = TRUE;
        t->rate_limit = 1 << 20;
        t->compress = 9;
        g_variant_unref(t->keep);
        t->keep = remote("{'hourly': @u 24, 'daily': @u 7}");
        t->pin = g_strdup("sha256:00");
        t->last_snapshot = g_strdup("vol-hourly-2026-12-07-03:00");
        t->last_snapshot_time = 1796612400;
        t->last_error = g_strdup("the receiver says: no");
        g_assert_true(zuma_target_save(t, dir, &error));
        g_assert_no_error(error);
        back = zuma_target_load(path, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(back->uuid, ==, uuid);
        g_assert_cmpstr(back->name, ==, "offsite");
        g_assert_cmpstr(back->address, ==, "backup:7890");
        g_assert_cmpuint(back->period, ==, 3600);
        g_assert_true(back->after_snapshot);
        g_assert_cmpuint(back->rate_limit, ==, 1 << 20);
        g_assert_cmpint(back->compress, ==, 9);
        g_assert_true(g_variant_equal(back->keep, t->keep));
        g_assert_cmpstr(back->pin, ==, "sha256:00");
        g_assert_null(back->ca);
        g_assert_cmpstr(back->relay_command, ==, ZUMA_TARGET_DEFAULT_RELAY);
        g_assert_cmpstr(back->last_snapshot, ==, t->last_snapshot);
        g_assert_cmpint(back->last_snapshot_time, ==, 1796612400);
        g_assert_cmpstr(back->last_error, ==, t->last_error);

        /* Damage is refused, naming the key. */
        g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
        parts = g_strsplit(text, "Compress=9", 2);
        bad = g_strjoinv("Compress=42", parts);
        g_strfreev(parts);
        g_assert_true(g_file_set_contents(path, bad, -1, NULL));
        g_clear_pointer(&back, zuma_target_free);
        back = zuma_target_load(path, &error);
        g_assert_null(back);
        g_assert_nonnull(strstr(error->message, "Compress"));
        g_clear_error(&error);
        parts = g_strsplit(text, "Keep=", 2);
        bad_keep = g_strjoinv("Keep=hourly;", parts);
        g_strfreev(parts);
        g_assert_true(g_file_set_contents(path, bad_keep, -1, NULL));
        back = zuma_target_load(path, &error);
        g_assert_null(back);
        g_assert_nonnull(strstr(error->message, "Keep"));
        g_clear_error(&error);
        g_assert_cmpint(system(rm), ==, 0);
}

static void test_source_file(void)
{
        g_autofree char *dir = g_dir_make_tmp("zuma-source-XXXXXX", NULL);
        const char *uuid = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
        g_autoptr(ZumaSource) s = zuma_source_new(uuid, "vol");
        g_autoptr(ZumaSource) back = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *path = zuma_source_path(dir, uuid);
        g_autofree char *wrong = g_build_filename(dir, "sources", "not-a-uuid.conf", NULL);
        g_autofree char *rm = g_strdup_printf("rm -rf '%s'", dir);
        const char *const allow[] = { "sha256:aa", "sha256:bb", NULL };

        s->listen = g_strdup("10.0.0.2:7890");
        g_strfreev(s->allow);
        s->allow = g_strdupv((char **)allow);
        s->last_snapshot = g_strdup("s9");
        s->last_received = 42;
        g_assert_true(zuma_source_save(s, dir, &error));
        g_assert_no_error(error);
        back = zuma_source_load(path, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(back->volume_name, ==, "vol");
        g_assert_cmpstr(back->listen, ==, "10.0.0.2:7890");
        g_assert_cmpstrv(back->allow, allow);
        g_assert_null(back->ca);
        g_assert_cmpstr(back->last_snapshot, ==, "s9");
        g_assert_cmpint(back->last_received, ==, 42);
        g_assert_true(g_file_set_contents(wrong, "[Source]\n", -1, NULL));
        g_assert_null(zuma_source_load(wrong, &error));
        g_assert_nonnull(strstr(error->message, "UUID.conf"));
        g_clear_error(&error);
        g_assert_true(g_file_set_contents(path, "[Source]\nVolumeName=vol\n", -1, NULL));
        g_assert_null(zuma_source_load(path, &error));
        g_assert_nonnull(strstr(error->message, "Listen"));
        g_assert_cmpint(system(rm), ==, 0);
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/replication/send-plan", test_plan);
        g_test_add_func("/replication/replica-prune", test_prune);
        g_test_add_func("/replication/target-file", test_target_file);
        g_test_add_func("/replication/source-file", test_source_file);
        return g_test_run();
}
