/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zumactl"

#include "zumactl-bus.h"

#include "zuma-error.h"
#include "zumactl-errors.h"

#define VOLUME_INTERFACE "org.zumastor.Zumastor1.Volume"
#define SNAPSHOT_INTERFACE "org.zumastor.Zumastor1.Snapshot"
#define MANAGER_INTERFACE "org.zumastor.Zumastor1.Manager"

static GDBusConnection *bus_open(ZumactlContext *ctx, GError **error)
{
        g_autoptr(GError) error_local = NULL;
        GDBusConnection *connection;

        if (ctx->bus_address != NULL)
                connection = g_dbus_connection_new_for_address_sync(
                        ctx->bus_address,
                        G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                        NULL, NULL, &error_local);
        else
                connection = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error_local);
        if (connection == NULL) {
                g_dbus_error_strip_remote_error(error_local);
                /* Whatever went wrong, zumactl could not reach the server. */
                if (ctx->bus_address != NULL)
                        g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_NO_SERVER,
                                    "cannot connect to the bus at %s: %s", ctx->bus_address,
                                    error_local->message);
                else
                        g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_NO_SERVER,
                                    "cannot connect to the system bus: %s", error_local->message);
                return NULL;
        }
        return connection;
}

gboolean zumactl_bus_connect(ZumactlContext *ctx, GError **error)
{
        g_autoptr(GError) error_local = NULL;
        g_autofree char *owner = NULL;

        if (ctx->object_manager != NULL)
                return TRUE;
        if (ctx->connection == NULL) {
                ctx->connection = bus_open(ctx, error);
                if (ctx->connection == NULL)
                        return FALSE;
        }
        /* Without DO_NOT_AUTO_START, so that a bus with an activation file
         * starts the server. */
        ctx->object_manager = zuma_bus_object_manager_client_new_sync(
                ctx->connection, G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_NONE, ZUMACTL_BUS_NAME,
                ZUMACTL_ROOT_PATH, NULL, &error_local);
        if (ctx->object_manager == NULL) {
                zumactl_error_propagate(error, g_steal_pointer(&error_local),
                                        "reading the objects of zuma-snapshotd");
                return FALSE;
        }
        owner = g_dbus_object_manager_client_get_name_owner(
                G_DBUS_OBJECT_MANAGER_CLIENT(ctx->object_manager));
        if (owner == NULL) {
                g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN,
                            "no zuma-snapshotd (%s) on the %s", ZUMACTL_BUS_NAME,
                            ctx->bus_address != NULL ? "bus" : "system bus");
                g_clear_object(&ctx->object_manager);
                return FALSE;
        }
        return TRUE;
}

ZumaBusManager *zumactl_bus_get_manager(ZumactlContext *ctx, GError **error)
{
        GDBusInterface *iface;

        if (!zumactl_bus_connect(ctx, error))
                return NULL;
        iface = g_dbus_object_manager_get_interface(ctx->object_manager, ZUMACTL_MANAGER_PATH,
                                                    MANAGER_INTERFACE);
        if (iface == NULL) {
                g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN,
                            "%s on the bus has no manager object at %s", ZUMACTL_BUS_NAME,
                            ZUMACTL_MANAGER_PATH);
                return NULL;
        }
        return ZUMA_BUS_MANAGER(iface);
}

const char *zumactl_bus_path(gpointer proxy)
{
        return g_dbus_proxy_get_object_path(G_DBUS_PROXY(proxy));
}

/* The objects of the object manager carrying interface_name. */
static GList *bus_interfaces(ZumactlContext *ctx, const char *interface_name)
{
        GList *objects = g_dbus_object_manager_get_objects(ctx->object_manager);
        GList *found = NULL;

        for (GList *l = objects; l != NULL; l = l->next) {
                GDBusInterface *iface = g_dbus_object_get_interface(l->data, interface_name);

                if (iface != NULL)
                        found = g_list_prepend(found, iface);
        }
        g_list_free_full(objects, g_object_unref);
        return found;
}

static gint volume_compare(gconstpointer a, gconstpointer b)
{
        return g_strcmp0(zuma_bus_volume_get_name((ZumaBusVolume *)a),
                         zuma_bus_volume_get_name((ZumaBusVolume *)b));
}

GList *zumactl_bus_list_volumes(ZumactlContext *ctx)
{
        return g_list_sort(bus_interfaces(ctx, VOLUME_INTERFACE), volume_compare);
}

static gint snapshot_compare(gconstpointer a, gconstpointer b)
{
        guint ia = zuma_bus_snapshot_get_id((ZumaBusSnapshot *)a);
        guint ib = zuma_bus_snapshot_get_id((ZumaBusSnapshot *)b);

        return ia < ib ? -1 : ia > ib ? 1 : 0;
}

