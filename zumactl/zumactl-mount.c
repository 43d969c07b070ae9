/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Commands on mounts, answered by zuma-mounterd (org.zumastor.Mounter1):
 * mount (configure where a volume and its snapshots are mounted, and its
 * snapshot views: @GMT names for Samba, snapshot names), unmount
 * (forget that, unmounting everything of the volume) and mounts (what is
 * mounted where).  zumactl checks nothing the daemon checks: mount
 * points, templates and options are its to refuse, with the bus API's
 * messages and error codes.
 */
#define G_LOG_DOMAIN "zumactl"

#include "zumactl.h"

#include "zuma-mounter-generated.h"
#include "zuma-names.h"
#include "zumactl-bus.h"
#include "zumactl-errors.h"
#include "zumactl-output.h"

/* SetMount mounts before it answers; ForgetMount may wait for busy ones. */
#define MOUNTER_CALL_TIMEOUT_MS (5 * 60 * 1000)

static ZumaMountManager *mounter_manager(ZumactlContext *ctx, GError **error)
{
        g_autoptr(ZumaMountManager) manager = NULL;
        g_autofree char *owner = NULL;

        if (!zumactl_bus_open(ctx, error))
                return NULL;
        manager = zuma_mount_manager_proxy_new_sync(
                ctx->connection, G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS, ZUMA_MOUNTERD_BUS_NAME,
                ZUMA_MOUNTERD_MANAGER_PATH, NULL, error);
        if (!manager)
                return NULL;
        owner = g_dbus_proxy_get_name_owner(G_DBUS_PROXY(manager));
        if (!owner) {
                g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN,
                            "no zuma-mounterd (%s) on the %s", ZUMA_MOUNTERD_BUS_NAME,
                            ctx->bus_address ? "bus" : "system bus");
                return NULL;
        }
        g_dbus_proxy_set_default_timeout(G_DBUS_PROXY(manager), MOUNTER_CALL_TIMEOUT_MS);
        return g_steal_pointer(&manager);
}

static const char *lookup(GVariant *entry, const char *key)
{
        const char *value = "";

        g_variant_lookup(entry, key, "&s", &value);
        return value;
}

static gboolean list(ZumactlContext *ctx, const char *volume, GVariant **ret_mounts,
                     GVariant **ret_configs, GError **error)
{
        g_autoptr(ZumaMountManager) manager = NULL;
        g_autoptr(GError) local = NULL;

        manager = mounter_manager(ctx, &local);
        if (!manager ||
            !zuma_mount_manager_call_list_mounts_sync(manager, volume, zumactl_bus_no_options(),
                                                      ret_mounts, ret_configs, NULL, &local))
                return zumactl_fail(error, g_steal_pointer(&local), "listing the mounts");
        return TRUE;
}

static void print_mounts_text(GVariant *mounts, GVariant *configs)
{
        g_autoptr(ZumactlTable) table =
                zumactl_table_new("VOLUME", "SNAPSHOT", "DEVICE", "MOUNT POINT", "OPTIONS", NULL);
        g_autofree char *text = NULL;
        g_autoptr(GString) out = g_string_new(NULL);
        GVariantIter iter;
        GVariant *entry;

        g_variant_iter_init(&iter, mounts);
        while ((entry = g_variant_iter_next_value(&iter))) {
                const char *snapshot = lookup(entry, "snapshot");
                const char *cells[] = {
                        lookup(entry, "volume"),  snapshot[0] ? snapshot : "(origin)",
                        lookup(entry, "device"),  lookup(entry, "path"),
                        lookup(entry, "options"),
                };

                zumactl_table_add_row(table, cells);
                g_variant_unref(entry);
        }
        if (g_variant_n_children(mounts) > 0) {
                text = zumactl_table_render(table);
                g_string_append(out, text);
        } else {
                g_string_append(out, "nothing mounted\n");
        }
        g_variant_iter_init(&iter, configs);
        while ((entry = g_variant_iter_next_value(&iter))) {
                const char *at = lookup(entry, "at");
                const char *template = lookup(entry, "template");
                const char *options = lookup(entry, "options");
                const char *gmt = lookup(entry, "gmt_path");

                g_string_append_printf(out, "%s: origin at %s, snapshots %s at %s%s%s\n",
                                       lookup(entry, "volume"), at[0] ? at : "(none)",
                                       lookup(entry, "snapshots"),
                                       template[0] ? template : "(default template)",
                                       options[0] ? ", options " : "", options);
                if (gmt[0])
                        g_string_append_printf(out, "%s: views: @GMT names in %s, names in %s\n",
                                               lookup(entry, "volume"), gmt,
                                               lookup(entry, "names_path"));
                else
                        g_string_append_printf(out, "%s: views: off\n", lookup(entry, "volume"));
                g_variant_unref(entry);
        }
        zumactl_print(out->str);
}

