/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unit tests of durations and schedules (agents/schedulerd/zuma-duration.c,
 * zuma-schedule.c): what parses, what round-trips through the key file and
 * a{sv} forms, and that every bad input is refused with the right error
 * code and a message naming the field.
 */
#include <string.h>

#include "zuma-duration.h"
#include "zuma-error.h"
#include "zuma-limits.h"
#include "zuma-schedule.h"

/* error is code and its message holds every one of the NULL-terminated
 * words; clears it. */
static void assert_refused(GError **error, ZumaError code, ...) G_GNUC_NULL_TERMINATED;

static void assert_refused(GError **error, ZumaError code, ...)
{
        va_list ap;

        g_assert_error(*error, ZUMA_ERROR, (gint)code);
        va_start(ap, code);
        for (const char *word = va_arg(ap, const char *); word; word = va_arg(ap, const char *))
                if (!strstr((*error)->message, word))
                        g_error("message \"%s\" does not name \"%s\"", (*error)->message, word);
        va_end(ap);
        g_clear_error(error);
}

/* --- durations --- */

static void test_duration_valid(void)
{
        static const struct {
                const char *text;
                gint64 seconds;
                const char *canonical;
        } cases[] = {
                { "15m", 900, "15m" },      { "2h", 7200, "2h" },
                { "1d", 86400, "1d" },      { "1w", 604800, "1w" },
                { "1h30m", 5400, "1h30m" }, { "90m", 5400, "1h30m" },
                { "30s", 30, "30s" },       { "1w2d3h4m5s", 788645, "1w2d3h4m5s" },
                { "0015m", 900, "15m" },    { "48h", 172800, "2d" },
        };

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GError) error = NULL;
                g_autofree char *text = NULL;
                gint64 seconds = -1;

                g_assert_true(zuma_duration_parse("every", cases[i].text, 0, G_MAXINT64, &seconds,
                                                  &error));
                g_assert_no_error(error);
                g_assert_cmpint(seconds, ==, cases[i].seconds);
                text = zuma_duration_format(seconds);
                g_assert_cmpstr(text, ==, cases[i].canonical);
        }
        for (gint64 s = 0; s < 3 * 604800; s += 997) {
                g_autofree char *text = zuma_duration_format(s);
                gint64 back = -1;

                g_assert_true(zuma_duration_parse("x", text, 0, G_MAXINT64, &back, NULL));
                g_assert_cmpint(back, ==, s);
        }
}

static void test_duration_invalid(void)
{
        static const struct {
                const char *text;
                const char *why;
        } cases[] = {
                { "", "empty" },
                { "15", "needs a unit" },
                { "15x", "unknown unit 'x'" },
                { "15M", "unknown unit 'M'" },
                { "1y", "unknown unit 'y'" },
                { "-5m", "no sign" },
                { "+5m", "no sign" },
                { "5 m", "unknown unit" },
                { " 5m", "expected a number" },
                { "m", "expected a number" },
                { "1m1h", "largest first" },
                { "1h1h", "largest first" },
                { "9999999999999999999w", "far too large" },
                { "99999999999999w", "far too large" },
                { "1h\n", "expected a number" },
                { "123456789012345678901234567890123m", "too long" },
        };
        gint64 seconds = 42;

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GError) error = NULL;

                g_assert_false(zuma_duration_parse("every", cases[i].text, 0, G_MAXINT64, &seconds,
                                                   &error));
                assert_refused(&error, ZUMA_ERROR_INVALID_ARGUMENT, "every", cases[i].why, NULL);
                g_assert_cmpint(seconds, ==, 42);
        }
}

static void test_duration_range(void)
{
        g_autoptr(GError) error = NULL;
        gint64 seconds = 42;

        g_assert_false(zuma_duration_parse("every", "30s", 60, 366 * 86400, &seconds, &error));
        assert_refused(&error, ZUMA_ERROR_INVALID_ARGUMENT, "every", "between 1m and 52w2d", NULL);
        g_assert_false(zuma_duration_parse("every", "367d", 60, 366 * 86400, &seconds, &error));
        assert_refused(&error, ZUMA_ERROR_INVALID_ARGUMENT, "every", "between", NULL);
        g_assert_false(zuma_duration_parse("every", "0m", 60, 366 * 86400, &seconds, &error));
        assert_refused(&error, ZUMA_ERROR_INVALID_ARGUMENT, "every", NULL);
        g_assert_cmpint(seconds, ==, 42);
        g_assert_true(zuma_duration_parse("every", "366d", 60, 366 * 86400, &seconds, &error));
        g_assert_cmpint(seconds, ==, 366 * 86400);
}

