/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Read-only commands: status (tables and details) and list (names).
 */
#define G_LOG_DOMAIN "zumactl"

#include "zumactl.h"

#include "zumactl-import.h"
#include "zumactl-bus.h"
#include "zumactl-errors.h"
#include "zumactl-render.h"
#include "zumactl-replication.h"

/* Snapshot.GetUsage of one snapshot.  Usage is only part of the answer:
 * a failure to measure it (a damaged store, a failed volume) is returned
 * as *ret_usage_error, words for the usage fields, and is no error of the
 * command; only a snapshot that no longer exists is (NotFound). */
static gboolean snapshot_usage(ZumactlContext *ctx, ZumaBusSnapshot *snapshot, GVariant **ret_usage,
                               char **ret_usage_error, GError **error)
{
        g_autoptr(GError) error_local = NULL;
        g_autoptr(GVariant) reply = NULL;

        *ret_usage = NULL;
        *ret_usage_error = NULL;
        /* By path: a listed snapshot is no proxy.  Costs time in
         * proportion to the snapshot's chunks. */
        reply = g_dbus_connection_call_sync(
                ctx->connection, ZUMACTL_BUS_NAME, zumactl_bus_path(snapshot),
                ZUMA_INTERFACE_SNAPSHOT, "GetUsage",
                g_variant_new("(@a{sv})", zumactl_bus_no_options()), G_VARIANT_TYPE("(a{sv})"),
                G_DBUS_CALL_FLAGS_NO_AUTO_START, ZUMACTL_DEVICE_CALL_TIMEOUT_MS, NULL,
                &error_local);
        if (reply != NULL) {
                g_variant_get(reply, "(@a{sv})", ret_usage);
                return TRUE;
        }
        if (zumactl_exit_code(error_local) == ZUMACTL_EXIT_NOT_FOUND ||
            zumactl_exit_code(error_local) == ZUMACTL_EXIT_UNREACHABLE) {
                g_propagate_error(error, g_steal_pointer(&error_local));
                return FALSE;
        }
        *ret_usage_error = zumactl_error_words(error_local);
        return TRUE;
}

static void variant_unref0(gpointer variant)
{
        if (variant != NULL)
                g_variant_unref(variant);
}

/* snapshot_usage() of each snapshot, in list order: the usages (NULL
 * where unknown) and the words of each failure (NULL where none). */
static gboolean snapshots_usage(ZumactlContext *ctx, GList *snapshots, const char *vol_name,
                                GPtrArray **ret_usages, GPtrArray **ret_errors, GError **error)
{
        g_autoptr(GPtrArray) usages = g_ptr_array_new_with_free_func(variant_unref0);
        g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);

        for (GList *l = snapshots; l != NULL; l = l->next) {
                g_autoptr(GError) error_local = NULL;
                GVariant *usage = NULL;
                char *usage_error = NULL;

                if (!snapshot_usage(ctx, l->data, &usage, &usage_error, &error_local)) {
                        zumactl_error_propagate(error, g_steal_pointer(&error_local),
                                                "reading the usage of snapshot '%s' of volume "
                                                "'%s'",
                                                zuma_bus_snapshot_get_name(l->data), vol_name);
                        return FALSE;
                }
                g_ptr_array_add(usages, usage);
                g_ptr_array_add(errors, usage_error);
        }
        *ret_usages = g_steal_pointer(&usages);
        *ret_errors = g_steal_pointer(&errors);
        return TRUE;
}

/* "usage": {...}, or "usage": null and "usage_error": "why". */
static void usage_json(JsonBuilder *builder, GVariant *usage, const char *usage_error)
{
        json_builder_set_member_name(builder, "usage");
        if (usage == NULL) {
                json_builder_add_null_value(builder);
                zumactl_json_set_string(builder, "usage_error", usage_error ? usage_error : "");
                return;
        }
        json_builder_begin_object(builder);
        zumactl_render_usage_json(builder, usage);
        json_builder_end_object(builder);
}

