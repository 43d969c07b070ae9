/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Commands on schedules, answered by zuma-schedulerd
 * (org.zumastor.Scheduler1): define schedule, forget schedule, schedule
 * (show) and check (Nagios-style health).  The rules are in
 * docs/schedules.md; zumactl checks only that numbers are numbers and
 * leaves every other verdict to the daemon, so the messages and error
 * codes are the bus API's.
 */
#define G_LOG_DOMAIN "zumactl"

#include "zumactl.h"

#include <stdio.h>

#include "zuma-names.h"
#include "zuma-scheduler-generated.h"
#include "zumactl-bus.h"
#include "zumactl-errors.h"
#include "zumactl-output.h"
#include "zumactl-render.h"

#define SCHEDULER_MANAGER_PATH ZUMA_SCHEDULERD_OBJECT_ROOT "/Manager"
/* A definition takes the first snapshot before it answers. */
#define SCHEDULER_CALL_TIMEOUT_MS (10 * 60 * 1000)

/* Nagios' exit status when the check itself cannot run. */
#define CHECK_EXIT_UNKNOWN 3

static const char *const class_options[] = { "hourly", "daily", "weekly", "monthly", "yearly" };

static ZumaSchedManager *scheduler_manager(ZumactlContext *ctx, gboolean auto_start, GError **error)
{
        g_autoptr(ZumaSchedManager) manager = NULL;
        g_autofree char *owner = NULL;

        if (!zumactl_bus_open(ctx, error))
                return NULL;
        manager = zuma_sched_manager_proxy_new_sync(
                ctx->connection,
                G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS |
                        (auto_start ? 0 : G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START),
                ZUMA_SCHEDULERD_BUS_NAME, SCHEDULER_MANAGER_PATH, NULL, error);
        if (!manager)
                return NULL;
        owner = g_dbus_proxy_get_name_owner(G_DBUS_PROXY(manager));
        if (!owner) {
                g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN,
                            "no zuma-schedulerd (%s) on the %s", ZUMA_SCHEDULERD_BUS_NAME,
                            ctx->bus_address ? "bus" : "system bus");
                return NULL;
        }
        g_dbus_proxy_set_default_timeout(G_DBUS_PROXY(manager), SCHEDULER_CALL_TIMEOUT_MS);
        return g_steal_pointer(&manager);
}

ZumaSchedSchedule *zumactl_schedule_find(ZumactlContext *ctx, const char *volume,
                                         gboolean auto_start, GError **error)
{
        g_autoptr(ZumaSchedManager) manager = scheduler_manager(ctx, auto_start, error);
        g_autofree char *path = NULL;

        if (!manager || !zuma_sched_manager_call_find_schedule_sync(
                                manager, volume, zumactl_bus_no_options(), &path, NULL, error))
                return NULL;
        return zuma_sched_schedule_proxy_new_sync(ctx->connection, G_DBUS_PROXY_FLAGS_NONE,
                                                  ZUMA_SCHEDULERD_BUS_NAME, path, NULL, error);
}

static gboolean parse_count(const char *option, const char *text, gint32 *ret, GError **error)
{
        gint64 value;

        if (!g_ascii_string_to_signed(text, 10, G_MININT32, G_MAXINT32, &value, NULL))
                return zumactl_usage_error(error, "--%s: '%s' is not a number", option, text);
        *ret = (gint32)value;
        return TRUE;
}

