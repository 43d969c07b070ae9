/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Commands on snapshots: snapshot, delete, rename, pin, unpin, priority,
 * writable, attach, detach, revert.
 */
#define G_LOG_DOMAIN "zumactl"

#include "zumactl.h"

#include <stdio.h>

#include "zumactl-bus.h"
#include "zumactl-errors.h"
#include "zumactl-job.h"
#include "zumactl-parse.h"
#include "zumactl-render.h"

/* One volume method that starts a job; sets *ret_job_path. */
typedef gboolean (*VolumeJobCall)(ZumaBusVolume *volume, gconstpointer data, GVariant *options,
                                  char **ret_job_path, GError **error);

/* Finds volume vol_name, starts the job with call (--force as an option)
 * and waits for it unless --no-wait. */
static gboolean volume_job_run(ZumactlContext *ctx, const char *vol_name, const char *what,
                               VolumeJobCall call, gconstpointer data, gboolean force,
                               gboolean no_wait, GError **error)
{
        g_autoptr(ZumaBusVolume) volume = NULL;
        g_autoptr(GError) error_local = NULL;
        g_autofree char *job_path = NULL;

        volume = zumactl_bus_find_volume_for(ctx, vol_name, what, error);
        if (volume == NULL)
                return FALSE;
        if (!call(volume, data, zumactl_bus_force_options(force), &job_path, &error_local))
                return zumactl_fail(error, g_steal_pointer(&error_local), what);
        return zumactl_job_finish(ctx, &zumactl_jobs_of_snapshotd, job_path, no_wait, what, error);
}

/* One call on a snapshot proxy; sets *ret_output to text to print, if any. */
typedef gboolean (*SnapshotCall)(ZumaBusSnapshot *snapshot, gconstpointer data, char **ret_output,
                                 GError **error);

/* Finds snapshot snap_name of volume vol_name, runs call on it and, with
 * --json, prints the snapshot as it is afterwards. */
static gboolean snapshot_run(ZumactlContext *ctx, const char *vol_name, const char *snap_name,
                             const char *what, SnapshotCall call, gconstpointer data,
                             GError **error)
{
        g_autoptr(ZumaBusVolume) volume = NULL;
        g_autoptr(ZumaBusSnapshot) snapshot = NULL;
        g_autoptr(ZumaBusSnapshot) after = NULL;
        g_autoptr(GError) error_local = NULL;
        g_autofree char *output = NULL;

        volume = zumactl_bus_find_volume(ctx, vol_name, &error_local);
        if (volume != NULL)
                snapshot = zumactl_bus_find_snapshot(ctx, volume, snap_name, &error_local);
        if (snapshot == NULL || !call(snapshot, data, &output, &error_local))
                return zumactl_fail(error, g_steal_pointer(&error_local), what);
        if (!ctx->json) {
                if (output != NULL)
                        zumactl_print(output);
                return TRUE;
        }
        /* The call may have renamed it: read it again by path. */
        after = zumactl_bus_reload_snapshot(ctx, zumactl_bus_path(snapshot), &error_local);
        if (after == NULL)
                return zumactl_fail(error, g_steal_pointer(&error_local), what);
        zumactl_print_snapshot_json(after, vol_name);
        return TRUE;
}

/* The server acknowledged the snapshot at path, and then its properties
 * could not be read (src says why).  Exit code 0 must mean "the snapshot
 * exists", and stdout carries its name: so when the server merely left the
 * bus and the name is known (CreateSnapshot answers with it; NULL only if
 * a server answered with none), that is success, with a warning;
 * otherwise the error, which says the snapshot was created at path
 * (zumactl_bus_reload_created_snapshot). */
static gboolean report_created(ZumactlContext *ctx, const char *what, const char *vol_name,
                               const char *name, const char *path, GError *src, GError **error)
{
        if (name == NULL || zumactl_exit_code(src) != ZUMACTL_EXIT_UNREACHABLE)
                return zumactl_fail(error, src, what);
        fprintf(stderr,
                "zumactl: warning: %s: zuma-snapshotd left the bus right after creating "
                "snapshot '%s' at %s; its other properties are unknown\n",
                what, name, path);
        g_error_free(src);
        if (ctx->json) {
                zumactl_print_created_json(name, vol_name, path);
        } else {
                g_autofree char *line = g_strdup_printf("%s\n", name);

                zumactl_print(line);
        }
        return TRUE;
}

