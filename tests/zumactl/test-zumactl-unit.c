/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unit tests of zumactl's parts that need no server: sizes, times, JSON,
 * tables, value checks, exit codes; and the command line's own usage
 * errors (run against the binary given in $ZUMACTL, with the system bus
 * pointed nowhere).
 */
#define G_LOG_DOMAIN "test-zumactl"

#include <errno.h>
#include <glib.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "zuma-error.h"
#include "zumactl-errors.h"
#include "zumactl-output.h"
#include "zumactl-parse.h"

static void test_format_size(void)
{
        static const struct {
                guint64 bytes;
                const char *text;
        } cases[] = {
                { 0, "0 B" },
                { 1, "1 B" },
                { 1023, "1023 B" },
                { 1024, "1.0 KiB" },
                { 1536, "1.5 KiB" },
                { 16384, "16.0 KiB" },
                { 1048575, "1.0 MiB" },
                { 1048576, "1.0 MiB" },
                { 1073741824ULL * 3 / 2, "1.5 GiB" },
                { 1099511627776ULL, "1.0 TiB" },
                { G_MAXUINT64, "16.0 EiB" },
        };

        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *text = zumactl_format_size(cases[i].bytes);

                g_assert_cmpstr(text, ==, cases[i].text);
        }
}

static void test_parse_size(void)
{
        static const struct {
                const char *text;
                guint64 bytes;
        } good[] = {
                { "0", 0 },
                { "16384", 16384 },
                { "16K", 16384 },
                { "16k", 16384 },
                { "16KiB", 16384 },
                { "512B", 512 },
                { "1M", 1048576 },
                { "2GiB", 2147483648ULL },
                { "1T", 1099511627776ULL },
                { "15E", 15ULL << 60 },
                { "18446744073709551615", G_MAXUINT64 },
        };
        static const char *const bad[] = {
                "",     "K",     "-1",  "1.5K",   "16 K",
                "16KB", "16Kib", "16X", "16KiBs", "18446744073709551616",
                "16E",  "0x10",  " 16",
        };

        for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
                g_autoptr(GError) error = NULL;
                guint64 bytes = 1;

                g_assert_true(zumactl_parse_size(good[i].text, "size", &bytes, &error));
                g_assert_no_error(error);
                g_assert_cmpuint(bytes, ==, good[i].bytes);
        }
        for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autoptr(GError) error = NULL;
                guint64 bytes = 7;

                g_assert_false(zumactl_parse_size(bad[i], "chunk size", &bytes, &error));
                g_assert_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
                g_assert_nonnull(strstr(error->message, "chunk size"));
                g_assert_cmpuint(bytes, ==, 7);
                g_assert_cmpint(zumactl_exit_code(error), ==, ZUMACTL_EXIT_USAGE);
        }
}

static void test_parse_rate(void)
{
        static const struct {
                const char *text;
                guint64 bytes;
        } good[] = {
                { "0", 0 },
                { "1000", 1000 },
                { "500K", 512000 },
                { "10M", 10485760 },
                { "10MiB/s", 10485760 },
                { "1.5G", 1610612736ULL },
                { "1.5g/s", 1610612736ULL },
                { "0.5K", 512 },
                { "100B/s", 100 },
                { "7E", 7ULL << 60 },
        };
        static const char *const bad[] = {
                "",
                "M",
                "-1",
                "1.5",
                "1.K",
                ".5M",
                "10 M",
                "10Q",
                "10M/",
                "10M/h",
                "10MB",
                "8E",
                "99999999999999999999",
                "1,5M",
        };

        for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
                g_autoptr(GError) error = NULL;
                guint64 bytes = 1;

                g_assert_true(zumactl_parse_rate(good[i].text, "rate limit", &bytes, &error));
                g_assert_no_error(error);
                g_assert_cmpuint(bytes, ==, good[i].bytes);
        }
        for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autoptr(GError) error = NULL;
                guint64 bytes = 7;

                g_test_message("rate '%s'", bad[i]);
                g_assert_false(zumactl_parse_rate(bad[i], "rate limit", &bytes, &error));
                g_assert_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
                g_assert_nonnull(strstr(error->message, "rate limit"));
                g_assert_cmpuint(bytes, ==, 7);
                g_assert_cmpint(zumactl_exit_code(error), ==, ZUMACTL_EXIT_USAGE);
        }
}