/* "zumactl define schedule VOL ...", from zumactl_cmd_define(). */
gboolean zumactl_cmd_define_schedule(ZumactlContext *ctx, int argc, char **argv, GError **error)
{
        g_autofree char *hourly = NULL;
        g_autofree char *daily = NULL;
        g_autofree char *weekly = NULL;
        g_autofree char *monthly = NULL;
        g_autofree char *yearly = NULL;
        char **counts[G_N_ELEMENTS(class_options)] = { &hourly, &daily, &weekly, &monthly,
                                                       &yearly };
        g_autofree char *every = NULL;
        g_autofree char *keep = NULL;
        g_autofree char *pre = NULL;
        g_autofree char *post = NULL;
        g_autofree char *command_timeout = NULL;
        const GOptionEntry entries[] = {
                { "hourly", 0, 0, G_OPTION_ARG_STRING, &hourly, "Keep N hourly snapshots", "N" },
                { "daily", 0, 0, G_OPTION_ARG_STRING, &daily, "Keep N daily snapshots", "N" },
                { "weekly", 0, 0, G_OPTION_ARG_STRING, &weekly, "Keep N weekly snapshots", "N" },
                { "monthly", 0, 0, G_OPTION_ARG_STRING, &monthly, "Keep N monthly snapshots", "N" },
                { "yearly", 0, 0, G_OPTION_ARG_STRING, &yearly, "Keep N yearly snapshots", "N" },
                { "every", 0, 0, G_OPTION_ARG_STRING, &every,
                  "Also a snapshot every DURATION (15m, 6h, 1d...), with --keep", "DURATION" },
                { "keep", 0, 0, G_OPTION_ARG_STRING, &keep, "Keep N of the --every snapshots",
                  "N" },
                { "pre", 0, 0, G_OPTION_ARG_STRING, &pre,
                  "Run CMD before each snapshot (absolute path first, no shell)", "CMD" },
                { "post", 0, 0, G_OPTION_ARG_STRING, &post, "Run CMD after each snapshot", "CMD" },
                { "command-timeout", 0, 0, G_OPTION_ARG_STRING, &command_timeout,
                  "Longest run of --pre and --post (default 1m)", "DURATION" },
                G_OPTION_ENTRY_NULL,
        };
        g_autoptr(GVariantDict) schedule = g_variant_dict_new(NULL);
        g_autoptr(ZumaSchedManager) manager = NULL;
        g_autoptr(GError) error_local = NULL;
        g_autofree char *path = NULL;
        gint32 count = 0;

        if (!zumactl_parse_options(ctx, entries, FALSE, &argc, &argv, error) ||
            !zumactl_expect_arguments(ctx, argc, argv, 2, 2, error))
                return FALSE;
        for (guint c = 0; c < G_N_ELEMENTS(class_options); c++) {
                if (!*counts[c])
                        continue;
                if (!parse_count(class_options[c], *counts[c], &count, error))
                        return FALSE;
                g_variant_dict_insert(schedule, class_options[c], "i", count);
        }
        if (keep) {
                if (!parse_count("keep", keep, &count, error))
                        return FALSE;
                g_variant_dict_insert(schedule, "keep", "i", count);
        }
        if (every)
                g_variant_dict_insert(schedule, "every", "s", every);
        if (pre)
                g_variant_dict_insert(schedule, "pre", "s", pre);
        if (post)
                g_variant_dict_insert(schedule, "post", "s", post);
        if (command_timeout)
                g_variant_dict_insert(schedule, "command_timeout", "s", command_timeout);

        manager = scheduler_manager(ctx, TRUE, &error_local);
        if (!manager || !zuma_sched_manager_call_define_schedule_sync(
                                manager, argv[2], g_variant_dict_end(schedule),
                                zumactl_bus_no_options(), &path, NULL, &error_local)) {
                zumactl_error_propagate(error, g_steal_pointer(&error_local),
                                        "defining the schedule of '%s'", argv[2]);
                return FALSE;
        }
        if (ctx->json) {
                g_autoptr(ZumaSchedSchedule) proxy = zuma_sched_schedule_proxy_new_sync(
                        ctx->connection, G_DBUS_PROXY_FLAGS_NONE, ZUMA_SCHEDULERD_BUS_NAME, path,
                        NULL, &error_local);

                if (!proxy)
                        return zumactl_fail(error, g_steal_pointer(&error_local),
                                            "reading the schedule");
                zumactl_print_schedule(ctx, proxy);
        }
        return TRUE;
}

/* "zumactl forget schedule VOL", from zumactl_cmd_forget(). */
gboolean zumactl_cmd_forget_schedule(ZumactlContext *ctx, int argc, char **argv, GError **error)
{
        g_autoptr(ZumaSchedManager) manager = NULL;
        g_autoptr(GError) error_local = NULL;

        if (!zumactl_parse_options(ctx, NULL, FALSE, &argc, &argv, error) ||
            !zumactl_expect_arguments(ctx, argc, argv, 2, 2, error))
                return FALSE;
        manager = scheduler_manager(ctx, TRUE, &error_local);
        if (!manager || !zuma_sched_manager_call_forget_schedule_sync(
                                manager, argv[2], zumactl_bus_no_options(), NULL, &error_local)) {
                zumactl_error_propagate(error, g_steal_pointer(&error_local),
                                        "forgetting the schedule of '%s'", argv[2]);
                return FALSE;
        }
        if (ctx->json) {
                g_autoptr(JsonBuilder) builder = json_builder_new();
                g_autofree char *text = NULL;

                json_builder_begin_object(builder);
                zumactl_json_set_string(builder, "volume", argv[2]);
                zumactl_json_set_bool(builder, "forgotten", TRUE);
                json_builder_end_object(builder);
                text = zumactl_json_to_text(builder);
                zumactl_print(text);
        }
        return TRUE;
}

static char *format_time(guint64 t)
{
        g_autoptr(GDateTime) time = NULL;

        if (t == 0)
                return g_strdup("-");
        time = g_date_time_new_from_unix_utc((gint64)t);
        return time ? g_date_time_format(time, "%Y-%m-%d %H:%M UTC") : g_strdup("?");
}

