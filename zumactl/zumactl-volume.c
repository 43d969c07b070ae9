/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Commands on volumes: define, forget, start, stop, resize, policy.
 */
#define G_LOG_DOMAIN "zumactl"

#include "zumactl.h"

#include <stdio.h>

#include "zumactl-bus.h"
#include "zumactl-errors.h"
#include "zumactl-job.h"
#include "zumactl-parse.h"
#include "zumactl-render.h"

#define OBJECT_KINDS "volume, schedule, target or source"

/* "define volume" and "forget volume": the object word says which kind of
 * definition. */
static gboolean expect_object_word(int argc, char **argv, GError **error)
{
        if (argc < 2)
                return zumactl_usage_error(error, "missing the kind of object (" OBJECT_KINDS ")");
        if (g_strcmp0(argv[1], "volume") != 0)
                return zumactl_usage_error(
                        error, "unknown kind of object '%s' (expected " OBJECT_KINDS ")", argv[1]);
        return TRUE;
}

/* "define schedule ...", "forget target ...": the first word after the
 * command that is not an option names the kind of object ("" if none). */
static const char *object_kind(int argc, char **argv)
{
        for (int i = 1; i < argc; i++) {
                if (argv[i][0] != '-')
                        return argv[i];
        }
        return "";
}

/* On success with --builder, prints the volume at path as it is now. */
static gboolean print_volume_after(ZumactlContext *ctx, const char *path, const char *what,
                                   GError **error)
{
        g_autoptr(ZumaBusVolume) volume = NULL;
        g_autoptr(GError) error_local = NULL;

        if (!ctx->json)
                return TRUE;
        volume = zumactl_bus_reload_volume(ctx, path, &error_local);
        if (volume == NULL)
                return zumactl_fail(error, g_steal_pointer(&error_local), what);
        zumactl_print_volume_json(volume);
        return TRUE;
}

/* The same after DefineVolume: the volume exists once the server
 * answered with its path, so exit code 0 whenever that is all that is
 * known (the server left the bus before its properties could be read:
 * a warning, and JSON with the name and path only), and never NotFound
 * (zumactl_bus_reload_created_volume). */
static gboolean print_defined_volume(ZumactlContext *ctx, const char *name, const char *path,
                                     const char *what, GError **error)
{
        g_autoptr(ZumaBusVolume) volume = NULL;
        g_autoptr(GError) error_local = NULL;

        if (!ctx->json)
                return TRUE;
        volume = zumactl_bus_reload_created_volume(ctx, path, &error_local);
        if (volume != NULL) {
                zumactl_print_volume_json(volume);
                return TRUE;
        }
        if (zumactl_exit_code(error_local) != ZUMACTL_EXIT_UNREACHABLE)
                return zumactl_fail(error, g_steal_pointer(&error_local), what);
        fprintf(stderr,
                "zumactl: warning: %s: zuma-snapshotd left the bus right after defining "
                "volume '%s' at %s; its other properties are unknown\n",
                what, name, path);
        zumactl_print_created_json(name, NULL, path);
        return TRUE;
}