static void test_parse_duration(void)
{
        static const struct {
                const char *text;
                gint64 seconds;
        } good[] = {
                { "0s", 0 }, { "15m", 900 }, { "1h30m", 5400 }, { "1d", 86400 }, { "2w", 1209600 },
        };
        static const char *const bad[] = { "", "15", "1x", "-1h", "30m1h", "1h1h", "53w", "1.5h" };

        for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
                g_autoptr(GError) error = NULL;
                gint64 seconds = -1;

                g_assert_true(zumactl_parse_duration(good[i].text, "--period", 0, 52 * 7 * 86400,
                                                     &seconds, &error));
                g_assert_no_error(error);
                g_assert_cmpint(seconds, ==, good[i].seconds);
        }
        for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autoptr(GError) error = NULL;
                gint64 seconds = -1;

                g_test_message("duration '%s'", bad[i]);
                g_assert_false(zumactl_parse_duration(bad[i], "--period", 0, 52 * 7 * 86400,
                                                      &seconds, &error));
                g_assert_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
                g_assert_true(g_str_has_prefix(error->message, "invalid --period "));
                g_assert_cmpint(seconds, ==, -1);
        }
}

static void test_parse_keep(void)
{
        static const struct {
                const char *items[4];
                const char *keep; /* the a{su} as GVariant text, NULL: refused */
        } cases[] = {
                { { NULL }, "{}" },
                { { "hourly=24", NULL }, "{'hourly': 24}" },
                { { "hourly=24", "daily=7", NULL }, "{'hourly': 24, 'daily': 7}" },
                { { "hourly=24,daily=7", "weekly=0", NULL },
                  "{'hourly': 24, 'daily': 7, 'weekly': 0}" },
                { { "hourly", NULL }, NULL },
                { { "=3", NULL }, NULL },
                { { "hourly=", NULL }, NULL },
                { { "hourly=-1", NULL }, NULL },
                { { "hourly=x", NULL }, NULL },
                { { "hourly=4294967296", NULL }, NULL },
                { { "hourly=1", "hourly=2", NULL }, NULL },
                { { "hourly=1,", NULL }, NULL },
        };

        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(GVariant) keep = NULL;
                g_autofree char *text = NULL;

                if (cases[i].keep == NULL) {
                        g_assert_false(zumactl_parse_keep(cases[i].items, &keep, &error));
                        g_assert_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
                        g_assert_null(keep);
                        continue;
                }
                g_assert_true(zumactl_parse_keep(cases[i].items, &keep, &error));
                g_assert_no_error(error);
                g_variant_ref_sink(keep);
                text = g_variant_print(keep, FALSE);
                g_assert_cmpstr(text, ==, cases[i].keep);
        }
}

static void test_parse_int(void)
{
        g_autoptr(GError) error = NULL;
        gint64 value = 0;

        g_assert_true(zumactl_parse_int("-5", "priority", G_MININT32, G_MAXINT32, &value, &error));
        g_assert_cmpint(value, ==, -5);
        g_assert_true(zumactl_parse_int("2147483647", "priority", G_MININT32, G_MAXINT32, &value,
                                        &error));
        g_assert_cmpint(value, ==, G_MAXINT32);
        g_assert_true(zumactl_parse_int("-2147483648", "priority", G_MININT32, G_MAXINT32, &value,
                                        &error));
        g_assert_cmpint(value, ==, G_MININT32);
        g_assert_no_error(error);

        value = 42;
        for (guint i = 0; i < 6; i++) {
                static const char *const bad[] = { "",   "2147483648", "-2147483649",
                                                   "1x", " 1",         "99999999999999999999" };

                g_assert_false(zumactl_parse_int(bad[i], "priority", G_MININT32, G_MAXINT32, &value,
                                                 &error));
                g_assert_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
                g_clear_error(&error);
        }
        g_assert_cmpint(value, ==, 42);
}

static void test_parse_switch(void)
{
        static const char *const on[] = { "on", "ON", "yes", "true", "1" };
        static const char *const off[] = { "off", "Off", "no", "false", "0" };
        g_autoptr(GError) error = NULL;
        gboolean value;

        for (guint i = 0; i < G_N_ELEMENTS(on); i++) {
                value = FALSE;
                g_assert_true(zumactl_parse_switch(on[i], "writable", &value, &error));
                g_assert_true(value);
                value = TRUE;
                g_assert_true(zumactl_parse_switch(off[i], "writable", &value, &error));
                g_assert_false(value);
        }
        g_assert_no_error(error);
        g_assert_false(zumactl_parse_switch("maybe", "writable", &value, &error));
        g_assert_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
        g_clear_error(&error);

        g_assert_true(zumactl_parse_full_policy("refuse", &error));
        g_assert_true(zumactl_parse_full_policy("autodelete", &error));
        g_assert_no_error(error);
        g_assert_false(zumactl_parse_full_policy("Refuse", &error));
        g_assert_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
}