static void print_schedule_text(ZumaSchedSchedule *proxy)
{
        GVariant *schedule = zuma_sched_schedule_get_schedule(proxy);
        GVariant *kept = zuma_sched_schedule_get_kept(proxy);
        g_autofree char *next = format_time(zuma_sched_schedule_get_next_snapshot(proxy));
        g_autoptr(GString) text = g_string_new(NULL);
        const char *error_text = zuma_sched_schedule_get_last_error(proxy);
        const char *last = zuma_sched_schedule_get_last_snapshot(proxy);
        gint64 age = zuma_sched_schedule_get_newest_age(proxy);
        GVariantIter iter;
        const char *key;
        GVariant *value;

        g_string_append_printf(text, "volume:     %s (%s)\n",
                               zuma_sched_schedule_get_volume_name(proxy),
                               zuma_sched_schedule_get_volume_uuid(proxy));
        g_string_append(text, "schedule:  ");
        if (schedule) {
                g_variant_iter_init(&iter, schedule);
                while (g_variant_iter_loop(&iter, "{&sv}", &key, &value)) {
                        if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT32))
                                g_string_append_printf(text, " %s=%d", key,
                                                       g_variant_get_int32(value));
                        else if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING))
                                g_string_append_printf(text, " %s=%s", key,
                                                       g_variant_get_string(value, NULL));
                }
        }
        g_string_append_printf(text, "\nnext:       %s\n", next);
        g_string_append_printf(text, "newest:     %s", last && last[0] ? last : "-");
        if (age >= 0)
                g_string_append_printf(text, " (%" G_GINT64_FORMAT "m old)", age / 60);
        g_string_append(text, "\nkept:      ");
        if (kept) {
                guint32 count;

                g_variant_iter_init(&iter, kept);
                while (g_variant_iter_next(&iter, "{&su}", &key, &count))
                        g_string_append_printf(text, " %s=%u", key, count);
        }
        g_string_append_printf(text, "\nhealth:     %s%s\n", zuma_sched_schedule_get_health(proxy),
                               zuma_sched_schedule_get_overdue(proxy) ? " (overdue)" : "");
        if (error_text && error_text[0])
                g_string_append_printf(text, "last error: %s\n", error_text);
        zumactl_print(text->str);
}

/* The Kept property (a{su}: class → count) as the JSON member "kept". */
static void add_kept_json(JsonBuilder *builder, GVariant *kept)
{
        zumactl_render_counts_json(builder, "kept", kept);
}

static void print_schedule_json(ZumaSchedSchedule *proxy)
{
        g_autoptr(JsonBuilder) builder = json_builder_new();
        g_autofree char *text = NULL;
        GVariant *schedule = zuma_sched_schedule_get_schedule(proxy);
        GVariant *kept = zuma_sched_schedule_get_kept(proxy);
        GVariantIter iter;
        const char *key;
        GVariant *value;

        json_builder_begin_object(builder);
        zumactl_json_set_string(builder, "volume", zuma_sched_schedule_get_volume_name(proxy));
        zumactl_json_set_string(builder, "uuid", zuma_sched_schedule_get_volume_uuid(proxy));
        json_builder_set_member_name(builder, "schedule");
        json_builder_begin_object(builder);
        if (schedule) {
                g_variant_iter_init(&iter, schedule);
                while (g_variant_iter_loop(&iter, "{&sv}", &key, &value)) {
                        if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT32))
                                zumactl_json_set_int(builder, key, g_variant_get_int32(value));
                        else if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING))
                                zumactl_json_set_string(builder, key,
                                                        g_variant_get_string(value, NULL));
                }
        }
        json_builder_end_object(builder);
        zumactl_json_set_uint(builder, "next_snapshot",
                              zuma_sched_schedule_get_next_snapshot(proxy));
        zumactl_json_set_string(builder, "last_snapshot",
                                zuma_sched_schedule_get_last_snapshot(proxy));
        zumactl_json_set_uint(builder, "last_snapshot_time",
                              zuma_sched_schedule_get_last_snapshot_time(proxy));
        zumactl_json_set_int(builder, "newest_age", zuma_sched_schedule_get_newest_age(proxy));
        add_kept_json(builder, kept);
        zumactl_json_set_bool(builder, "overdue", zuma_sched_schedule_get_overdue(proxy));
        zumactl_json_set_string(builder, "health", zuma_sched_schedule_get_health(proxy));
        zumactl_json_set_string(builder, "last_error", zuma_sched_schedule_get_last_error(proxy));
        json_builder_end_object(builder);
        text = zumactl_json_to_text(builder);
        zumactl_print(text);
}