static void add_json_object(JsonBuilder *builder, GVariant *entry)
{
        GVariantIter iter;
        const char *key;
        GVariant *value;

        json_builder_begin_object(builder);
        g_variant_iter_init(&iter, entry);
        while (g_variant_iter_loop(&iter, "{&sv}", &key, &value)) {
                if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING))
                        zumactl_json_set_string(builder, key, g_variant_get_string(value, NULL));
                else if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32))
                        zumactl_json_set_uint(builder, key, g_variant_get_uint32(value));
                else if (g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN))
                        zumactl_json_set_bool(builder, key, g_variant_get_boolean(value));
        }
        json_builder_end_object(builder);
}

static void print_mounts_json(GVariant *mounts, GVariant *configs)
{
        g_autoptr(JsonBuilder) builder = json_builder_new();
        g_autofree char *text = NULL;
        GVariantIter iter;
        GVariant *entry;

        json_builder_begin_object(builder);
        json_builder_set_member_name(builder, "mounts");
        json_builder_begin_array(builder);
        g_variant_iter_init(&iter, mounts);
        while ((entry = g_variant_iter_next_value(&iter))) {
                add_json_object(builder, entry);
                g_variant_unref(entry);
        }
        json_builder_end_array(builder);
        json_builder_set_member_name(builder, "configs");
        json_builder_begin_array(builder);
        g_variant_iter_init(&iter, configs);
        while ((entry = g_variant_iter_next_value(&iter))) {
                add_json_object(builder, entry);
                g_variant_unref(entry);
        }
        json_builder_end_array(builder);
        json_builder_end_object(builder);
        text = zumactl_json_to_text(builder);
        zumactl_print(text);
}

