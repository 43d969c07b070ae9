/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zumactl"

#include "zumactl-bus.h"

#include "zuma-error.h"
#include "zumactl-errors.h"

#define SNAPSHOT_INTERFACE ZUMA_INTERFACE_SNAPSHOT
/* The object path of a listed snapshot (object data). */
#define LISTED_PATH_KEY "zumactl-listed-path"
#define MANAGER_INTERFACE ZUMA_INTERFACE_MANAGER

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

gboolean zumactl_bus_open(ZumactlContext *ctx, GError **error)
{
        if (ctx->connection == NULL)
                ctx->connection = bus_open(ctx, error);
        return ctx->connection != NULL;
}

gboolean zumactl_bus_connect(ZumactlContext *ctx, GError **error)
{
        g_autoptr(GError) error_local = NULL;
        g_autofree char *owner = NULL;
        ZumaBusManager *manager;

        if (ctx->manager != NULL)
                return TRUE;
        if (ctx->connection == NULL) {
                ctx->connection = bus_open(ctx, error);
                if (ctx->connection == NULL)
                        return FALSE;
        }
        /* Without DO_NOT_AUTO_START, so that a bus with an activation file
         * starts the server. */
        manager = zuma_bus_manager_proxy_new_sync(
                ctx->connection, G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS, ZUMACTL_BUS_NAME,
                ZUMACTL_MANAGER_PATH, NULL, &error_local);
        if (manager == NULL) {
                zumactl_error_propagate(error, g_steal_pointer(&error_local),
                                        "reaching zuma-snapshotd");
                return FALSE;
        }
        owner = g_dbus_proxy_get_name_owner(G_DBUS_PROXY(manager));
        if (owner == NULL) {
                g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN,
                            "no zuma-snapshotd (%s) on the %s", ZUMACTL_BUS_NAME,
                            ctx->bus_address != NULL ? "bus" : "system bus");
                g_object_unref(manager);
                return FALSE;
        }
        if (zuma_bus_manager_get_version(manager) == NULL) {
                g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN,
                            "%s on the bus has no manager object at %s", ZUMACTL_BUS_NAME,
                            ZUMACTL_MANAGER_PATH);
                g_object_unref(manager);
                return FALSE;
        }
        ctx->manager = manager;
        return TRUE;
}

gboolean zumactl_bus_load_objects(ZumactlContext *ctx, GError **error)
{
        g_autoptr(GError) error_local = NULL;
        g_autofree char *owner = NULL;

        if (ctx->object_manager != NULL)
                return TRUE;
        if (!zumactl_bus_connect(ctx, error))
                return FALSE;
        ctx->object_manager = zuma_bus_object_manager_client_new_sync(
                ctx->connection, G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_DO_NOT_AUTO_START,
                ZUMACTL_BUS_NAME, ZUMACTL_ROOT_PATH, NULL, &error_local);
        if (ctx->object_manager == NULL) {
                zumactl_error_propagate(error, g_steal_pointer(&error_local),
                                        "reading the objects of zuma-snapshotd");
                return FALSE;
        }
        owner = g_dbus_object_manager_client_get_name_owner(
                G_DBUS_OBJECT_MANAGER_CLIENT(ctx->object_manager));
        if (owner == NULL) {
                g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_NO_SERVER,
                            "zuma-snapshotd left the %s before its objects could be read",
                            ctx->bus_address != NULL ? "bus" : "system bus");
                g_clear_object(&ctx->object_manager);
                return FALSE;
        }
        return TRUE;
}

ZumaBusManager *zumactl_bus_get_manager(ZumactlContext *ctx, GError **error)
{
        if (!zumactl_bus_connect(ctx, error))
                return NULL;
        return g_object_ref(ctx->manager);
}

const char *zumactl_bus_path(gpointer object)
{
        if (G_IS_DBUS_PROXY(object))
                return g_dbus_proxy_get_object_path(G_DBUS_PROXY(object));
        return g_object_get_data(object, LISTED_PATH_KEY);
}

/* The objects of the object manager carrying interface_name. */
static GList *bus_interfaces(ZumactlContext *ctx, const char *interface_name)
{
        GList *objects;
        GList *found = NULL;

        g_return_val_if_fail(ctx->object_manager != NULL, NULL);
        objects = g_dbus_object_manager_get_objects(ctx->object_manager);

        for (GList *l = objects; l != NULL; l = l->next) {
                GDBusInterface *iface = g_dbus_object_get_interface(l->data, interface_name);

                if (iface != NULL)
                        found = g_list_prepend(found, iface);
        }
        g_list_free_full(objects, g_object_unref);
        return found;
}

/* A proxy of the volume at path of the server that answered the listing
 * (its unique name, so no call resolves it), holding the properties the
 * listing gave (an a{sv}) in its cache: made without a bus call. */