static void test_absolute_path(void)
{
        g_autofree char *cwd = g_get_current_dir();
        g_autofree char *expected = g_build_filename(cwd, "store.img", NULL);
        g_autofree char *relative = zumactl_absolute_path("./sub/../store.img");
        g_autofree char *absolute = zumactl_absolute_path("/dev/disk/by-id/x");

        g_assert_cmpstr(relative, ==, expected);
        g_assert_cmpstr(absolute, ==, "/dev/disk/by-id/x");
}

/* The text of a one-element array holding s. */
static char *json_of_string(const char *s)
{
        g_autoptr(JsonBuilder) builder = json_builder_new();

        json_builder_begin_array(builder);
        zumactl_json_add_string(builder, s);
        json_builder_end_array(builder);
        return zumactl_json_to_text(builder);
}

/* Whatever a string holds, the text is JSON: valid UTF-8, no raw control
 * character (RFC 8259 section 7) except the newlines between tokens, and
 * it reads back as the string (invalid UTF-8 replaced by U+FFFD). */
static void assert_json_of_string(const char *s)
{
        g_autofree char *text = json_of_string(s);
        g_autofree char *expected = g_utf8_make_valid(s, -1);
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) error = NULL;
        JsonArray *array;

        g_assert_true(g_utf8_validate(text, -1, NULL));
        for (const char *p = text; *p != '\0'; p++)
                if ((unsigned char)*p < 0x20)
                        g_assert_cmpint(*p, ==, '\n');
        g_assert_true(json_parser_load_from_data(parser, text, -1, &error));
        g_assert_no_error(error);
        array = json_node_get_array(json_parser_get_root(parser));
        g_assert_cmpuint(json_array_get_length(array), ==, 1);
        g_assert_cmpstr(json_array_get_string_element(array, 0), ==, expected);
}

static void test_json_string(void)
{
        static const struct {
                const char *in;
                const char *out;
        } cases[] = {
                { "", "\"\"" },
                { "plain", "\"plain\"" },
                { "a\"b", "\"a\\\"b\"" },
                { "back\\slash", "\"back\\\\slash\"" },
                { "tab\tnl\ncr\r", "\"tab\\tnl\\ncr\\r\"" },
                { "\b\f", "\"\\b\\f\"" },
                { "\x01\x1e\x1f\x7f", "\"\\u0001\\u001e\\u001f\\u007f\"" },
                { "vol0@snap:12", "\"vol0@snap:12\"" },
                { "caf\xc3\xa9", "\"caf\xc3\xa9\"" },
                { "bad\xff", "\"bad\xef\xbf\xbd\"" },
                { NULL, "null" },
        };
        /* Control characters one by one, and invalid UTF-8 of each kind:
         * a stray continuation byte, a truncated sequence, an overlong
         * encoding, a surrogate, a code point past U+10FFFF. */
        static const char *const hostile[] = {
                "\x80",
                "a\xc3",
                "\xc0\xaf",
                "\xed\xa0\x80x",
                "\xf4\x90\x80\x80",
                "\xe2\x80\xa8\xe2\x80\xa9",
                "\"\\\x1f\\\"",
        };

        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *text = json_of_string(cases[i].in);
                g_autofree char *expected = g_strdup_printf("[\n  %s\n]\n", cases[i].out);

                g_assert_cmpstr(text, ==, expected);
                if (cases[i].in != NULL)
                        assert_json_of_string(cases[i].in);
        }
        for (int c = 1; c < 0x80; c++) {
                char s[] = { 'a', (char)c, 'b', '\0' };

                assert_json_of_string(s);
        }
        for (guint i = 0; i < G_N_ELEMENTS(hostile); i++)
                assert_json_of_string(hostile[i]);
}