static char *volumes_table(GList *volumes)
{
        g_autoptr(ZumactlTable) table =
                zumactl_table_new("NAME", "STATE", "SIZE", "STORE", "USED", "SNAPSHOTS", "DEVICE",
                                  "ORIGIN", "STORE DEVICE", NULL);

        zumactl_table_set_numeric(table, 2);
        zumactl_table_set_numeric(table, 3);
        zumactl_table_set_numeric(table, 4);
        zumactl_table_set_numeric(table, 5);
        for (GList *l = volumes; l != NULL; l = l->next) {
                ZumaBusVolume *volume = l->data;
                /* Store figures are 0 while a volume is stopped: show "-". */
                guint64 origin_size = zuma_bus_volume_get_origin_size(volume);
                guint64 store_size = zuma_bus_volume_get_store_size(volume);
                gboolean running = zumactl_bus_volume_is_running(volume);
                g_autofree char *size = origin_size > 0 ? zumactl_format_size(origin_size) : NULL;
                g_autofree char *store = store_size > 0 ? zumactl_format_size(store_size) : NULL;
                g_autofree char *used =
                        store_size > 0
                                ? g_strdup_printf("%.1f%%", zumactl_volume_used_percent(volume))
                                : NULL;
                g_autofree char *count =
                        running ? g_strdup_printf("%u", zuma_bus_volume_get_snapshot_count(volume))
                                : NULL;
                const char *cells[] = {
                        zuma_bus_volume_get_name(volume),
                        zuma_bus_volume_get_state(volume),
                        size,
                        store,
                        used,
                        count,
                        zuma_bus_volume_get_device(volume),
                        zuma_bus_volume_get_origin_device(volume),
                        zuma_bus_volume_get_store_device(volume),
                };

                zumactl_table_add_row(table, cells);
        }
        return zumactl_table_render(table);
}

static char *snapshots_table(GList *snapshots, GPtrArray *usages)
{
        g_autoptr(ZumactlTable) table = NULL;
        guint i = 0;

        if (usages != NULL)
                table = zumactl_table_new("ID", "NAME", "CREATED", "PRIORITY", "FLAGS", "DEVICE",
                                          "EXCLUSIVE", NULL);
        else
                table = zumactl_table_new("ID", "NAME", "CREATED", "PRIORITY", "FLAGS", "DEVICE",
                                          NULL);
        zumactl_table_set_numeric(table, 0);
        zumactl_table_set_numeric(table, 3);
        if (usages != NULL)
                zumactl_table_set_numeric(table, 6);
        for (GList *l = snapshots; l != NULL; l = l->next, i++) {
                ZumaBusSnapshot *snapshot = l->data;
                g_autofree char *id = g_strdup_printf("%u", zuma_bus_snapshot_get_id(snapshot));
                g_autofree char *created =
                        zumactl_format_time_local(zuma_bus_snapshot_get_creation_time(snapshot));
                g_autofree char *priority =
                        g_strdup_printf("%d", zuma_bus_snapshot_get_priority(snapshot));
                g_autofree char *flags = zumactl_snapshot_flags(snapshot);
                GVariant *usage = usages != NULL ? g_ptr_array_index(usages, i) : NULL;
                /* "?": not measured (status VOL SNAP says why). */
                g_autofree char *exclusive =
                        usages == NULL ? NULL
                        : usage != NULL
                                ? zumactl_format_size(zumactl_usage_get(usage, "exclusive_bytes"))
                                : g_strdup("?");
                const char *cells[] = {
                        id,    zuma_bus_snapshot_get_name(snapshot),   created,   priority,
                        flags, zuma_bus_snapshot_get_device(snapshot), exclusive,
                };

                zumactl_table_add_row(table, cells);
        }
        return zumactl_table_render(table);
}

static gboolean status_server(ZumactlContext *ctx, GError **error)
{
        g_autoptr(ZumaBusManager) manager = NULL;
        g_autoptr(GError) error_local = NULL;
        g_autoptr(GVariant) unknown_stores = NULL;
        g_autoptr(ZumactlReplication) replication = NULL;
        GList *volumes = NULL;

        manager = zumactl_bus_get_manager(ctx, &error_local);
        if (manager == NULL || !zumactl_bus_list_volumes(ctx, &volumes, &error_local)) {
                zumactl_error_propagate(error, g_steal_pointer(&error_local),
                                        "reading the status of zuma-snapshotd");
                return FALSE;
        }
        unknown_stores = zumactl_unknown_stores(ctx);
        replication = zumactl_replication_load(ctx);
        if (ctx->json) {
                g_autoptr(JsonBuilder) builder = json_builder_new();
                g_autofree char *text = NULL;

                json_builder_begin_object(builder);
                json_builder_set_member_name(builder, "server");
                json_builder_begin_object(builder);
                zumactl_render_server_json(builder, manager);
                json_builder_end_object(builder);
                json_builder_set_member_name(builder, "volumes");
                json_builder_begin_array(builder);
                for (GList *l = volumes; l != NULL; l = l->next) {
                        json_builder_begin_object(builder);
                        zumactl_render_volume_json(builder, l->data);
                        zumactl_replication_volume_json(replication,
                                                        zuma_bus_volume_get_uuid(l->data), builder);
                        json_builder_end_object(builder);
                }
                json_builder_end_array(builder);
                zumactl_replication_host_json(replication, builder);
                if (unknown_stores)
                        zumactl_unknown_stores_json(builder, unknown_stores);
                json_builder_end_object(builder);
                text = zumactl_json_to_text(builder);
                zumactl_print(text);
        } else {
                g_autofree char *text = volumes ? volumes_table(volumes) : NULL;
                g_autofree char *stores =
                        unknown_stores ? zumactl_unknown_stores_text(unknown_stores) : NULL;
                g_autofree char *replicas = zumactl_replication_tables(replication);

                zumactl_print(text ? text : "No volumes defined.\n");
                zumactl_print(replicas);
                if (stores && stores[0])
                        zumactl_print(stores);
        }
        g_list_free_full(volumes, g_object_unref);
        return TRUE;
}