static ZumaBusVolume *listed_volume(ZumactlContext *ctx, const char *path, GVariant *properties,
                                    GError **error)
{
        g_autofree char *owner = g_dbus_proxy_get_name_owner(G_DBUS_PROXY(ctx->manager));
        GDBusProxy *proxy;
        GVariantIter iter;
        const char *key;
        GVariant *value;

        proxy = G_DBUS_PROXY(zuma_bus_volume_proxy_new_sync(
                ctx->connection,
                G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES |
                        G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS |
                        G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
                owner != NULL ? owner : ZUMACTL_BUS_NAME, path, NULL, error));
        if (proxy == NULL)
                return NULL;
        g_variant_iter_init(&iter, properties);
        while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
                g_dbus_proxy_set_cached_property(proxy, key, value);
                g_variant_unref(value);
        }
        return ZUMA_BUS_VOLUME(proxy);
}

static gint volume_compare(gconstpointer a, gconstpointer b)
{
        return g_strcmp0(zuma_bus_volume_get_name((ZumaBusVolume *)a),
                         zuma_bus_volume_get_name((ZumaBusVolume *)b));
}

gboolean zumactl_bus_list_volumes(ZumactlContext *ctx, GList **ret_volumes, GError **error)
{
        g_autoptr(GVariant) listed = NULL;
        GList *volumes = NULL;
        GVariantIter iter;
        const char *path;
        GVariant *properties;

        *ret_volumes = NULL;
        if (!zumactl_bus_connect(ctx, error) ||
            !zuma_bus_manager_call_list_volumes_sync(ctx->manager, zumactl_bus_no_options(),
                                                     &listed, NULL, error))
                return FALSE;
        g_variant_iter_init(&iter, listed);
        while (g_variant_iter_next(&iter, "{&o@a{sv}}", &path, &properties)) {
                ZumaBusVolume *volume = listed_volume(ctx, path, properties, error);

                g_variant_unref(properties);
                if (volume == NULL) {
                        g_list_free_full(volumes, g_object_unref);
                        return FALSE;
                }
                volumes = g_list_prepend(volumes, volume);
        }
        *ret_volumes = g_list_sort(volumes, volume_compare);
        return TRUE;
}

static gint snapshot_compare(gconstpointer a, gconstpointer b)
{
        guint ia = zuma_bus_snapshot_get_id((ZumaBusSnapshot *)a);
        guint ib = zuma_bus_snapshot_get_id((ZumaBusSnapshot *)b);

        return ia < ib ? -1 : ia > ib ? 1 : 0;
}

/* A stopped or failed volume's snapshots, which Volume.ListSnapshots does
 * not list (the agents that call it act on running volumes only) but which
 * stay on the bus: from the object manager. */
static gboolean list_snapshots_on_bus(ZumactlContext *ctx, ZumaBusVolume *volume,
                                      GList **ret_snapshots, GError **error)
{
        GList *all, *mine = NULL;
        const char *path = zumactl_bus_path(volume);

        if (!zumactl_bus_load_objects(ctx, error))
                return FALSE;
        all = bus_interfaces(ctx, SNAPSHOT_INTERFACE);
        for (GList *l = all; l != NULL; l = l->next) {
                if (g_strcmp0(zuma_bus_snapshot_get_volume(l->data), path) == 0)
                        mine = g_list_prepend(mine, g_object_ref(l->data));
        }
        g_list_free_full(all, g_object_unref);
        *ret_snapshots = g_list_sort(mine, snapshot_compare);
        return TRUE;
}

gboolean zumactl_bus_list_snapshots(ZumactlContext *ctx, ZumaBusVolume *volume,
                                    GList **ret_snapshots, GError **error)
{
        g_autoptr(GError) error_local = NULL;
        g_autoptr(GVariant) listed = NULL;
        GList *snapshots = NULL;
        GVariantIter iter;
        const char *path, *name, *device;
        guint32 id;
        gboolean pinned, writable;
        gint32 priority;
        guint64 creation_time, size;

        *ret_snapshots = NULL;
        if (!zumactl_bus_volume_is_running(volume))
                return list_snapshots_on_bus(ctx, volume, ret_snapshots, error);
        if (!zuma_bus_volume_call_list_snapshots_sync(volume, zumactl_bus_no_options(), &listed,
                                                      NULL, &error_local)) {
                /* It stopped since its properties were read. */
                if (g_error_matches(error_local, ZUMA_ERROR, ZUMA_ERROR_NOT_RUNNING))
                        return list_snapshots_on_bus(ctx, volume, ret_snapshots, error);
                g_propagate_error(error, g_steal_pointer(&error_local));
                return FALSE;
        }
        /* By id already. */
        g_variant_iter_init(&iter, listed);
        while (g_variant_iter_next(&iter, "(&ou&sbitb&st)", &path, &id, &name, &pinned, &priority,
                                   &creation_time, &writable, &device, &size)) {
                /* A skeleton never exported: a GDBusProxy would cost a
                 * main context of its own each (most of the time of a
                 * 10,000-snapshot list). */
                ZumaBusSnapshot *snapshot = zuma_bus_snapshot_skeleton_new();

                zuma_bus_snapshot_set_volume(snapshot, zumactl_bus_path(volume));
                zuma_bus_snapshot_set_id(snapshot, id);
                zuma_bus_snapshot_set_name(snapshot, name);
                zuma_bus_snapshot_set_pinned(snapshot, pinned);
                zuma_bus_snapshot_set_priority(snapshot, priority);
                zuma_bus_snapshot_set_creation_time(snapshot, creation_time);
                zuma_bus_snapshot_set_writable(snapshot, writable);
                zuma_bus_snapshot_set_device(snapshot, device);
                zuma_bus_snapshot_set_size(snapshot, size);
                g_object_set_data_full(G_OBJECT(snapshot), LISTED_PATH_KEY, g_strdup(path), g_free);
                snapshots = g_list_prepend(snapshots, snapshot);
        }
        *ret_snapshots = g_list_reverse(snapshots);
        return TRUE;
}