/* The exact text zumactl prints: json-glib's pretty format. */
static void test_json_builder(void)
{
        g_autoptr(JsonBuilder) builder = json_builder_new();
        g_autofree char *text = NULL;

        json_builder_begin_object(builder);
        zumactl_json_set_string(builder, "name", "vol\"0");
        zumactl_json_set_uint(builder, "size", G_MAXINT64);
        zumactl_json_set_uint(builder, "odd_size", (1ULL << 53) + 1);
        zumactl_json_set_uint(builder, "too_big", G_MAXUINT64);
        zumactl_json_set_int(builder, "priority", -3);
        zumactl_json_set_bool(builder, "pinned", TRUE);
        zumactl_json_set_double(builder, "used", 12.5);
        zumactl_json_set_string(builder, "device", NULL);
        json_builder_set_member_name(builder, "empty");
        json_builder_begin_array(builder);
        json_builder_end_array(builder);
        json_builder_set_member_name(builder, "list");
        json_builder_begin_array(builder);
        zumactl_json_add_string(builder, "a");
        json_builder_begin_object(builder);
        zumactl_json_set_uint(builder, "id", 1);
        json_builder_end_object(builder);
        json_builder_add_null_value(builder);
        json_builder_end_array(builder);
        json_builder_end_object(builder);
        text = zumactl_json_to_text(builder);
        g_assert_cmpstr(text, ==,
                        "{\n"
                        "  \"name\" : \"vol\\\"0\",\n"
                        "  \"size\" : 9223372036854775807,\n"
                        "  \"odd_size\" : 9007199254740993,\n"
                        "  \"too_big\" : 9223372036854775807,\n"
                        "  \"priority\" : -3,\n"
                        "  \"pinned\" : true,\n"
                        "  \"used\" : 12.5,\n"
                        "  \"device\" : null,\n"
                        "  \"empty\" : [],\n"
                        "  \"list\" : [\n"
                        "    \"a\",\n"
                        "    {\n"
                        "      \"id\" : 1\n"
                        "    },\n"
                        "    null\n"
                        "  ]\n"
                        "}\n");
}

/* Doubles: 17 significant digits (each reads back as the same double),
 * integral ones with ".0"; NaN and infinities null. */
static void test_json_top_level_array(void)
{
        static const double values[] = { 0.1, 25.2, 1.0, 1.0 / 3.0, -2.5e-300, 100.0 };
        g_autoptr(JsonBuilder) builder = json_builder_new();
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) error = NULL;
        g_autofree char *text = NULL;
        JsonArray *array;

        json_builder_begin_array(builder);
        zumactl_json_add_double(builder, 1.0 / 0.0);
        zumactl_json_add_double(builder, -1.0 / 0.0);
        zumactl_json_add_double(builder, NAN);
        for (guint i = 0; i < G_N_ELEMENTS(values); i++)
                zumactl_json_add_double(builder, values[i]);
        json_builder_end_array(builder);
        text = zumactl_json_to_text(builder);
        g_assert_cmpstr(text, ==,
                        "[\n  null,\n  null,\n  null,\n  0.10000000000000001,\n"
                        "  25.199999999999999,\n  1.0,\n  0.33333333333333331,\n"
                        "  -2.5e-300,\n  100.0\n]\n");
        g_assert_true(json_parser_load_from_data(parser, text, -1, &error));
        g_assert_no_error(error);
        array = json_node_get_array(json_parser_get_root(parser));
        for (guint i = 0; i < G_N_ELEMENTS(values); i++)
                g_assert_cmpfloat(json_array_get_double_element(array, i + 3), ==, values[i]);
}

static void test_time(void)
{
        g_autofree char *iso = zumactl_format_time_iso8601(0);
        g_autofree char *iso2 = zumactl_format_time_iso8601(1714567890);
        g_autofree char *local = NULL;

        g_assert_cmpstr(iso, ==, "1970-01-01T00:00:00Z");
        g_assert_cmpstr(iso2, ==, "2024-05-01T12:51:30Z");
        g_setenv("TZ", "UTC", TRUE);
        local = zumactl_format_time_local(1714567890);
        g_assert_cmpstr(local, ==, "2024-05-01 12:51:30");
        g_assert_cmpfloat(zumactl_percent(1, 3), ==, 33.3);
        g_assert_cmpfloat(zumactl_percent(5, 0), ==, 0.0);
        g_assert_cmpfloat(zumactl_percent(10, 10), ==, 100.0);
}

static void test_format_duration_about(void)
{
        static const struct {
                gint64 seconds;
                const char *text;
        } cases[] = {
                { 0, "about 1 second" },
                { 1, "about 1 second" },
                { 89, "about 89 seconds" },
                { 90, "about 2 minutes" },
                { 5399, "about 90 minutes" },
                { 5400, "about 2 hours" },
                { 21600, "about 6 hours" },
                { 36 * 3600, "about 2 days" },
                { 729 * 86400, "about 729 days" },
                { 730 * 86400, "about 2 years" },
                { G_MAXINT64, "about 292471208678 years" },
        };

        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *text = zumactl_format_duration_about(cases[i].seconds);

                g_assert_cmpstr(text, ==, cases[i].text);
        }
        g_assert_null(zumactl_format_duration_about(-1));
}

