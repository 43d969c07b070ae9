/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * schedule-bench-client: the bus calls schedule-bench.sh times, made from
 * one process so that a process start is never part of a figure.  The
 * bus is the system bus, i.e. $DBUS_SYSTEM_BUS_ADDRESS (the harness's
 * private one).
 *
 *   create VOLPATH PRIORITY   CreateSnapshot for each name on stdin (one a
 *                             line), not attached, with PRIORITY; prints
 *                             "COUNT TOTAL_MS MAX_MS MEDIAN_MS"
 *   probe VOLPATH PREFIX STOPFILE INTERVAL_MS MAX
 *                             CreateSnapshot PREFIX-1, PREFIX-2, ... (not
 *                             attached, priority 0) every INTERVAL_MS until
 *                             STOPFILE exists or MAX were made; creates
 *                             STOPFILE.started after the first; prints
 *                             "COUNT MAX_MS MEDIAN_MS", and each creation
 *                             of 100 ms or more on stderr
 *   advance SECONDS           Scheduler1.TestClock.Advance(SECONDS), which
 *                             answers once the scheduler has acted on the
 *                             new time; prints its milliseconds
 *
 * Exits 1 with the bus error on stderr when a call fails.
 */
#include <gio/gio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zuma-names.h"

#define CALL_TIMEOUT_MS (3600 * 1000)
/* A probe's creation this slow is reported on stderr, with its time, to
 * be matched with the daemons' logs. */
#define SLOW_MS 100.0

static GDBusConnection *connect_bus(void)
{
        g_autoptr(GError) error = NULL;
        GDBusConnection *connection = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error);

        if (!connection) {
                g_printerr("schedule-bench-client: %s\n", error->message);
                exit(1);
        }
        return connection;
}

static double ms_since(gint64 start)
{
        return (double)(g_get_monotonic_time() - start) / 1000.0;
}

/* One CreateSnapshot; its milliseconds. */
static double create_one(GDBusConnection *connection, const char *vol_path, const char *name,
                         gint32 priority)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        GVariantBuilder options;
        gint64 start;

        g_variant_builder_init(&options, G_VARIANT_TYPE_VARDICT);
        g_variant_builder_add(&options, "{sv}", "attach", g_variant_new_boolean(FALSE));
        g_variant_builder_add(&options, "{sv}", "priority", g_variant_new_int32(priority));
        start = g_get_monotonic_time();
        reply = g_dbus_connection_call_sync(
                connection, ZUMA_SNAPSHOTD_BUS_NAME, vol_path, ZUMA_INTERFACE_VOLUME,
                "CreateSnapshot", g_variant_new("(sa{sv})", name, &options), G_VARIANT_TYPE("(os)"),
                G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, &error);
        if (!reply) {
                g_printerr("schedule-bench-client: CreateSnapshot %s: %s\n", name, error->message);
                exit(1);
        }
        return ms_since(start);
}

static int compare_double(gconstpointer a, gconstpointer b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

/* "MAX MEDIAN" of times, "nan nan" when empty. */
static void print_max_median(GArray *times)
{
        guint n = times->len;
        double median;

        if (!n) {
                printf("nan nan\n");
                return;
        }
        g_array_sort(times, compare_double);
        median = n % 2 ? g_array_index(times, double, n / 2)
                       : (g_array_index(times, double, n / 2 - 1) +
                          g_array_index(times, double, n / 2)) /
                                 2;
        printf("%.3f %.3f\n", g_array_index(times, double, n - 1), median);
}

static int create(const char *vol_path, const char *priority_text)
{
        g_autoptr(GDBusConnection) connection = connect_bus();
        g_autoptr(GArray) times = g_array_new(FALSE, FALSE, sizeof(double));
        gint32 priority = (gint32)g_ascii_strtoll(priority_text, NULL, 10);
        char line[512];
        gint64 start = g_get_monotonic_time();
        double total;

        while (fgets(line, sizeof(line), stdin)) {
                double ms;

                g_strstrip(line);
                if (!line[0])
                        continue;
                ms = create_one(connection, vol_path, line, priority);
                g_array_append_val(times, ms);
        }
        total = ms_since(start);
        printf("%u %.3f ", times->len, total);
        print_max_median(times);
        return 0;
}

static int probe(const char *vol_path, const char *prefix, const char *stop_file,
                 const char *interval_text, const char *most_text)
{
        g_autoptr(GDBusConnection) connection = connect_bus();
        g_autoptr(GArray) times = g_array_new(FALSE, FALSE, sizeof(double));
        g_autofree char *started = g_strconcat(stop_file, ".started", NULL);
        gulong interval_us = (gulong)g_ascii_strtoull(interval_text, NULL, 10) * 1000;
        guint most = (guint)g_ascii_strtoull(most_text, NULL, 10);

        while (times->len < most && !g_file_test(stop_file, G_FILE_TEST_EXISTS)) {
                g_autofree char *name = g_strdup_printf("%s-%u", prefix, times->len + 1);
                g_autoptr(GDateTime) when = g_date_time_new_now_local();
                double ms = create_one(connection, vol_path, name, 0);

                g_array_append_val(times, ms);
                if (ms >= SLOW_MS) {
                        g_autofree char *at = g_date_time_format(when, "%H:%M:%S.%f");

                        g_printerr("schedule-bench-client: %s took %.1f ms (called at %s)\n", name,
                                   ms, at);
                }
                if (times->len == 1 && !g_file_set_contents(started, "started\n", -1, NULL)) {
                        g_printerr("schedule-bench-client: cannot write %s\n", started);
                        return 1;
                }
                g_usleep(interval_us);
        }
        printf("%u ", times->len);
        print_max_median(times);
        return 0;
}

static int advance(const char *seconds_text)
{
        g_autoptr(GDBusConnection) connection = connect_bus();
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        gint64 seconds = g_ascii_strtoll(seconds_text, NULL, 10);
        gint64 start = g_get_monotonic_time();

        reply = g_dbus_connection_call_sync(
                connection, ZUMA_SCHEDULERD_BUS_NAME, ZUMA_SCHEDULERD_OBJECT_ROOT "/Manager",
                ZUMA_SCHEDULERD_BUS_NAME ".TestClock", "Advance",
                g_variant_new("(x@a{sv})", seconds, g_variant_new("a{sv}", NULL)), NULL,
                G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, &error);
        if (!reply) {
                g_printerr("schedule-bench-client: Advance %s: %s\n", seconds_text, error->message);
                return 1;
        }
        printf("%.3f\n", ms_since(start));
        return 0;
}

int main(int argc, char **argv)
{
        if (argc == 4 && strcmp(argv[1], "create") == 0)
                return create(argv[2], argv[3]);
        if (argc == 7 && strcmp(argv[1], "probe") == 0)
                return probe(argv[2], argv[3], argv[4], argv[5], argv[6]);
        if (argc == 3 && strcmp(argv[1], "advance") == 0)
                return advance(argv[2]);
        g_printerr("usage: schedule-bench-client create VOLPATH PRIORITY < NAMES\n"
                   "       schedule-bench-client probe VOLPATH PREFIX STOPFILE INTERVAL_MS MAX\n"
                   "       schedule-bench-client advance SECONDS\n");
        return 2;
}