gboolean zumactl_cmd_snapshot(ZumactlContext *ctx, int argc, char **argv, GError **error)
{
        g_autofree char *priority_text = NULL;
        gboolean pin = FALSE;
        gboolean writable = FALSE;
        gboolean no_attach = FALSE;
        const GOptionEntry entries[] = {
                { "priority", 0, 0, G_OPTION_ARG_STRING, &priority_text,
                  "Auto-delete priority: lower goes first (default 0)", "N" },
                { "pin", 0, 0, G_OPTION_ARG_NONE, &pin, "Never auto-delete the snapshot", NULL },
                { "writable", 0, 0, G_OPTION_ARG_NONE, &writable,
                  "Let the snapshot's device accept writes", NULL },
                { "no-attach", 0, 0, G_OPTION_ARG_NONE, &no_attach,
                  "Attach no block device to the snapshot", NULL },
                G_OPTION_ENTRY_NULL,
        };
        g_autoptr(GVariantDict) options = g_variant_dict_new(NULL);
        g_autoptr(ZumaBusVolume) volume = NULL;
        g_autoptr(ZumaBusSnapshot) snapshot = NULL;
        g_autoptr(GError) error_local = NULL;
        g_autofree char *path = NULL;
        g_autofree char *created_name = NULL;
        g_autofree char *what = NULL;
        gint64 priority;

        if (!zumactl_parse_options(ctx, entries, FALSE, &argc, &argv, error))
                return FALSE;
        if (!zumactl_expect_arguments(ctx, argc, argv, 1, 2, error))
                return FALSE;
        if (priority_text != NULL) {
                if (!zumactl_parse_int(priority_text, "priority", G_MININT32, G_MAXINT32, &priority,
                                       error))
                        return FALSE;
                g_variant_dict_insert(options, "priority", "i", (gint32)priority);
        }
        if (pin)
                g_variant_dict_insert(options, "pinned", "b", TRUE);
        if (writable)
                g_variant_dict_insert(options, "writable", "b", TRUE);
        if (no_attach)
                g_variant_dict_insert(options, "attach", "b", FALSE);

        what = g_strdup_printf("taking a snapshot of volume '%s'", argv[1]);
        volume = zumactl_bus_find_volume_for(ctx, argv[1], what, error);
        if (volume == NULL)
                return FALSE;
        if (!zuma_bus_volume_call_create_snapshot_sync(volume, argc > 2 ? argv[2] : "",
                                                       g_variant_dict_end(options), &path,
                                                       &created_name, NULL, &error_local))
                return zumactl_fail(error, g_steal_pointer(&error_local), what);
        /* From here on the snapshot exists: the server said so. */
        snapshot = zumactl_bus_reload_created_snapshot(ctx, path, &error_local);
        if (snapshot == NULL)
                return report_created(ctx, what, argv[1],
                                      created_name[0] != '\0' ? created_name
                                      : argc > 2              ? argv[2]
                                                              : NULL,
                                      path, g_steal_pointer(&error_local), error);
        if (ctx->json) {
                zumactl_print_snapshot_json(snapshot, argv[1]);
        } else {
                g_autofree char *line =
                        g_strdup_printf("%s\n", zuma_bus_snapshot_get_name(snapshot));

                zumactl_print(line);
        }
        return TRUE;
}

static gboolean call_delete_snapshots(ZumaBusVolume *volume, gconstpointer data, GVariant *options,
                                      char **ret_job_path, GError **error)
{
        return zuma_bus_volume_call_delete_snapshots_sync(volume, data, options, ret_job_path, NULL,
                                                          error);
}

gboolean zumactl_cmd_delete(ZumactlContext *ctx, int argc, char **argv, GError **error)
{
        gboolean force = FALSE;
        gboolean no_wait = FALSE;
        const GOptionEntry entries[] = {
                { "force", 0, 0, G_OPTION_ARG_NONE, &force,
                  "Detach the devices of snapshots even if they are open", NULL },
                zumactl_job_no_wait_option(&no_wait),
                G_OPTION_ENTRY_NULL,
        };
        g_autofree char *what = NULL;

        if (!zumactl_parse_options(ctx, entries, FALSE, &argc, &argv, error))
                return FALSE;
        if (!zumactl_expect_arguments(ctx, argc, argv, 2, -1, error))
                return FALSE;
        if (argc == 3)
                what = g_strdup_printf("deleting snapshot '%s' of volume '%s'", argv[2], argv[1]);
        else
                what = g_strdup_printf("deleting %d snapshots of volume '%s'", argc - 2, argv[1]);
        return volume_job_run(ctx, argv[1], what, call_delete_snapshots, argv + 2, force, no_wait,
                              error);
}

static gboolean call_rename(ZumaBusSnapshot *snapshot, gconstpointer data, char **ret_output,
                            GError **error)
{
        return zuma_bus_snapshot_call_rename_sync(snapshot, data, zumactl_bus_no_options(), NULL,
                                                  error);
}