gboolean zumactl_cmd_define(ZumactlContext *ctx, int argc, char **argv, GError **error)
{
        gboolean initialize = FALSE;
        gboolean force = FALSE;
        gboolean no_start = FALSE;
        g_autofree char *chunk_size_text = NULL;
        g_autofree char *mount_point = NULL;
        g_autofree char *full_policy = NULL;
        g_autofree char *uuid = NULL;
        const GOptionEntry entries[] = {
                { "initialize", 0, 0, G_OPTION_ARG_NONE, &initialize,
                  "Create a new, empty store on STORE", NULL },
                { "force", 0, 0, G_OPTION_ARG_NONE, &force,
                  "With --initialize, overwrite a device that holds a store", NULL },
                { "chunk-size", 0, 0, G_OPTION_ARG_STRING, &chunk_size_text,
                  "Copy-out chunk size with --initialize (4K to 1M, default 16K)", "SIZE" },
                { "mount-point", 0, 0, G_OPTION_ARG_FILENAME, &mount_point,
                  "Where the volume is to be mounted", "DIR" },
                { "full-policy", 0, 0, G_OPTION_ARG_STRING, &full_policy,
                  "When the store is full: refuse or autodelete (default)", "POLICY" },
                { "no-start", 0, 0, G_OPTION_ARG_NONE, &no_start, "Do not start the volume", NULL },
                { "uuid", 0, 0, G_OPTION_ARG_STRING, &uuid,
                  "With --initialize, the volume UUID to record: a replica takes its source "
                  "volume's",
                  "UUID" },
                G_OPTION_ENTRY_NULL,
        };
        g_autoptr(GVariantDict) options = g_variant_dict_new(NULL);
        g_autoptr(ZumaBusManager) manager = NULL;
        g_autoptr(GError) error_local = NULL;
        g_autofree char *origin = NULL;
        g_autofree char *store = NULL;
        g_autofree char *path = NULL;
        g_autofree char *what = NULL;
        guint64 chunk_size;

        const char *kind = object_kind(argc, argv);

        if (g_str_equal(kind, "schedule"))
                return zumactl_cmd_define_schedule(ctx, argc, argv, error);
        if (g_str_equal(kind, "target"))
                return zumactl_cmd_define_target(ctx, argc, argv, error);
        if (g_str_equal(kind, "source"))
                return zumactl_cmd_define_source(ctx, argc, argv, error);
        if (!zumactl_parse_options(ctx, entries, FALSE, &argc, &argv, error))
                return FALSE;
        if (!expect_object_word(argc, argv, error))
                return FALSE;
        if (!zumactl_expect_arguments(ctx, argc, argv, 4, 4, error))
                return FALSE;
        if (chunk_size_text != NULL) {
                if (!zumactl_parse_size(chunk_size_text, "chunk size", &chunk_size, error))
                        return FALSE;
                if (chunk_size > G_MAXUINT32)
                        return zumactl_usage_error(error, "invalid chunk size '%s': too large",
                                                   chunk_size_text);
                g_variant_dict_insert(options, "chunk_size", "u", (guint32)chunk_size);
        }
        if (full_policy != NULL) {
                if (!zumactl_parse_full_policy(full_policy, error))
                        return FALSE;
                g_variant_dict_insert(options, "full_policy", "s", full_policy);
        }
        if (mount_point != NULL) {
                g_autofree char *absolute = zumactl_absolute_path(mount_point);

                g_variant_dict_insert(options, "mount_point", "s", absolute);
        }
        if (initialize)
                g_variant_dict_insert(options, "initialize", "b", TRUE);
        if (force)
                g_variant_dict_insert(options, "force", "b", TRUE);
        if (no_start)
                g_variant_dict_insert(options, "start", "b", FALSE);
        if (uuid)
                g_variant_dict_insert(options, "uuid", "s", uuid);
        origin = zumactl_absolute_path(argv[3]);
        store = zumactl_absolute_path(argv[4]);

        what = g_strdup_printf("defining volume '%s'", argv[2]);
        manager = zumactl_bus_get_manager(ctx, &error_local);
        if (manager != NULL)
                g_dbus_proxy_set_default_timeout(G_DBUS_PROXY(manager),
                                                 ZUMACTL_DEVICE_CALL_TIMEOUT_MS);
        if (manager == NULL || !zuma_bus_manager_call_define_volume_sync(
                                       manager, argv[2], origin, store, g_variant_dict_end(options),
                                       &path, NULL, &error_local))
                return zumactl_fail(error, g_steal_pointer(&error_local), what);
        return print_defined_volume(ctx, argv[2], path, what, error);
}