ZumaBusVolume *zumactl_bus_find_volume(ZumactlContext *ctx, const char *name, GError **error)
{
        g_autofree char *path = NULL;

        /* The server judges the name and says why it is unknown. */
        if (!zumactl_bus_connect(ctx, error))
                return NULL;
        if (!zuma_bus_manager_call_find_volume_sync(ctx->manager, name, zumactl_bus_no_options(),
                                                    &path, NULL, error))
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
        g_autoptr(GError) error_local = NULL;
        g_autofree char *path = NULL;

        if (zuma_bus_volume_call_find_snapshot_sync(volume, name, zumactl_bus_no_options(), &path,
                                                    NULL, &error_local))
                return zumactl_bus_reload_snapshot(ctx, path, error);
        /* The words zumactl always used; a name the server finds invalid
         * cannot be a snapshot's, so that too is "no snapshot". */
        if (g_error_matches(error_local, ZUMA_ERROR, ZUMA_ERROR_NOT_RUNNING) &&
            !zumactl_bus_require_running(volume, error))
                return NULL;
        if (g_error_matches(error_local, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND) ||
            g_error_matches(error_local, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND,
                            "volume '%s' has no snapshot '%s'", zuma_bus_volume_get_name(volume),
                            name);
                return NULL;
        }
        g_propagate_error(error, g_steal_pointer(&error_local));
        return NULL;
}

/* TRUE while the server owns its name, asked of the bus now: a proxy's
 * cached owner learns of a departure only from a signal zumactl does not
 * wait for. */
static gboolean server_on_bus(ZumactlContext *ctx)
{
        g_autoptr(GVariant) reply = NULL;
        gboolean has_owner = FALSE;

        reply = g_dbus_connection_call_sync(
                ctx->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                "org.freedesktop.DBus", "NameHasOwner", g_variant_new("(s)", ZUMACTL_BUS_NAME),
                G_VARIANT_TYPE("(b)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
        if (reply != NULL)
                g_variant_get(reply, "(b)", &has_owner);
        return has_owner;
}

/* The proxy of the object at path came back without properties: the
 * server has no such object (NotFound), or it left the bus before
 * answering (unreachable, exit code 11), which says nothing about the
 * object. */
static void set_unread_error(ZumactlContext *ctx, gpointer proxy, const char *kind,
                             const char *path, GError **error)
{
        g_autofree char *owner = g_dbus_proxy_get_name_owner(G_DBUS_PROXY(proxy));

        if (owner == NULL || !server_on_bus(ctx))
                g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_NO_SERVER,
                            "zuma-snapshotd left the bus before the %s at %s could be read", kind,
                            path);
        else
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND, "no %s at %s", kind, path);
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
                set_unread_error(ctx, volume, "volume", path, error);
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
                set_unread_error(ctx, snapshot, "snapshot", path, error);
                g_object_unref(snapshot);
                return NULL;
        }
        return snapshot;
}

/* A failure to read an object whose creation the server acknowledged
 * never reads as NotFound: the object was created. */
static void set_created_error(GError **error, GError *src, const char *kind, const char *path)
{
        g_autofree char *words = zumactl_error_words(src);

        if (g_error_matches(src, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND))
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_FAILED,
                            "the %s was created at %s, but it is gone already (deleted since)",
                            kind, path);
        else if (g_error_matches(src, G_DBUS_ERROR, G_DBUS_ERROR_NO_SERVER))
                g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_NO_SERVER,
                            "the %s WAS created at %s, but zuma-snapshotd left the bus before "
                            "answering what it is",
                            kind, path);
        else
                g_set_error(error, src->domain, src->code,
                            "the %s WAS created at %s, but reading it failed: %s", kind, path,
                            words);
        g_error_free(src);
}

ZumaBusVolume *zumactl_bus_reload_created_volume(ZumactlContext *ctx, const char *path,
                                                 GError **error)
{
        GError *error_local = NULL;
        ZumaBusVolume *volume = zumactl_bus_reload_volume(ctx, path, &error_local);

        if (volume == NULL)
                set_created_error(error, error_local, "volume", path);
        return volume;
}

ZumaBusSnapshot *zumactl_bus_reload_created_snapshot(ZumactlContext *ctx, const char *path,
                                                     GError **error)
{
        GError *error_local = NULL;
        ZumaBusSnapshot *snapshot = zumactl_bus_reload_snapshot(ctx, path, &error_local);

        if (snapshot == NULL)
                set_created_error(error, error_local, "snapshot", path);
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