gboolean zumactl_cmd_rename(ZumactlContext *ctx, int argc, char **argv, GError **error)
{
        g_autofree char *what = NULL;

        if (!zumactl_parse_options(ctx, NULL, FALSE, &argc, &argv, error))
                return FALSE;
        if (!zumactl_expect_arguments(ctx, argc, argv, 3, 3, error))
                return FALSE;
        what = g_strdup_printf("renaming snapshot '%s' of volume '%s' to '%s'", argv[2], argv[1],
                               argv[3]);
        return snapshot_run(ctx, argv[1], argv[2], what, call_rename, argv[3], error);
}

static gboolean call_set_pinned(ZumaBusSnapshot *snapshot, gconstpointer data, char **ret_output,
                                GError **error)
{
        return zuma_bus_snapshot_call_set_pinned_sync(snapshot, *(const gboolean *)data,
                                                      zumactl_bus_no_options(), NULL, error);
}

static gboolean pin_run(ZumactlContext *ctx, int argc, char **argv, gboolean pinned, GError **error)
{
        g_autofree char *what = NULL;

        if (!zumactl_parse_options(ctx, NULL, FALSE, &argc, &argv, error))
                return FALSE;
        if (!zumactl_expect_arguments(ctx, argc, argv, 2, 2, error))
                return FALSE;
        what = g_strdup_printf("%s snapshot '%s' of volume '%s'", pinned ? "pinning" : "unpinning",
                               argv[2], argv[1]);
        return snapshot_run(ctx, argv[1], argv[2], what, call_set_pinned, &pinned, error);
}

gboolean zumactl_cmd_pin(ZumactlContext *ctx, int argc, char **argv, GError **error)
{
        return pin_run(ctx, argc, argv, TRUE, error);
}

gboolean zumactl_cmd_unpin(ZumactlContext *ctx, int argc, char **argv, GError **error)
{
        return pin_run(ctx, argc, argv, FALSE, error);
}

static gboolean call_set_priority(ZumaBusSnapshot *snapshot, gconstpointer data, char **ret_output,
                                  GError **error)
{
        return zuma_bus_snapshot_call_set_priority_sync(snapshot, *(const gint32 *)data,
                                                        zumactl_bus_no_options(), NULL, error);
}

gboolean zumactl_cmd_priority(ZumactlContext *ctx, int argc, char **argv, GError **error)
{
        g_autofree char *what = NULL;
        gint64 value;
        gint32 priority;

        /* Negative priorities look like options: let them through. */
        if (!zumactl_parse_options(ctx, NULL, TRUE, &argc, &argv, error))
                return FALSE;
        if (!zumactl_expect_arguments(ctx, argc, argv, 3, 3, error))
                return FALSE;
        for (int i = 1; i < 3; i++) {
                if (argv[i][0] == '-')
                        return zumactl_usage_error(error, "unknown option %s", argv[i]);
        }
        if (!zumactl_parse_int(argv[3], "priority", G_MININT32, G_MAXINT32, &value, error))
                return FALSE;
        priority = (gint32)value;
        what = g_strdup_printf("setting the priority of snapshot '%s' of volume '%s'", argv[2],
                               argv[1]);
        return snapshot_run(ctx, argv[1], argv[2], what, call_set_priority, &priority, error);
}

static gboolean call_set_writable(ZumaBusSnapshot *snapshot, gconstpointer data, char **ret_output,
                                  GError **error)
{
        return zuma_bus_snapshot_call_set_writable_sync(snapshot, *(const gboolean *)data,
                                                        zumactl_bus_no_options(), NULL, error);
}

gboolean zumactl_cmd_writable(ZumactlContext *ctx, int argc, char **argv, GError **error)
{
        g_autofree char *what = NULL;
        gboolean writable;

        if (!zumactl_parse_options(ctx, NULL, FALSE, &argc, &argv, error))
                return FALSE;
        if (!zumactl_expect_arguments(ctx, argc, argv, 3, 3, error))
                return FALSE;
        if (!zumactl_parse_switch(argv[3], "writable setting", &writable, error))
                return FALSE;
        what = g_strdup_printf("making snapshot '%s' of volume '%s' %s", argv[2], argv[1],
                               writable ? "writable" : "read-only");
        return snapshot_run(ctx, argv[1], argv[2], what, call_set_writable, &writable, error);
}

static gboolean call_attach(ZumaBusSnapshot *snapshot, gconstpointer data, char **ret_output,
                            GError **error)
{
        g_autofree char *device = NULL;

        if (!zuma_bus_snapshot_call_attach_sync(snapshot, zumactl_bus_no_options(), &device, NULL,
                                                error))
                return FALSE;
        *ret_output = g_strdup_printf("%s\n", device);
        return TRUE;
}