static void test_table(void)
{
        g_autoptr(ZumactlTable) table = zumactl_table_new("ID", "NAME", "FLAGS", NULL);
        g_autofree char *text = NULL;
        const char *row1[] = { "1", "first", "pinned" };
        const char *row2[] = { "12", "caf\xc3\xa9", "" };

        zumactl_table_set_numeric(table, 0);
        zumactl_table_add_row(table, row1);
        zumactl_table_add_row(table, row2);
        text = zumactl_table_render(table);
        g_assert_cmpstr(text, ==,
                        "ID  NAME   FLAGS\n"
                        " 1  first  pinned\n"
                        "12  caf\xc3\xa9   -\n");
}

static void test_exit_codes(void)
{
        static const struct {
                ZumaError code;
                ZumactlExit exit;
        } zuma[] = {
                { ZUMA_ERROR_FAILED, ZUMACTL_EXIT_FAILURE },
                { ZUMA_ERROR_NOT_FOUND, ZUMACTL_EXIT_NOT_FOUND },
                { ZUMA_ERROR_ALREADY_EXISTS, ZUMACTL_EXIT_ALREADY_EXISTS },
                { ZUMA_ERROR_BUSY, ZUMACTL_EXIT_BUSY },
                { ZUMA_ERROR_NO_SPACE, ZUMACTL_EXIT_NO_SPACE },
                { ZUMA_ERROR_INVALID_ARGUMENT, ZUMACTL_EXIT_INVALID_ARGUMENT },
                { ZUMA_ERROR_CORRUPT, ZUMACTL_EXIT_CORRUPT },
                { ZUMA_ERROR_ACCESS_DENIED, ZUMACTL_EXIT_ACCESS_DENIED },
                { ZUMA_ERROR_IO, ZUMACTL_EXIT_FAILURE },
                { ZUMA_ERROR_NOT_RUNNING, ZUMACTL_EXIT_NOT_RUNNING },
                { ZUMA_ERROR_CANCELLED, ZUMACTL_EXIT_FAILURE },
                { ZUMA_ERROR_LIMIT_EXCEEDED, ZUMACTL_EXIT_NO_SPACE },
                { ZUMA_ERROR_READ_ONLY, ZUMACTL_EXIT_FAILURE },
                { ZUMA_ERROR_NOT_SUPPORTED, ZUMACTL_EXIT_FAILURE },
                { ZUMA_ERROR_TIMED_OUT, ZUMACTL_EXIT_FAILURE },
        };
        G_STATIC_ASSERT(G_N_ELEMENTS(zuma) == ZUMA_ERROR_N_CODES);

        for (guint i = 0; i < G_N_ELEMENTS(zuma); i++) {
                g_autoptr(GError) error = g_error_new(ZUMA_ERROR, zuma[i].code, "x");
                g_autofree char *name =
                        g_strconcat(ZUMA_ERROR_PREFIX, zuma_error_code_name(zuma[i].code), NULL);
                /* As it arrives from the bus: mapped back through the
                 * registered domain, with the remote prefix. */
                g_autoptr(GError) remote = g_dbus_error_new_for_dbus_error(name, "it broke");
                g_autofree char *words = zumactl_error_words(remote);

                g_assert_cmpint(zumactl_exit_code(error), ==, zuma[i].exit);
                g_assert_error(remote, ZUMA_ERROR, (gint)zuma[i].code);
                g_assert_cmpint(zumactl_exit_code(remote), ==, zuma[i].exit);
                g_assert_cmpstr(words, ==, "it broke");
        }

        {
                g_autoptr(GError) denied = g_dbus_error_new_for_dbus_error(
                        "org.freedesktop.DBus.Error.AccessDenied", "Rejected send message");
                g_autoptr(GError) unknown = g_dbus_error_new_for_dbus_error(
                        "org.freedesktop.DBus.Error.ServiceUnknown", "The name is not activatable");
                g_autoptr(GError) noreply = g_dbus_error_new_for_dbus_error(
                        "org.freedesktop.DBus.Error.NoReply", "Remote peer disconnected");
                g_autoptr(GError) other = g_dbus_error_new_for_dbus_error("com.example.Odd", "odd");
                g_autoptr(GError) usage = g_error_new(G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "u");
                g_autoptr(GError) noserver =
                        g_error_new(G_DBUS_ERROR, G_DBUS_ERROR_NO_SERVER, "no bus");
                g_autofree char *denied_words = zumactl_error_words(denied);
                g_autofree char *other_words = zumactl_error_words(other);

                g_assert_cmpint(zumactl_exit_code(NULL), ==, ZUMACTL_EXIT_OK);
                g_assert_cmpint(zumactl_exit_code(denied), ==, ZUMACTL_EXIT_ACCESS_DENIED);
                g_assert_null(strstr(denied_words, "Rejected"));
                g_assert_cmpint(zumactl_exit_code(unknown), ==, ZUMACTL_EXIT_UNREACHABLE);
                g_assert_cmpint(zumactl_exit_code(noreply), ==, ZUMACTL_EXIT_UNREACHABLE);
                g_assert_cmpint(zumactl_exit_code(noserver), ==, ZUMACTL_EXIT_UNREACHABLE);
                g_assert_cmpint(zumactl_exit_code(other), ==, ZUMACTL_EXIT_FAILURE);
                g_assert_cmpstr(other_words, ==, "odd");
                g_assert_cmpint(zumactl_exit_code(usage), ==, ZUMACTL_EXIT_USAGE);
        }
}