/* --- schedules --- */

static GVariant *vardict(const char *text)
{
        g_autoptr(GError) error = NULL;
        GVariant *v = g_variant_parse(G_VARIANT_TYPE_VARDICT, text, NULL, NULL, &error);

        g_assert_no_error(error);
        return g_variant_ref_sink(v);
}

static ZumaSchedule *full_schedule(void)
{
        ZumaSchedule *s = zuma_schedule_new();

        s->keep[ZUMA_SCHEDULE_HOURLY] = 24;
        s->keep[ZUMA_SCHEDULE_DAILY] = 7;
        s->keep[ZUMA_SCHEDULE_WEEKLY] = 4;
        s->keep[ZUMA_SCHEDULE_MONTHLY] = 12;
        s->keep[ZUMA_SCHEDULE_YEARLY] = 3;
        s->keep[ZUMA_SCHEDULE_EVERY] = 8;
        s->every = 15 * 60;
        s->pre_command = g_strdup("/usr/local/sbin/db-flush --quiet 'a b' \"c\\\"d\" #x=1;2");
        s->post_command = g_strdup("/bin/sh -c 'logger snapshot taken'");
        s->command_timeout = 90;
        return s;
}

static void test_schedule_options(void)
{
        g_autoptr(GVariant) options =
                vardict("{'hourly': <24>, 'daily': <7>, 'every': <'15m'>, 'keep': <4>, "
                        "'pre': <'/usr/bin/sync'>, 'command_timeout': <'2m'>}");
        g_autoptr(ZumaSchedule) s = NULL;
        g_autoptr(ZumaSchedule) full = full_schedule();
        g_autoptr(ZumaSchedule) back = NULL;
        g_autoptr(GVariant) round = NULL;
        g_autoptr(GError) error = NULL;

        s = zuma_schedule_from_options(options, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(s->keep[ZUMA_SCHEDULE_HOURLY], ==, 24);
        g_assert_cmpuint(s->keep[ZUMA_SCHEDULE_DAILY], ==, 7);
        g_assert_cmpuint(s->keep[ZUMA_SCHEDULE_WEEKLY], ==, 0);
        g_assert_cmpuint(s->keep[ZUMA_SCHEDULE_EVERY], ==, 4);
        g_assert_cmpint(s->every, ==, 900);
        g_assert_cmpstr(s->pre_command, ==, "/usr/bin/sync");
        g_assert_null(s->post_command);
        g_assert_cmpint(s->command_timeout, ==, 120);
        g_assert_cmpuint(zuma_schedule_classes(s), ==,
                         ZUMA_SCHEDULE_CLASS_BIT(ZUMA_SCHEDULE_HOURLY) |
                                 ZUMA_SCHEDULE_CLASS_BIT(ZUMA_SCHEDULE_DAILY) |
                                 ZUMA_SCHEDULE_CLASS_BIT(ZUMA_SCHEDULE_EVERY));

        round = g_variant_ref_sink(zuma_schedule_to_options(full));
        back = zuma_schedule_from_options(round, &error);
        g_assert_no_error(error);
        g_assert_true(zuma_schedule_equal(full, back));
}

static void options_refused(const char *text, ZumaError code, const char *field, const char *why)
{
        g_autoptr(GVariant) options = vardict(text);
        g_autoptr(GError) error = NULL;
        g_autoptr(ZumaSchedule) s = zuma_schedule_from_options(options, &error);

        g_assert_null(s);
        assert_refused(&error, code, field, why, NULL);
}

static void test_schedule_options_invalid(void)
{
        g_autofree char *long_command = g_strnfill(10000, 'x');
        g_autofree char *long_options = NULL;

        long_command[0] = '/';
        options_refused("{'hourly': <0>}", ZUMA_ERROR_INVALID_ARGUMENT, "hourly", "not 0");
        options_refused("{'daily': <-3>}", ZUMA_ERROR_INVALID_ARGUMENT, "daily", "not -3");
        options_refused("{'weekly': <65537>}", ZUMA_ERROR_INVALID_ARGUMENT, "weekly", "65536");
        options_refused("{'hourly': <uint32 3>}", ZUMA_ERROR_INVALID_ARGUMENT, "hourly",
                        "type 'i'");
        options_refused("{'hourlly': <3>}", ZUMA_ERROR_INVALID_ARGUMENT, "hourlly", "unknown");
        options_refused("{}", ZUMA_ERROR_INVALID_ARGUMENT, "keeps nothing", NULL);
        options_refused("{'every': <'15x'>, 'keep': <4>}", ZUMA_ERROR_INVALID_ARGUMENT, "every",
                        "unknown unit 'x'");
        options_refused("{'every': <'30s'>, 'keep': <4>}", ZUMA_ERROR_INVALID_ARGUMENT, "every",
                        "between 1m and");
        options_refused("{'every': <'1m30s'>, 'keep': <4>}", ZUMA_ERROR_INVALID_ARGUMENT, "every",
                        "whole minutes");
        options_refused("{'every': <'9999d'>, 'keep': <4>}", ZUMA_ERROR_INVALID_ARGUMENT, "every",
                        "between");
        options_refused("{'every': <'15m'>}", ZUMA_ERROR_INVALID_ARGUMENT, "every", "keep");
        options_refused("{'keep': <4>}", ZUMA_ERROR_INVALID_ARGUMENT, "keep", "every");
        options_refused("{'every': <'15m'>, 'keep': <0>}", ZUMA_ERROR_INVALID_ARGUMENT, "keep",
                        "not 0");
        options_refused("{'hourly': <65536>, 'daily': <65536>}", ZUMA_ERROR_LIMIT_EXCEEDED,
                        "131072", NULL);
        options_refused("{'hourly': <1>, 'pre': <'rm -rf /'>}", ZUMA_ERROR_INVALID_ARGUMENT, "pre",
                        "absolute path");
        options_refused("{'hourly': <1>, 'post': <'/bin/echo \"unclosed'>}",
                        ZUMA_ERROR_INVALID_ARGUMENT, "post", "cannot be split");
        options_refused("{'hourly': <1>, 'post': <''>}", ZUMA_ERROR_INVALID_ARGUMENT, "post",
                        "empty");
        options_refused("{'hourly': <1>, 'pre': <'/bin/true\\nrm -rf /'>}",
                        ZUMA_ERROR_INVALID_ARGUMENT, "pre", "control character");
        options_refused("{'hourly': <1>, 'command_timeout': <'2h'>}", ZUMA_ERROR_INVALID_ARGUMENT,
                        "command_timeout", "between 1s and 1h");
        options_refused("{'hourly': <1>, 'command_timeout': <'0s'>}", ZUMA_ERROR_INVALID_ARGUMENT,
                        "command_timeout", "between");

        /* A 10,000-character command: the options parser stops it (no string
         * option over 4095 bytes), naming the option. */
        long_options = g_strdup_printf("{'hourly': <1>, 'pre': <'%s'>}", long_command);
        options_refused(long_options, ZUMA_ERROR_INVALID_ARGUMENT, "pre", "too long");
        g_free(long_options);
        /* 2000 bytes passes the options parser; the schedule's own limit
         * refuses it. */
        long_command[2000] = '\0';
        long_options = g_strdup_printf("{'hourly': <1>, 'post': <'%s'>}", long_command);
        options_refused(long_options, ZUMA_ERROR_INVALID_ARGUMENT, "post", "too long");
}

static void test_schedule_validate(void)
{
        g_autoptr(ZumaSchedule) s = full_schedule();
        g_autoptr(GError) error = NULL;

        g_assert_true(zuma_schedule_validate(s, &error));
        g_assert_no_error(error);

        /* A 10,000-character command in the schedule itself (a key file,
         * a caller that skipped the options parser). */
        g_free(s->pre_command);
        s->pre_command = g_strnfill(10000, 'x');
        s->pre_command[0] = '/';
        g_assert_false(zuma_schedule_validate(s, &error));
        assert_refused(&error, ZUMA_ERROR_INVALID_ARGUMENT, "pre", "too long", "10000", NULL);
        g_clear_pointer(&s->pre_command, g_free);

        s->pre_command = g_strdup("/bin/\xff\xfe");
        g_assert_false(zuma_schedule_validate(s, &error));
        assert_refused(&error, ZUMA_ERROR_INVALID_ARGUMENT, "pre", "UTF-8", NULL);
        g_clear_pointer(&s->pre_command, g_free);

        s->every = 59;
        g_assert_false(zuma_schedule_validate(s, &error));
        assert_refused(&error, ZUMA_ERROR_INVALID_ARGUMENT, "every", NULL);
        s->every = 900;

        s->keep[ZUMA_SCHEDULE_YEARLY] = ZUMA_SCHEDULE_KEEP_MAX + 1;
        g_assert_false(zuma_schedule_validate(s, &error));
        assert_refused(&error, ZUMA_ERROR_INVALID_ARGUMENT, "yearly", NULL);
}

static void test_schedule_keyfile(void)
{
        g_autoptr(ZumaSchedule) full = full_schedule();
        g_autoptr(ZumaSchedule) back = NULL;
        g_autoptr(GKeyFile) key_file = g_key_file_new();
        g_autoptr(GKeyFile) reread = g_key_file_new();
        g_autoptr(GError) error = NULL;
        g_autofree char *data = NULL;
        g_autofree char *name = NULL;

        g_key_file_set_string(key_file, "Volume", "Name", "vol");
        zuma_schedule_to_keyfile(full, key_file, "Schedule");
        /* Saving again replaces the group rather than merging into it. */
        full->keep[ZUMA_SCHEDULE_YEARLY] = 0;
        zuma_schedule_to_keyfile(full, key_file, "Schedule");
        data = g_key_file_to_data(key_file, NULL, NULL);
        g_assert_nonnull(strstr(data, "Every=15m\n"));
        g_assert_null(strstr(data, "Yearly"));
        g_assert_true(g_key_file_load_from_data(reread, data, (gsize)-1, G_KEY_FILE_NONE, &error));
        back = zuma_schedule_from_keyfile(reread, "Schedule", &error);
        g_assert_no_error(error);
        g_assert_true(zuma_schedule_equal(full, back));
        name = g_key_file_get_value(reread, "Volume", "Name", NULL);
        g_assert_cmpstr(name, ==, "vol");
}

static void keyfile_refused(const char *text, ZumaError code, const char *field, const char *why)
{
        g_autoptr(GKeyFile) key_file = g_key_file_new();
        g_autoptr(GError) error = NULL;
        g_autoptr(ZumaSchedule) s = NULL;

        g_assert_true(
                g_key_file_load_from_data(key_file, text, (gsize)-1, G_KEY_FILE_NONE, &error));
        s = zuma_schedule_from_keyfile(key_file, "Schedule", &error);
        g_assert_null(s);
        assert_refused(&error, code, field, why, NULL);
}

static void test_schedule_keyfile_invalid(void)
{
        keyfile_refused("[Other]\nHourly=1\n", ZUMA_ERROR_NOT_FOUND, "[Schedule]", NULL);
        keyfile_refused("[Schedule]\nHourly=abc\n", ZUMA_ERROR_INVALID_ARGUMENT, "Hourly",
                        "not a number");
        keyfile_refused("[Schedule]\nHourly=12abc\n", ZUMA_ERROR_INVALID_ARGUMENT, "Hourly",
                        "not a number");
        keyfile_refused("[Schedule]\nHourly=0\n", ZUMA_ERROR_INVALID_ARGUMENT, "Hourly", "not 0");
        keyfile_refused("[Schedule]\nDaily=-1\n", ZUMA_ERROR_INVALID_ARGUMENT, "Daily", "not -1");
        keyfile_refused("[Schedule]\nDaily=99999999999999999999\n", ZUMA_ERROR_INVALID_ARGUMENT,
                        "Daily", "not a number");
        keyfile_refused("[Schedule]\nHourly=1\nEvery=15x\nKeep=2\n", ZUMA_ERROR_INVALID_ARGUMENT,
                        "Every", "unknown unit");
        keyfile_refused("[Schedule]\nHourly=1\nHoutly=2\n", ZUMA_ERROR_INVALID_ARGUMENT, "Houtly",
                        "unknown key");
        keyfile_refused("[Schedule]\nHourly=1\nPre=sync\n", ZUMA_ERROR_INVALID_ARGUMENT, "pre",
                        "absolute");
        keyfile_refused("[Schedule]\n", ZUMA_ERROR_INVALID_ARGUMENT, "keeps nothing", NULL);
        keyfile_refused("[Schedule]\nHourly=1\nCommandTimeout=1d\n", ZUMA_ERROR_INVALID_ARGUMENT,
                        "CommandTimeout", "between");
}

static void test_classes(void)
{
        g_autoptr(ZumaSchedule) s = zuma_schedule_new();
        ZumaScheduleClass c = ZUMA_SCHEDULE_YEARLY;
        guint all = ZUMA_SCHEDULE_ALL_CLASSES;

        for (int i = 0; i < ZUMA_SCHEDULE_N_CLASSES; i++) {
                g_assert_true(zuma_schedule_class_from_name(zuma_schedule_class_name(i), &c));
                g_assert_cmpint(c, ==, i);
        }
        g_assert_false(zuma_schedule_class_from_name("Hourly", &c));
        g_assert_false(zuma_schedule_class_from_name("", &c));

        /* No every class (or one under an hour): the natural order. */
        for (int i = 0; i < ZUMA_SCHEDULE_N_CLASSES; i++)
                g_assert_cmpuint(zuma_schedule_class_rank(s, i), ==, (guint)i);
        g_assert_cmpint(zuma_schedule_largest_class(s, all), ==, ZUMA_SCHEDULE_YEARLY);
        /* Every 6h ranks between hourly and daily; every 1h just below hourly. */
        s->every = 6 * 3600;
        g_assert_cmpuint(zuma_schedule_class_rank(s, ZUMA_SCHEDULE_HOURLY), ==, 0);
        g_assert_cmpuint(zuma_schedule_class_rank(s, ZUMA_SCHEDULE_EVERY), ==, 1);
        g_assert_cmpuint(zuma_schedule_class_rank(s, ZUMA_SCHEDULE_DAILY), ==, 2);
        g_assert_cmpint(zuma_schedule_largest_class(
                                s, ZUMA_SCHEDULE_CLASS_BIT(ZUMA_SCHEDULE_HOURLY) |
                                           ZUMA_SCHEDULE_CLASS_BIT(ZUMA_SCHEDULE_EVERY)),
                        ==, ZUMA_SCHEDULE_EVERY);
        s->every = 3600;
        g_assert_cmpuint(zuma_schedule_class_rank(s, ZUMA_SCHEDULE_EVERY), ==, 0);
        g_assert_cmpuint(zuma_schedule_class_rank(s, ZUMA_SCHEDULE_HOURLY), ==, 1);
        s->every = 366 * 86400;
        g_assert_cmpuint(zuma_schedule_class_rank(s, ZUMA_SCHEDULE_EVERY), ==, 4);
        g_assert_cmpuint(zuma_schedule_class_rank(s, ZUMA_SCHEDULE_YEARLY), ==, 5);
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/duration/valid", test_duration_valid);
        g_test_add_func("/duration/invalid", test_duration_invalid);
        g_test_add_func("/duration/range", test_duration_range);
        g_test_add_func("/schedule/options", test_schedule_options);
        g_test_add_func("/schedule/options-invalid", test_schedule_options_invalid);
        g_test_add_func("/schedule/validate", test_schedule_validate);
        g_test_add_func("/schedule/keyfile", test_schedule_keyfile);
        g_test_add_func("/schedule/keyfile-invalid", test_schedule_keyfile_invalid);
        g_test_add_func("/schedule/classes", test_classes);
        return g_test_run();
}