GList *zumactl_bus_list_snapshots(ZumactlContext *ctx, ZumaBusVolume *volume)
{
        GList *all = bus_interfaces(ctx, SNAPSHOT_INTERFACE);
        GList *mine = NULL;
        const char *path = zumactl_bus_path(volume);

        for (GList *l = all; l != NULL; l = l->next) {
                if (g_strcmp0(zuma_bus_snapshot_get_volume(l->data), path) == 0)
                        mine = g_list_prepend(mine, g_object_ref(l->data));
        }
        g_list_free_full(all, g_object_unref);
        return g_list_sort(mine, snapshot_compare);
}

ZumaBusVolume *zumactl_bus_find_volume(ZumactlContext *ctx, const char *name, GError **error)
{
        g_autoptr(ZumaBusManager) manager = NULL;
        g_autofree char *path = NULL;
        GList *volumes;
        ZumaBusVolume *found = NULL;

        if (!zumactl_bus_connect(ctx, error))
                return NULL;
        volumes = zumactl_bus_list_volumes(ctx);
        for (GList *l = volumes; l != NULL && found == NULL; l = l->next) {
                if (g_strcmp0(zuma_bus_volume_get_name(l->data), name) == 0)
                        found = g_object_ref(l->data);
        }
        g_list_free_full(volumes, g_object_unref);
        if (found != NULL)
                return found;

        /* Let the server judge the name and say why it is unknown. */
        manager = zumactl_bus_get_manager(ctx, error);
        if (manager == NULL)
                return NULL;
        if (!zuma_bus_manager_call_find_volume_sync(manager, name, zumactl_bus_no_options(), &path,
                                                    NULL, error))
                return NULL;
        return zumactl_bus_reload_volume(ctx, path, error);
}

ZumaBusVolume *zumactl_bus_find_volume_for(ZumactlContext *ctx, const char *name, const char *what,
                                           GError **error)
{
        g_autoptr(GError) error_local = NULL;
        ZumaBusVolume *volume = zumactl_bus_find_volume(ctx, name, &error_local);

        if (volume == NULL)
                zumactl_fail(error, g_steal_pointer(&error_local), what);
        return volume;
}

gboolean zumactl_bus_volume_is_running(ZumaBusVolume *volume)
{
        return g_strcmp0(zuma_bus_volume_get_state(volume), "running") == 0;
}

gboolean zumactl_bus_require_running(ZumaBusVolume *volume, GError **error)
{
        if (zumactl_bus_volume_is_running(volume))
                return TRUE;
        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_RUNNING,
                    "volume '%s' is %s; its snapshots are known only while it runs",
                    zuma_bus_volume_get_name(volume), zuma_bus_volume_get_state(volume));
        return FALSE;
}

ZumaBusSnapshot *zumactl_bus_find_snapshot(ZumactlContext *ctx, ZumaBusVolume *volume,
                                           const char *name, GError **error)
{
        GList *snapshots = zumactl_bus_list_snapshots(ctx, volume);
        ZumaBusSnapshot *found = NULL;

        for (GList *l = snapshots; l != NULL && found == NULL; l = l->next) {
                if (g_strcmp0(zuma_bus_snapshot_get_name(l->data), name) == 0)
                        found = g_object_ref(l->data);
        }
        g_list_free_full(snapshots, g_object_unref);
        if (found != NULL)
                return found;
        if (!zumactl_bus_require_running(volume, error))
                return NULL;
        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND, "volume '%s' has no snapshot '%s'",
                    zuma_bus_volume_get_name(volume), name);
        return NULL;
}

ZumaBusVolume *zumactl_bus_reload_volume(ZumactlContext *ctx, const char *path, GError **error)
{
        ZumaBusVolume *volume;

        volume = zuma_bus_volume_proxy_new_sync(ctx->connection,
                                                G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START |
                                                        G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS,
                                                ZUMACTL_BUS_NAME, path, NULL, error);
        if (volume == NULL)
                return NULL;
        if (zuma_bus_volume_get_name(volume) == NULL) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND, "no volume at %s", path);
                g_object_unref(volume);
                return NULL;
        }
        return volume;
}

ZumaBusSnapshot *zumactl_bus_reload_snapshot(ZumactlContext *ctx, const char *path, GError **error)
{
        ZumaBusSnapshot *snapshot;

        snapshot = zuma_bus_snapshot_proxy_new_sync(
                ctx->connection,
                G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START | G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS,
                ZUMACTL_BUS_NAME, path, NULL, error);
        if (snapshot == NULL)
                return NULL;
        if (zuma_bus_snapshot_get_name(snapshot) == NULL) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND, "no snapshot at %s", path);
                g_object_unref(snapshot);
                return NULL;
        }
        return snapshot;
}

GVariant *zumactl_bus_no_options(void)
{
        return g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0);
}

GVariant *zumactl_bus_force_options(gboolean force)
{
        g_auto(GVariantBuilder) options = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);

        if (force)
                g_variant_builder_add(&options, "{sv}", "force", g_variant_new_boolean(TRUE));
        return g_variant_builder_end(&options);
}