/* busapi's one -errno to error code helper, which the engine's errors go
 * through (ENODATA is the engine's "no store on this device"). */
static void test_errno_codes(void)
{
        static const struct {
                int neg_errno;
                ZumaError code;
        } map[] = {
                { -ENOENT, ZUMA_ERROR_NOT_FOUND },
                { -EEXIST, ZUMA_ERROR_ALREADY_EXISTS },
                { -EBUSY, ZUMA_ERROR_BUSY },
                { -ENOSPC, ZUMA_ERROR_NO_SPACE },
                { -EINVAL, ZUMA_ERROR_INVALID_ARGUMENT },
                { -EUCLEAN, ZUMA_ERROR_CORRUPT },
                { -EILSEQ, ZUMA_ERROR_CORRUPT },
                { -ENODATA, ZUMA_ERROR_CORRUPT },
                { -EPERM, ZUMA_ERROR_ACCESS_DENIED },
                { -EIO, ZUMA_ERROR_IO },
                { -EROFS, ZUMA_ERROR_READ_ONLY },
                { -EOPNOTSUPP, ZUMA_ERROR_NOT_SUPPORTED },
                { -ENOMEM, ZUMA_ERROR_FAILED },
                { 0, ZUMA_ERROR_FAILED },
        };

        for (guint i = 0; i < G_N_ELEMENTS(map); i++) {
                g_autoptr(GError) error = NULL;

                g_assert_cmpint(zuma_error_from_errno(map[i].neg_errno), ==, map[i].code);
                zuma_error_set_errno(&error, map[i].neg_errno, "what %d", i);
                g_assert_error(error, ZUMA_ERROR, (gint)map[i].code);
        }
}

static void test_error_propagate(void)
{
        g_autoptr(GError) error = NULL;
        GError *remote =
                g_dbus_error_new_for_dbus_error(ZUMA_ERROR_PREFIX "NotFound", "no snapshot 'x'");
        GError *empty = g_error_new_literal(ZUMA_ERROR, ZUMA_ERROR_BUSY, "");

        zumactl_error_propagate(&error, remote, "deleting snapshot '%s'", "x");
        g_assert_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND);
        g_assert_cmpstr(error->message, ==, "deleting snapshot 'x': no snapshot 'x'");
        g_clear_error(&error);
        zumactl_error_propagate(&error, empty, "stopping");
        g_assert_cmpstr(error->message, ==, "stopping: busy (open or mounted)");
        g_clear_error(&error);
        g_assert_false(zumactl_usage_error(&error, "missing %s", "VOL"));
        g_assert_cmpint(zumactl_exit_code(error), ==, ZUMACTL_EXIT_USAGE);
}

/* Runs zumactl with args; returns its exit status, stderr in *ret_err. */
static int run_zumactl(const char *const *args, char **ret_out, char **ret_err)
{
        const char *zumactl = g_getenv("ZUMACTL");
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_autoptr(GError) error = NULL;
        g_auto(GStrv) envp = g_get_environ();
        int status = -1;

        g_ptr_array_add(argv, (gpointer)zumactl);
        for (guint i = 0; args[i] != NULL; i++)
                g_ptr_array_add(argv, (gpointer)args[i]);
        g_ptr_array_add(argv, NULL);
        /* Any attempt to reach a server fails fast and distinctly (11). */
        envp = g_environ_setenv(envp, "DBUS_SYSTEM_BUS_ADDRESS",
                                "unix:path=/nonexistent/zumactl-test-bus", TRUE);
        g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, envp, G_SPAWN_DEFAULT, NULL, NULL,
                                   ret_out, ret_err, &status, &error));
        g_assert_no_error(error);
        g_assert_true(WIFEXITED(status));
        return WEXITSTATUS(status);
}