static gboolean status_volume(ZumactlContext *ctx, ZumaBusVolume *volume, gboolean usage,
                              GError **error)
{
        const char *vol_name = zuma_bus_volume_get_name(volume);
        GList *snapshots = NULL;
        g_autoptr(GPtrArray) usages = NULL;
        g_autoptr(GPtrArray) usage_errors = NULL;
        gboolean known;
        const char *uuid = zuma_bus_volume_get_uuid(volume);
        g_autoptr(ZumactlReplication) replication = NULL;
        g_autoptr(GError) error_local = NULL;
        gboolean ok = TRUE;

        if (!zumactl_bus_list_snapshots(ctx, volume, &snapshots, &error_local)) {
                zumactl_error_propagate(error, g_steal_pointer(&error_local),
                                        "reading the snapshots of volume '%s'", vol_name);
                return FALSE;
        }
        known = snapshots != NULL || zumactl_bus_volume_is_running(volume);
        if (usage)
                ok = snapshots_usage(ctx, snapshots, vol_name, &usages, &usage_errors, error);
        if (ok)
                replication = zumactl_replication_load(ctx);
        if (ok && ctx->json) {
                g_autoptr(JsonBuilder) builder = json_builder_new();
                g_autofree char *text = NULL;
                guint i = 0;

                json_builder_begin_object(builder);
                zumactl_render_volume_json(builder, volume);
                zumactl_schedule_status(ctx, uuid, NULL, builder);
                zumactl_replication_volume_json(replication, uuid, builder);
                json_builder_set_member_name(builder, "snapshots");
                /* A stopped or failed volume still shows the snapshots
                 * the server lists for it (none if its store did not
                 * open). */
                if (known)
                        json_builder_begin_array(builder);
                else
                        /* Not known, rather than none. */
                        json_builder_add_null_value(builder);
                for (GList *l = snapshots; l != NULL; l = l->next, i++) {
                        json_builder_begin_object(builder);
                        zumactl_render_snapshot_json(builder, l->data, vol_name);
                        if (usages != NULL)
                                usage_json(builder, g_ptr_array_index(usages, i),
                                           g_ptr_array_index(usage_errors, i));
                        json_builder_end_object(builder);
                }
                if (known)
                        json_builder_end_array(builder);
                json_builder_end_object(builder);
                text = zumactl_json_to_text(builder);
                zumactl_print(text);
        } else if (ok) {
                g_autoptr(GString) out = g_string_new(NULL);

                zumactl_render_volume_human(out, volume);
                zumactl_schedule_status(ctx, uuid, out, NULL);
                zumactl_replication_volume_human(replication, uuid, out);
                if (snapshots != NULL) {
                        g_autofree char *table = snapshots_table(snapshots, usages);

                        g_string_append_printf(out, "\n%s", table);
                }
                zumactl_print(out->str);
        }
        g_list_free_full(snapshots, g_object_unref);
        return ok;
}

static gboolean status_snapshot(ZumactlContext *ctx, ZumaBusVolume *volume,
                                ZumaBusSnapshot *snapshot, GError **error)
{
        const char *vol_name = zuma_bus_volume_get_name(volume);
        g_autoptr(GVariant) usage = NULL;
        g_autofree char *usage_error = NULL;
        g_autoptr(GError) error_local = NULL;

        if (!snapshot_usage(ctx, snapshot, &usage, &usage_error, &error_local)) {
                zumactl_error_propagate(error, g_steal_pointer(&error_local),
                                        "reading the usage of snapshot '%s' of volume '%s'",
                                        zuma_bus_snapshot_get_name(snapshot), vol_name);
                return FALSE;
        }
        if (ctx->json) {
                g_autoptr(JsonBuilder) builder = json_builder_new();
                g_autofree char *text = NULL;

                json_builder_begin_object(builder);
                zumactl_render_snapshot_json(builder, snapshot, vol_name);
                usage_json(builder, usage, usage_error);
                json_builder_end_object(builder);
                text = zumactl_json_to_text(builder);
                zumactl_print(text);
        } else {
                g_autoptr(GString) out = g_string_new(NULL);

                zumactl_render_snapshot_human(out, snapshot, vol_name, usage);
                if (usage == NULL)
                        g_string_append_printf(out, "%-16s unknown: %s\n", "Usage:", usage_error);
                zumactl_print(out->str);
        }
        return TRUE;
}

