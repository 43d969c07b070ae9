/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stores that hot-plug found and no volume owns: `zumactl import`
 * (Manager.ImportVolume of zuma-snapshotd) adopts one, and `zumactl
 * status` lists them, as zuma-mounterd reports them in its Manager's
 * UnknownStores (org.zumastor.Mounter1; docs/zuma-mounterd.8, HOT-PLUG).
 */
#define G_LOG_DOMAIN "zumactl"

#include "zumactl-import.h"

#include "zuma-names.h"
#include "zumactl-bus.h"
#include "zumactl-errors.h"
#include "zumactl-output.h"
#include "zumactl-parse.h"
#include "zumactl-render.h"

/* Reading a property of a daemon that may be absent: not long. */
#define UNKNOWN_STORES_TIMEOUT_MS 5000

gboolean zumactl_cmd_import(ZumactlContext *ctx, int argc, char **argv, GError **error)
{
        g_autofree char *name = NULL;
        gboolean no_start = FALSE;
        const GOptionEntry entries[] = {
                { "name", 0, 0, G_OPTION_ARG_STRING, &name,
                  "The volume name the store records (checked, not changed)", "VOL" },
                { "no-start", 0, 0, G_OPTION_ARG_NONE, &no_start, "Do not start the volume", NULL },
                G_OPTION_ENTRY_NULL,
        };
        g_autoptr(GVariantDict) options = g_variant_dict_new(NULL);
        g_autoptr(ZumaBusManager) manager = NULL;
        g_autoptr(GError) error_local = NULL;
        g_autoptr(ZumaBusVolume) volume = NULL;
        g_autofree char *store = NULL;
        g_autofree char *origin = NULL;
        g_autofree char *path = NULL;
        g_autofree char *what = NULL;

        if (!zumactl_parse_options(ctx, entries, FALSE, &argc, &argv, error))
                return FALSE;
        if (argc == 2)
                return zumactl_usage_error(error,
                                           "the store on %s does not record where its origin is: "
                                           "give it (zumactl import %s ORIGIN)",
                                           argv[1], argv[1]);
        if (!zumactl_expect_arguments(ctx, argc, argv, 2, 2, error))
                return FALSE;
        if (name != NULL)
                g_variant_dict_insert(options, "name", "s", name);
        if (no_start)
                g_variant_dict_insert(options, "start", "b", FALSE);
        store = zumactl_absolute_path(argv[1]);
        origin = zumactl_absolute_path(argv[2]);
        what = g_strdup_printf("importing the store on %s", store);
        manager = zumactl_bus_get_manager(ctx, &error_local);
        if (manager != NULL)
                g_dbus_proxy_set_default_timeout(G_DBUS_PROXY(manager),
                                                 ZUMACTL_DEVICE_CALL_TIMEOUT_MS);
        if (manager == NULL ||
            !zuma_bus_manager_call_import_volume_sync(
                    manager, store, origin, g_variant_dict_end(options), &path, NULL, &error_local))
                return zumactl_fail(error, g_steal_pointer(&error_local), what);
        volume = zumactl_bus_reload_created_volume(ctx, path, &error_local);
        if (volume == NULL)
                return zumactl_fail(error, g_steal_pointer(&error_local), what);
        if (ctx->json) {
                zumactl_print_volume_json(volume);
        } else {
                g_autofree char *line = g_strdup_printf("Imported volume %s (UUID %s) from %s\n",
                                                        zuma_bus_volume_get_name(volume),
                                                        zuma_bus_volume_get_uuid(volume), store);

                zumactl_print(line);
        }
        return TRUE;
}

GVariant *zumactl_unknown_stores(ZumactlContext *ctx)
{
        g_autoptr(GVariant) reply = NULL;
        g_autoptr(GVariant) value = NULL;

        if (!zumactl_bus_open(ctx, NULL))
                return NULL;
        reply = g_dbus_connection_call_sync(
                ctx->connection, ZUMA_MOUNTERD_BUS_NAME, ZUMA_MOUNTERD_MANAGER_PATH,
                "org.freedesktop.DBus.Properties", "Get",
                g_variant_new("(ss)", ZUMA_MOUNTERD_BUS_NAME ".Manager", "UnknownStores"),
                G_VARIANT_TYPE("(v)"), G_DBUS_CALL_FLAGS_NO_AUTO_START, UNKNOWN_STORES_TIMEOUT_MS,
                NULL, NULL);
        if (!reply)
                return NULL; /* no mounter: nothing is known about stores */
        g_variant_get(reply, "(v)", &value);
        if (!g_variant_is_of_type(value, G_VARIANT_TYPE("aa{sv}")))
                return NULL;
        return g_steal_pointer(&value);
}

static const char *lookup(GVariant *entry, const char *key)
{
        const char *value = NULL;

        return g_variant_lookup(entry, key, "&s", &value) ? value : "";
}

char *zumactl_unknown_stores_text(GVariant *stores)
{
        GString *text = g_string_new(NULL);
        GVariantIter iter;
        GVariant *entry;

        g_variant_iter_init(&iter, stores);
        while ((entry = g_variant_iter_next_value(&iter))) {
                const char *problem = lookup(entry, "problem");

                if (problem[0])
                        g_string_append_printf(text,
                                               "Store on %s cannot be read: %s (nothing started)\n",
                                               lookup(entry, "device"), problem);
                else
                        g_string_append_printf(
                                text,
                                "Unknown store on %s: volume %s (UUID %s); adopt it with "
                                "zumactl import %s ORIGIN\n",
                                lookup(entry, "device"), lookup(entry, "volume_name"),
                                lookup(entry, "volume_uuid"), lookup(entry, "device"));
                g_variant_unref(entry);
        }
        return g_string_free(text, FALSE);
}

void zumactl_unknown_stores_json(JsonBuilder *builder, GVariant *stores)
{
        static const char *const keys[] = { "device", "store_uuid", "volume_uuid", "volume_name",
                                            "problem" };
        GVariantIter iter;
        GVariant *entry;

        json_builder_set_member_name(builder, "unknown_stores");
        json_builder_begin_array(builder);
        g_variant_iter_init(&iter, stores);
        while ((entry = g_variant_iter_next_value(&iter))) {
                json_builder_begin_object(builder);
                for (guint i = 0; i < G_N_ELEMENTS(keys); i++)
                        zumactl_json_set_string(builder, keys[i], lookup(entry, keys[i]));
                json_builder_end_object(builder);
                g_variant_unref(entry);
        }
        json_builder_end_array(builder);
}