void zumactl_print_schedule(ZumactlContext *ctx, ZumaSchedSchedule *proxy)
{
        if (ctx->json)
                print_schedule_json(proxy);
        else
                print_schedule_text(proxy);
}

gboolean zumactl_cmd_schedule(ZumactlContext *ctx, int argc, char **argv, GError **error)
{
        g_autoptr(ZumaSchedSchedule) proxy = NULL;
        g_autoptr(GError) error_local = NULL;

        if (!zumactl_parse_options(ctx, NULL, FALSE, &argc, &argv, error) ||
            !zumactl_expect_arguments(ctx, argc, argv, 1, 1, error))
                return FALSE;
        proxy = zumactl_schedule_find(ctx, argv[1], TRUE, &error_local);
        if (!proxy) {
                zumactl_error_propagate(error, g_steal_pointer(&error_local),
                                        "reading the schedule of '%s'", argv[1]);
                return FALSE;
        }
        zumactl_print_schedule(ctx, proxy);
        return TRUE;
}

gboolean zumactl_cmd_check(ZumactlContext *ctx, int argc, char **argv, GError **error)
{
        g_autofree char *max_age = NULL;
        const GOptionEntry entries[] = {
                { "max-age", 0, 0, G_OPTION_ARG_STRING, &max_age,
                  "Critical when the newest scheduled snapshot is older (default: 2 x the "
                  "shortest period + grace)",
                  "DURATION" },
                G_OPTION_ENTRY_NULL,
        };
        g_autoptr(ZumaSchedSchedule) proxy = NULL;
        g_autoptr(GError) error_local = NULL;
        g_autoptr(GVariantDict) options = g_variant_dict_new(NULL);
        g_autofree char *line = NULL;
        guint status = 0;

        if (!zumactl_parse_options(ctx, entries, FALSE, &argc, &argv, error) ||
            !zumactl_expect_arguments(ctx, argc, argv, 1, 1, error))
                return FALSE;
        if (max_age)
                g_variant_dict_insert(options, "max_age", "s", max_age);
        proxy = zumactl_schedule_find(ctx, argv[1], TRUE, &error_local);
        if (!proxy || !zuma_sched_schedule_call_check_sync(proxy, g_variant_dict_end(options),
                                                           &status, &line, NULL, &error_local)) {
                /* Monitoring reads stdout and the exit status: UNKNOWN, 3. */
                g_dbus_error_strip_remote_error(error_local);
                line = g_strdup_printf("UNKNOWN: %s: %s", argv[1], error_local->message);
                status = CHECK_EXIT_UNKNOWN;
        }
        if (ctx->json) {
                g_autoptr(JsonBuilder) builder = json_builder_new();
                g_autofree char *text = NULL;

                json_builder_begin_object(builder);
                zumactl_json_set_string(builder, "volume", argv[1]);
                zumactl_json_set_uint(builder, "status", status);
                zumactl_json_set_string(builder, "line", line);
                json_builder_end_object(builder);
                text = zumactl_json_to_text(builder);
                zumactl_print(text);
        } else {
                printf("%s\n", line);
        }
        ctx->exit_status = (int)status;
        return TRUE;
}

void zumactl_schedule_status(ZumactlContext *ctx, const char *uuid, GString *human,
                             JsonBuilder *builder)
{
        g_autoptr(ZumaSchedSchedule) proxy = NULL;
        GVariant *kept;
        GVariantIter iter;
        const char *key;
        guint32 count;

        if (!uuid || !uuid[0])
                return;
        proxy = zumactl_schedule_find(ctx, uuid, FALSE, NULL);
        if (!proxy)
                return;
        kept = zuma_sched_schedule_get_kept(proxy);
        if (builder) {
                json_builder_set_member_name(builder, "schedule");
                json_builder_begin_object(builder);
                zumactl_json_set_uint(builder, "next_snapshot",
                                      zuma_sched_schedule_get_next_snapshot(proxy));
                zumactl_json_set_string(builder, "health", zuma_sched_schedule_get_health(proxy));
                add_kept_json(builder, kept);
                json_builder_end_object(builder);
        }
        if (human) {
                g_autofree char *next = format_time(zuma_sched_schedule_get_next_snapshot(proxy));

                g_string_append_printf(human, "%-16s next %s; kept", "Schedule:", next);
                if (kept) {
                        g_variant_iter_init(&iter, kept);
                        while (g_variant_iter_next(&iter, "{&su}", &key, &count))
                                g_string_append_printf(human, " %s %u", key, count);
                }
                g_string_append_printf(human, "; %s\n", zuma_sched_schedule_get_health(proxy));
        }
}