static void test_command_line(void)
{
        static const struct {
                const char *args[10];
                int exit;
                const char *stderr_has;
        } cases[] = {
                { { NULL }, 2, "no command given" },
                { { "frobnicate", NULL }, 2, "unknown command 'frobnicate'" },
                { { "start", NULL }, 2, "missing VOL" },
                { { "start", "a", "b", NULL }, 2, "unexpected argument 'b'" },
                { { "status", "--frob", NULL }, 2, "Unknown option --frob" },
                { { "define", "vol0", NULL }, 2, "expected volume" },
                { { "define", "volume", "vol0", "/o", NULL }, 2, "missing STORE" },
                { { "define", "volume", "v", "/o", "/s", "--chunk-size", "16Q", NULL },
                  2,
                  "invalid chunk size" },
                { { "define", "volume", "v", "/o", "/s", "--full-policy", "never", NULL },
                  2,
                  "invalid full policy" },
                { { "forget", "volume", NULL }, 2, "missing VOL" },
                { { "snapshot", "vol0", "--priority", "high", NULL }, 2, "invalid priority" },
                { { "snapshot", "vol0", "--priority", "2147483648", NULL }, 2, "out of range" },
                { { "delete", "vol0", NULL }, 2, "missing SNAP" },
                { { "priority", "vol0", "s", "1.5", NULL }, 2, "not a whole number" },
                { { "priority", "vol0", "s", "-5", "--bogus", NULL },
                  2,
                  "unexpected argument '--bogus'" },
                { { "writable", "vol0", "s", "maybe", NULL }, 2, "expected on or off" },
                { { "resize", "vol0", NULL }, 2, "nothing to resize" },
                { { "policy", "vol0", "sometimes", NULL }, 2, "invalid full policy" },
                { { "status", "a", "b", "c", NULL }, 2, "unexpected argument 'c'" },
                /* Replication: the kind word picks the command, whose own
                 * arguments the messages name. */
                { { "define", "target", NULL }, 2, "missing VOL" },
                { { "define", "target", "vol0", NULL }, 2, "missing ADDRESS" },
                { { "define", "target", "v", "h", "x", NULL }, 2, "unexpected argument 'x'" },
                { { "define", "target", "v", "h", "--period", "1x", NULL }, 2, "invalid --period" },
                { { "define", "target", "v", "h", "--period", "15", NULL }, 2, "needs a unit" },
                { { "define", "target", "v", "h", "--rate-limit", "fast", NULL },
                  2,
                  "invalid rate limit" },
                { { "define", "target", "v", "h", "--keep", "hourly", NULL },
                  2,
                  "expected CLASS=N" },
                { { "define", "target", "v", "h", "--keep", "daily=1", "--keep", "daily=2", NULL },
                  2,
                  "given twice" },
                { { "define", "target", "v", "h", "--compress", "20", NULL }, 2, "out of range" },
                { { "define", "target", "v", "h", "--pin", "a", "--ca", "b", NULL },
                  2,
                  "not both" },
                { { "define", "target", "v", "ssh://h", "--pin", "a", NULL }, 2, "TLS targets" },
                { { "define", "target", "v", "h", "--ssh-key", "k", NULL }, 2, "ssh:// targets" },
                { { "define", "target", "v", "h", "--listen", "x", NULL },
                  2,
                  "Unknown option --listen" },
                { { "define", "source", NULL }, 2, "missing VOL" },
                { { "define", "source", "v", "--pin", "x", NULL }, 2, "Unknown option --pin" },
                { { "define", "source", "v", "w", NULL }, 2, "unexpected argument 'w'" },
                { { "define", "sources", "v", NULL }, 2, "expected volume, schedule, target" },
                { { "forget", "target", NULL }, 2, "Usage: zumactl forget target VOL" },
                { { "forget", "source", "v", "--name", "n", NULL }, 2, "Unknown option --name" },
                { { "replicate", NULL }, 2, "missing VOL" },
                { { "replicate", "v", "--target", NULL }, 2, "Missing argument for --target" },
                { { "verify", "v", "w", NULL }, 2, "unexpected argument 'w'" },
                /* Well-formed: reaches for the (absent) bus. */
                { { "define", "volume", "target", "/o", "/s", NULL }, 11, "is zuma-snapshotd" },
                { { "define", "target", "v", "h", "--period", "1h", "--rate-limit", "1.5M", NULL },
                  11,
                  "defining a target of volume 'v'" },
                { { "replicate", "v", NULL }, 11, "replicating volume 'v'" },
                { { "help", "nope", NULL }, 2, "unknown command 'nope'" },
                /* Well-formed: reaches for the (absent) bus. */
                { { "status", NULL }, 11, "is DBUS_SYSTEM_BUS_ADDRESS right?" },
                { { "priority", "vol0", "s", "-5", NULL }, 11, "cannot connect" },
                { { "--bus-address", "unix:path=/nonexistent/x", "list", NULL },
                  11,
                  "is --bus-address right?" },
        };

        if (g_getenv("ZUMACTL") == NULL) {
                g_test_skip("ZUMACTL is not set");
                return;
        }
        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *out = NULL;
                g_autofree char *err = NULL;
                int exit = run_zumactl(cases[i].args, &out, &err);

                g_test_message("zumactl %s -> %d: %s", cases[i].args[0] ? cases[i].args[0] : "",
                               exit, err);
                g_assert_cmpint(exit, ==, cases[i].exit);
                g_assert_nonnull(strstr(err, cases[i].stderr_has));
                g_assert_cmpstr(out, ==, "");
        }
}