gboolean zumactl_cmd_forget(ZumactlContext *ctx, int argc, char **argv, GError **error)
{
        gboolean force = FALSE;
        const GOptionEntry entries[] = {
                { "force", 0, 0, G_OPTION_ARG_NONE, &force,
                  "Stop the volume first, even if its devices are open", NULL },
                G_OPTION_ENTRY_NULL,
        };
        g_autoptr(ZumaBusManager) manager = NULL;
        g_autoptr(GError) error_local = NULL;

        const char *kind = object_kind(argc, argv);

        if (g_str_equal(kind, "schedule"))
                return zumactl_cmd_forget_schedule(ctx, argc, argv, error);
        if (g_str_equal(kind, "target"))
                return zumactl_cmd_forget_target(ctx, argc, argv, error);
        if (g_str_equal(kind, "source"))
                return zumactl_cmd_forget_source(ctx, argc, argv, error);
        if (!zumactl_parse_options(ctx, entries, FALSE, &argc, &argv, error))
                return FALSE;
        if (!expect_object_word(argc, argv, error))
                return FALSE;
        if (!zumactl_expect_arguments(ctx, argc, argv, 2, 2, error))
                return FALSE;
        manager = zumactl_bus_get_manager(ctx, &error_local);
        if (manager != NULL)
                g_dbus_proxy_set_default_timeout(G_DBUS_PROXY(manager),
                                                 ZUMACTL_DEVICE_CALL_TIMEOUT_MS);
        if (manager == NULL ||
            !zuma_bus_manager_call_forget_volume_sync(
                    manager, argv[2], zumactl_bus_force_options(force), NULL, &error_local)) {
                zumactl_error_propagate(error, g_steal_pointer(&error_local),
                                        "forgetting volume '%s'", argv[2]);
                return FALSE;
        }
        if (ctx->json) {
                g_autoptr(JsonBuilder) builder = json_builder_new();
                g_autofree char *text = NULL;

                json_builder_begin_object(builder);
                zumactl_json_set_string(builder, "name", argv[2]);
                zumactl_json_set_bool(builder, "forgotten", TRUE);
                json_builder_end_object(builder);
                text = zumactl_json_to_text(builder);
                zumactl_print(text);
        }
        return TRUE;
}

gboolean zumactl_cmd_start(ZumactlContext *ctx, int argc, char **argv, GError **error)
{
        gboolean accept_rollback = FALSE;
        const GOptionEntry entries[] = {
                { "accept-rollback", 0, 0, G_OPTION_ARG_NONE, &accept_rollback,
                  "Open the store on an older commit if the newest cannot be read", NULL },
                G_OPTION_ENTRY_NULL,
        };
        g_autoptr(GVariantDict) options = g_variant_dict_new(NULL);
        g_autoptr(ZumaBusVolume) volume = NULL;
        g_autoptr(GError) error_local = NULL;
        g_autofree char *what = NULL;

        if (!zumactl_parse_options(ctx, entries, FALSE, &argc, &argv, error))
                return FALSE;
        if (accept_rollback)
                g_variant_dict_insert(options, "accept_rollback", "b", TRUE);
        if (!zumactl_expect_arguments(ctx, argc, argv, 1, 1, error))
                return FALSE;
        what = g_strdup_printf("starting volume '%s'", argv[1]);
        volume = zumactl_bus_find_volume_for(ctx, argv[1], what, error);
        if (volume == NULL)
                return FALSE;
        g_dbus_proxy_set_default_timeout(G_DBUS_PROXY(volume), ZUMACTL_DEVICE_CALL_TIMEOUT_MS);
        if (!zuma_bus_volume_call_start_sync(volume, g_variant_dict_end(options), NULL,
                                             &error_local))
                return zumactl_fail(error, g_steal_pointer(&error_local), what);
        return print_volume_after(ctx, zumactl_bus_path(volume), what, error);
}

gboolean zumactl_cmd_stop(ZumactlContext *ctx, int argc, char **argv, GError **error)
{
        gboolean force = FALSE;
        const GOptionEntry entries[] = {
                { "force", 0, 0, G_OPTION_ARG_NONE, &force,
                  "Detach devices even if open (a mounted file system sees I/O errors)", NULL },
                G_OPTION_ENTRY_NULL,
        };
        g_autoptr(ZumaBusVolume) volume = NULL;
        g_autoptr(GError) error_local = NULL;
        g_autofree char *what = NULL;

        if (!zumactl_parse_options(ctx, entries, FALSE, &argc, &argv, error))
                return FALSE;
        if (!zumactl_expect_arguments(ctx, argc, argv, 1, 1, error))
                return FALSE;
        what = g_strdup_printf("stopping volume '%s'", argv[1]);
        volume = zumactl_bus_find_volume_for(ctx, argv[1], what, error);
        if (volume == NULL)
                return FALSE;
        g_dbus_proxy_set_default_timeout(G_DBUS_PROXY(volume), ZUMACTL_DEVICE_CALL_TIMEOUT_MS);
        if (!zuma_bus_volume_call_stop_sync(volume, zumactl_bus_force_options(force), NULL,
                                            &error_local))
                return zumactl_fail(error, g_steal_pointer(&error_local), what);
        return print_volume_after(ctx, zumactl_bus_path(volume), what, error);
}