gboolean zumactl_cmd_status(ZumactlContext *ctx, int argc, char **argv, GError **error)
{
        gboolean usage = FALSE;
        const GOptionEntry entries[] = {
                { "usage", 0, 0, G_OPTION_ARG_NONE, &usage,
                  "Also show the store space each snapshot alone holds (slower)", NULL },
                G_OPTION_ENTRY_NULL,
        };
        g_autoptr(ZumaBusVolume) volume = NULL;
        g_autoptr(ZumaBusSnapshot) snapshot = NULL;
        g_autoptr(GError) error_local = NULL;

        if (!zumactl_parse_options(ctx, entries, FALSE, &argc, &argv, error))
                return FALSE;
        if (!zumactl_expect_arguments(ctx, argc, argv, 0, 2, error))
                return FALSE;
        if (argc == 1 && usage)
                return zumactl_usage_error(error, "--usage shows what each snapshot holds: "
                                                  "name the volume (zumactl status VOL --usage)");
        if (argc == 1)
                return status_server(ctx, error);

        volume = zumactl_bus_find_volume(ctx, argv[1], &error_local);
        if (volume != NULL && argc == 3)
                snapshot = zumactl_bus_find_snapshot(ctx, volume, argv[2], &error_local);
        if (volume == NULL || (argc == 3 && snapshot == NULL)) {
                zumactl_error_propagate(error, g_steal_pointer(&error_local),
                                        "reading the status of %s '%s'",
                                        argc == 3 ? "snapshot" : "volume", argv[argc - 1]);
                return FALSE;
        }
        if (snapshot != NULL)
                return status_snapshot(ctx, volume, snapshot, error);
        return status_volume(ctx, volume, usage, error);
}

static void print_names(ZumactlContext *ctx, GPtrArray *names)
{
        if (ctx->json) {
                g_autoptr(JsonBuilder) builder = json_builder_new();
                g_autofree char *text = NULL;

                json_builder_begin_array(builder);
                for (guint i = 0; i < names->len; i++)
                        zumactl_json_add_string(builder, g_ptr_array_index(names, i));
                json_builder_end_array(builder);
                text = zumactl_json_to_text(builder);
                zumactl_print(text);
                return;
        }
        for (guint i = 0; i < names->len; i++) {
                g_autofree char *line =
                        g_strdup_printf("%s\n", (char *)g_ptr_array_index(names, i));

                zumactl_print(line);
        }
}

gboolean zumactl_cmd_list(ZumactlContext *ctx, int argc, char **argv, GError **error)
{
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GError) error_local = NULL;
        GList *objects = NULL;

        if (!zumactl_parse_options(ctx, NULL, FALSE, &argc, &argv, error))
                return FALSE;
        if (!zumactl_expect_arguments(ctx, argc, argv, 0, 1, error))
                return FALSE;
        if (argc == 1) {
                if (!zumactl_bus_list_volumes(ctx, &objects, &error_local)) {
                        zumactl_error_propagate(error, g_steal_pointer(&error_local),
                                                "listing volumes");
                        return FALSE;
                }
                for (GList *l = objects; l != NULL; l = l->next)
                        g_ptr_array_add(names, g_strdup(zuma_bus_volume_get_name(l->data)));
        } else {
                g_autoptr(ZumaBusVolume) volume =
                        zumactl_bus_find_volume(ctx, argv[1], &error_local);

                if (volume == NULL || !zumactl_bus_require_running(volume, &error_local) ||
                    !zumactl_bus_list_snapshots(ctx, volume, &objects, &error_local)) {
                        zumactl_error_propagate(error, g_steal_pointer(&error_local),
                                                "listing the snapshots of volume '%s'", argv[1]);
                        return FALSE;
                }
                for (GList *l = objects; l != NULL; l = l->next)
                        g_ptr_array_add(names, g_strdup(zuma_bus_snapshot_get_name(l->data)));
        }
        g_list_free_full(objects, g_object_unref);
        print_names(ctx, names);
        return TRUE;
}