gboolean zumactl_cmd_attach(ZumactlContext *ctx, int argc, char **argv, GError **error)
{
        g_autofree char *what = NULL;

        if (!zumactl_parse_options(ctx, NULL, FALSE, &argc, &argv, error))
                return FALSE;
        if (!zumactl_expect_arguments(ctx, argc, argv, 2, 2, error))
                return FALSE;
        what = g_strdup_printf("attaching snapshot '%s' of volume '%s'", argv[2], argv[1]);
        return snapshot_run(ctx, argv[1], argv[2], what, call_attach, NULL, error);
}

static gboolean call_detach(ZumaBusSnapshot *snapshot, gconstpointer data, char **ret_output,
                            GError **error)
{
        return zuma_bus_snapshot_call_detach_sync(
                snapshot, zumactl_bus_force_options(*(const gboolean *)data), NULL, error);
}

gboolean zumactl_cmd_detach(ZumactlContext *ctx, int argc, char **argv, GError **error)
{
        gboolean force = FALSE;
        const GOptionEntry entries[] = {
                { "force", 0, 0, G_OPTION_ARG_NONE, &force,
                  "Detach even if open (a mounted file system sees I/O errors)", NULL },
                G_OPTION_ENTRY_NULL,
        };
        g_autofree char *what = NULL;

        if (!zumactl_parse_options(ctx, entries, FALSE, &argc, &argv, error))
                return FALSE;
        if (!zumactl_expect_arguments(ctx, argc, argv, 2, 2, error))
                return FALSE;
        what = g_strdup_printf("detaching snapshot '%s' of volume '%s'", argv[2], argv[1]);
        return snapshot_run(ctx, argv[1], argv[2], what, call_detach, &force, error);
}

static gboolean call_revert(ZumaBusVolume *volume, gconstpointer data, GVariant *options,
                            char **ret_job_path, GError **error)
{
        return zuma_bus_volume_call_revert_sync(volume, data, options, ret_job_path, NULL, error);
}

/* zumactl revert --abandon VOL: Volume.AbandonRevert. */
static gboolean abandon_revert(ZumactlContext *ctx, const char *vol_name, GError **error)
{
        g_autofree char *what = g_strdup_printf("abandoning the revert of volume '%s'", vol_name);
        g_autoptr(ZumaBusVolume) volume = zumactl_bus_find_volume_for(ctx, vol_name, what, error);
        g_autoptr(GError) error_local = NULL;

        if (volume == NULL)
                return FALSE;
        g_dbus_proxy_set_default_timeout(G_DBUS_PROXY(volume), ZUMACTL_DEVICE_CALL_TIMEOUT_MS);
        if (!zuma_bus_volume_call_abandon_revert_sync(volume, zumactl_bus_no_options(), NULL,
                                                      &error_local))
                return zumactl_fail(error, g_steal_pointer(&error_local), what);
        if (ctx->json) {
                g_autoptr(ZumaBusVolume) after =
                        zumactl_bus_reload_volume(ctx, zumactl_bus_path(volume), &error_local);

                if (after == NULL)
                        return zumactl_fail(error, g_steal_pointer(&error_local), what);
                zumactl_print_volume_json(after);
        }
        return TRUE;
}

gboolean zumactl_cmd_revert(ZumactlContext *ctx, int argc, char **argv, GError **error)
{
        gboolean force = FALSE;
        gboolean no_wait = FALSE;
        gboolean abandon = FALSE;
        const GOptionEntry entries[] = {
                { "force", 0, 0, G_OPTION_ARG_NONE, &force,
                  "Detach the origin device even if it is open", NULL },
                { "abandon", 0, 0, G_OPTION_ARG_NONE, &abandon,
                  "Give up the unfinished revert of VOL (the origin stays partly reverted)", NULL },
                zumactl_job_no_wait_option(&no_wait),
                G_OPTION_ENTRY_NULL,
        };
        g_autofree char *what = NULL;

        if (!zumactl_parse_options(ctx, entries, FALSE, &argc, &argv, error))
                return FALSE;
        if (abandon) {
                if (force || no_wait)
                        return zumactl_usage_error(error, "--abandon takes no other option");
                if (!zumactl_expect_arguments(ctx, argc, argv, 1, 1, error))
                        return FALSE;
                return abandon_revert(ctx, argv[1], error);
        }
        if (!zumactl_expect_arguments(ctx, argc, argv, 2, 2, error))
                return FALSE;
        what = g_strdup_printf("reverting volume '%s' to snapshot '%s'", argv[1], argv[2]);
        return volume_job_run(ctx, argv[1], what, call_revert, argv[2], force, no_wait, error);
}