gboolean zumactl_cmd_resize(ZumactlContext *ctx, int argc, char **argv, GError **error)
{
        gboolean origin = FALSE;
        gboolean store = FALSE;
        gboolean no_wait = FALSE;
        const GOptionEntry entries[] = {
                { "origin", 0, 0, G_OPTION_ARG_NONE, &origin,
                  "Take the origin device's current size", NULL },
                { "store", 0, 0, G_OPTION_ARG_NONE, &store, "Take the store device's current size",
                  NULL },
                zumactl_job_no_wait_option(&no_wait),
                G_OPTION_ENTRY_NULL,
        };
        g_autoptr(GVariantDict) options = g_variant_dict_new(NULL);
        g_autoptr(ZumaBusVolume) volume = NULL;
        g_autoptr(GError) error_local = NULL;
        g_autofree char *job_path = NULL;
        g_autofree char *what = NULL;

        if (!zumactl_parse_options(ctx, entries, FALSE, &argc, &argv, error))
                return FALSE;
        if (!zumactl_expect_arguments(ctx, argc, argv, 1, 1, error))
                return FALSE;
        if (!origin && !store)
                return zumactl_usage_error(error,
                                           "nothing to resize: give --origin, --store or both");
        g_variant_dict_insert(options, "origin", "b", origin);
        g_variant_dict_insert(options, "store", "b", store);
        what = g_strdup_printf("resizing volume '%s'", argv[1]);
        volume = zumactl_bus_find_volume_for(ctx, argv[1], what, error);
        if (volume == NULL)
                return FALSE;
        if (!zuma_bus_volume_call_resize_sync(volume, g_variant_dict_end(options), &job_path, NULL,
                                              &error_local))
                return zumactl_fail(error, g_steal_pointer(&error_local), what);
        /* With --builder, a finished resize shows the volume with its new
         * sizes rather than the job. */
        if (no_wait || !ctx->json)
                return zumactl_job_finish(ctx, &zumactl_jobs_of_snapshotd, job_path, no_wait, what,
                                          error);
        if (!zumactl_job_wait(ctx, &zumactl_jobs_of_snapshotd, job_path, NULL, &error_local))
                return zumactl_fail(error, g_steal_pointer(&error_local), what);
        return print_volume_after(ctx, zumactl_bus_path(volume), what, error);
}

gboolean zumactl_cmd_policy(ZumactlContext *ctx, int argc, char **argv, GError **error)
{
        g_autoptr(ZumaBusVolume) volume = NULL;
        g_autoptr(GError) error_local = NULL;
        g_autofree char *what = NULL;

        if (!zumactl_parse_options(ctx, NULL, FALSE, &argc, &argv, error))
                return FALSE;
        if (!zumactl_expect_arguments(ctx, argc, argv, 1, 2, error))
                return FALSE;
        if (argc == 3 && !zumactl_parse_full_policy(argv[2], error))
                return FALSE;

        if (argc == 2) {
                what = g_strdup_printf("reading the full policy of volume '%s'", argv[1]);
                volume = zumactl_bus_find_volume_for(ctx, argv[1], what, error);
                if (volume == NULL)
                        return FALSE;
                if (ctx->json) {
                        zumactl_print_volume_json(volume);
                } else {
                        g_autofree char *line =
                                g_strdup_printf("%s\n", zuma_bus_volume_get_full_policy(volume));

                        zumactl_print(line);
                }
                return TRUE;
        }
        what = g_strdup_printf("setting the full policy of volume '%s'", argv[1]);
        volume = zumactl_bus_find_volume_for(ctx, argv[1], what, error);
        if (volume == NULL)
                return FALSE;
        if (!zuma_bus_volume_call_set_full_policy_sync(volume, argv[2], zumactl_bus_no_options(),
                                                       NULL, &error_local))
                return zumactl_fail(error, g_steal_pointer(&error_local), what);
        return print_volume_after(ctx, zumactl_bus_path(volume), what, error);
}