gboolean zumactl_cmd_mount(ZumactlContext *ctx, int argc, char **argv, GError **error)
{
        g_autofree char *at = NULL;
        g_autofree char *snapshots = NULL;
        g_autofree char *template = NULL;
        g_autofree char *options = NULL;
        g_autofree char *views = NULL;
        g_autofree char *gmt_dir = NULL;
        g_autofree char *names_dir = NULL;
        gboolean force = FALSE;
        const GOptionEntry entries[] = {
                { "at", 0, 0, G_OPTION_ARG_FILENAME, &at,
                  "Mount the origin at PATH (\"\" for not at all)", "PATH" },
                { "snapshots", 0, 0, G_OPTION_ARG_STRING, &snapshots,
                  "Which snapshots to mount: all (default), none, newest:N", "WHICH" },
                { "template", 0, 0, G_OPTION_ARG_FILENAME, &template,
                  "Mount each snapshot at TEMPLATE, with {volume} and {snapshot}", "TEMPLATE" },
                { "options", 0, 0, G_OPTION_ARG_STRING, &options,
                  "Mount options of the origin (snapshots get them read-only)", "OPTIONS" },
                { "force", 0, 0, G_OPTION_ARG_NONE, &force,
                  "Mount the origin over a directory that is not empty", NULL },
                { "views", 0, 0, G_OPTION_ARG_STRING, &views,
                  "Snapshot views of the mounted snapshots: on (default) or off", "on|off" },
                { "gmt-dir", 0, 0, G_OPTION_ARG_FILENAME, &gmt_dir,
                  "Directory of @GMT-... links for Samba (\"\" for the default)", "PATH" },
                { "names-dir", 0, 0, G_OPTION_ARG_FILENAME, &names_dir,
                  "Directory of links by snapshot name (\"\" for the default)", "PATH" },
                G_OPTION_ENTRY_NULL,
        };
        g_autoptr(GVariantDict) config = g_variant_dict_new(NULL);
        g_autoptr(GVariantDict) call_options = g_variant_dict_new(NULL);
        g_autoptr(ZumaMountManager) manager = NULL;
        g_autoptr(GError) local = NULL;
        g_autoptr(GVariant) mounts = NULL;
        g_autoptr(GVariant) configs = NULL;
        g_autofree char *path = NULL;
        /* SetMount's string keys, each given only when set (read after
         * the options are parsed). */
        const struct {
                const char *key;
                char **value;
        } strings[] = {
                { "at", &at },           { "snapshots", &snapshots }, { "template", &template },
                { "options", &options }, { "gmt_dir", &gmt_dir },     { "names_dir", &names_dir },
        };

        if (!zumactl_parse_options(ctx, entries, FALSE, &argc, &argv, error) ||
            !zumactl_expect_arguments(ctx, argc, argv, 1, 1, error))
                return FALSE;
        for (guint i = 0; i < G_N_ELEMENTS(strings); i++) {
                if (*strings[i].value)
                        g_variant_dict_insert(config, strings[i].key, "s", *strings[i].value);
        }
        if (views) {
                if (!g_str_equal(views, "on") && !g_str_equal(views, "off"))
                        return zumactl_usage_error(error, "--views takes on or off, not '%s'",
                                                   views);
                g_variant_dict_insert(config, "views", "b", g_str_equal(views, "on"));
        }
        if (force)
                g_variant_dict_insert(call_options, "force", "b", TRUE);
        manager = mounter_manager(ctx, &local);
        if (!manager || !zuma_mount_manager_call_set_mount_sync(
                                manager, argv[1], g_variant_dict_end(config),
                                g_variant_dict_end(call_options), &path, NULL, &local)) {
                zumactl_error_propagate(error, g_steal_pointer(&local),
                                        "configuring the mounts of '%s'", argv[1]);
                return FALSE;
        }
        if (!ctx->json)
                return TRUE;
        if (!list(ctx, argv[1], &mounts, &configs, error))
                return FALSE;
        print_mounts_json(mounts, configs);
        return TRUE;
}

gboolean zumactl_cmd_unmount(ZumactlContext *ctx, int argc, char **argv, GError **error)
{
        g_autoptr(ZumaMountManager) manager = NULL;
        g_autoptr(GError) local = NULL;

        if (!zumactl_parse_options(ctx, NULL, FALSE, &argc, &argv, error) ||
            !zumactl_expect_arguments(ctx, argc, argv, 1, 1, error))
                return FALSE;
        manager = mounter_manager(ctx, &local);
        if (!manager || !zuma_mount_manager_call_forget_mount_sync(
                                manager, argv[1], zumactl_bus_no_options(), NULL, &local)) {
                zumactl_error_propagate(error, g_steal_pointer(&local), "unmounting '%s'", argv[1]);
                return FALSE;
        }
        if (ctx->json) {
                g_autoptr(JsonBuilder) builder = json_builder_new();
                g_autofree char *text = NULL;

                json_builder_begin_object(builder);
                zumactl_json_set_string(builder, "volume", argv[1]);
                zumactl_json_set_bool(builder, "unmounted", TRUE);
                json_builder_end_object(builder);
                text = zumactl_json_to_text(builder);
                zumactl_print(text);
        }
        return TRUE;
}

gboolean zumactl_cmd_mounts(ZumactlContext *ctx, int argc, char **argv, GError **error)
{
        g_autoptr(GVariant) mounts = NULL;
        g_autoptr(GVariant) configs = NULL;

        if (!zumactl_parse_options(ctx, NULL, FALSE, &argc, &argv, error) ||
            !zumactl_expect_arguments(ctx, argc, argv, 0, 1, error))
                return FALSE;
        if (!list(ctx, argc > 1 ? argv[1] : "", &mounts, &configs, error))
                return FALSE;
        if (ctx->json)
                print_mounts_json(mounts, configs);
        else
                print_mounts_text(mounts, configs);
        return TRUE;
}