static void test_help(void)
{
        static const char *const commands[] = {
                "define", "forget", "start",    "stop",     "snapshot",  "delete", "rename",
                "pin",    "unpin",  "priority", "writable", "attach",    "detach", "revert",
                "resize", "policy", "status",   "list",     "replicate", "verify",
        };
        const char *version[] = { "--version", NULL };
        const char *help[] = { "--help", NULL };
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;

        if (g_getenv("ZUMACTL") == NULL) {
                g_test_skip("ZUMACTL is not set");
                return;
        }
        g_assert_cmpint(run_zumactl(version, &out, &err), ==, 0);
        g_assert_true(g_str_has_prefix(out, "zumactl "));
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(run_zumactl(help, &out, &err), ==, 0);
        for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
                g_assert_nonnull(strstr(out, commands[i]));
        for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
                const char *args[] = { "help", commands[i], NULL };
                const char *args2[] = { commands[i], "--help", NULL };
                g_autofree char *out1 = NULL;
                g_autofree char *out2 = NULL;
                g_autofree char *usage = g_strdup_printf("zumactl [OPTION…] %s", commands[i]);

                g_clear_pointer(&err, g_free);
                g_assert_cmpint(run_zumactl(args, &out1, &err), ==, 0);
                g_clear_pointer(&err, g_free);
                g_assert_cmpint(run_zumactl(args2, &out2, &err), ==, 0);
                g_assert_cmpstr(out1, ==, out2);
                g_assert_nonnull(strstr(out1, usage));
                g_assert_nonnull(strstr(out1, "Example"));
        }
}

int main(int argc, char **argv)
{
        g_setenv("LC_ALL", "C.UTF-8", TRUE);
        g_test_init(&argc, &argv, NULL);
        (void)zuma_error_quark();

        g_test_add_func("/zumactl/format-size", test_format_size);
        g_test_add_func("/zumactl/format-duration-about", test_format_duration_about);
        g_test_add_func("/zumactl/parse-size", test_parse_size);
        g_test_add_func("/zumactl/parse-rate", test_parse_rate);
        g_test_add_func("/zumactl/parse-duration", test_parse_duration);
        g_test_add_func("/zumactl/parse-keep", test_parse_keep);
        g_test_add_func("/zumactl/parse-int", test_parse_int);
        g_test_add_func("/zumactl/parse-switch", test_parse_switch);
        g_test_add_func("/zumactl/absolute-path", test_absolute_path);
        g_test_add_func("/zumactl/json-string", test_json_string);
        g_test_add_func("/zumactl/json-builder", test_json_builder);
        g_test_add_func("/zumactl/json-top-level-array", test_json_top_level_array);
        g_test_add_func("/zumactl/time", test_time);
        g_test_add_func("/zumactl/table", test_table);
        g_test_add_func("/zumactl/exit-codes", test_exit_codes);
        g_test_add_func("/zumactl/errno-codes", test_errno_codes);
        g_test_add_func("/zumactl/error-propagate", test_error_propagate);
        g_test_add_func("/zumactl/command-line", test_command_line);
        g_test_add_func("/zumactl/help", test_help);
        return g_test_run();
}
