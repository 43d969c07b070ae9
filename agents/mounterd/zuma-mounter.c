/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ZumaMounter (zuma-mounter.h): the configurations, the Manager's
 * methods, and following zuma-snapshotd.
 *
 * Following: every signal the server sends about volumes and snapshots
 * (Volume.Started, Stopped, SnapshotCreated, SnapshotDeleted; a
 * PropertiesChanged of a Name, Device or State; objects added and
 * removed) asks for one reconcile on the next idle (zuma-mount-follow.c),
 * so a burst of signals costs one listing.  When the server's name gets
 * an owner again (a restarted server), the same.  Job signals are not
 * about mounts and are ignored.
 *
 * Configurations are saved durably (zuma-keyfile.h) before the call
 * answers, one file per volume: STATE_DIR/mounts/UUID.conf.
 */
#define G_LOG_DOMAIN "zuma-mounterd"

#include "zuma-config.h"
#include "zuma-error.h"
#include "zuma-keyfile.h"
#include "zuma-mount-ops.h"
#include "zuma-mount-views.h"
#include "zuma-mounter-private.h"
#include "zuma-names.h"
#include "zuma-options.h"

#define MOUNTER_KEY "zuma-mounter"

static char *config_path(ZumaMounter *self, const char *uuid)
{
        g_autofree char *file = g_strdup_printf("%s.conf", uuid);

        return g_build_filename(self->configs_dir, file, NULL);
}

static gboolean save_config(ZumaMounter *self, const ZumaMountConfig *config, GError **error)
{
        g_autoptr(GKeyFile) key_file = zuma_mount_config_to_keyfile(config);
        g_autofree char *path = config_path(self, config->uuid);

        return zuma_keyfile_save(key_file, path, 0644, error);
}

/* --- following the server --- */

static gboolean properties_matter(GVariant *params)
{
        g_autoptr(GVariant) changed = NULL;
        const char *interface;
        static const char *const keys[] = { "Name", "Device", "State", "Uuid" };

        if (!g_variant_is_of_type(params, G_VARIANT_TYPE("(sa{sv}as)")))
                return FALSE;
        g_variant_get_child(params, 0, "&s", &interface);
        if (!g_str_equal(interface, ZUMA_INTERFACE_VOLUME) &&
            !g_str_equal(interface, ZUMA_INTERFACE_SNAPSHOT))
                return FALSE;
        changed = g_variant_get_child_value(params, 1);
        for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
                g_autoptr(GVariant) value = g_variant_lookup_value(changed, keys[i], NULL);

                if (value)
                        return TRUE;
        }
        return FALSE;
}

/* A Volume's Device became "": its origin was detached (for a revert). */
static gboolean origin_detached(GVariant *params)
{
        g_autoptr(GVariant) changed = NULL;
        const char *interface, *device;

        g_variant_get_child(params, 0, "&s", &interface);
        if (!g_str_equal(interface, ZUMA_INTERFACE_VOLUME))
                return FALSE;
        changed = g_variant_get_child_value(params, 1);
        return g_variant_lookup(changed, "Device", "&s", &device) && !device[0];
}

/* A Volume's State became other than "running": it stopped (or failed). */
static gboolean volume_stopped(GVariant *params)
{
        g_autoptr(GVariant) changed = NULL;
        const char *interface, *state;

        g_variant_get_child(params, 0, "&s", &interface);
        if (!g_str_equal(interface, ZUMA_INTERFACE_VOLUME))
                return FALSE;
        changed = g_variant_get_child_value(params, 1);
        return g_variant_lookup(changed, "State", "&s", &state) && !g_str_equal(state, "running");
}

static void on_server_signal(GDBusConnection *connection, const char *sender, const char *path,
                             const char *interface, const char *member, GVariant *params,
                             gpointer user_data)
{
        ZumaMounter *self = user_data;

        if (g_str_equal(interface, ZUMA_INTERFACE_JOB))
                return;
        if (g_str_equal(interface, "org.freedesktop.DBus.Properties") && !properties_matter(params))
                return;
        if (g_str_equal(interface, "org.freedesktop.DBus.Properties") && origin_detached(params))
                zuma_mounter_origin_detached(self, path);
        if (g_str_equal(interface, "org.freedesktop.DBus.Properties") && volume_stopped(params))
                zuma_mounter_volume_stopped(self, path);
        zuma_mounter_reconcile_soon(self);
}

static void on_server_appeared(GDBusConnection *connection, const char *name, const char *owner,
                               gpointer user_data)
{
        g_message("zuma-snapshotd is on the bus (%s): following it", owner);
        zuma_mounter_reconcile_soon(user_data);
}

static void on_server_vanished(GDBusConnection *connection, const char *name, gpointer user_data)
{
        g_message("zuma-snapshotd is not on the bus: the mounts stay until it is back");
}

/* --- the Manager --- */

/* The configuration of volume (UUID or name, as configured or as the
 * server names it now); NotFound. */
static ZumaMountConfig *find_config(ZumaMounter *self, const char *volume, GError **error)
{
        GHashTableIter iter;
        ZumaMountConfig *config;
        g_autofree char *quoted = NULL;

        if (!zuma_server_check_volume_argument(volume, error))
                return NULL;
        config = g_hash_table_lookup(self->configs, volume);
        if (config)
                return config;
        g_hash_table_iter_init(&iter, self->configs);
        while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&config)) {
                if (g_str_equal(config->volume_name, volume))
                        return config;
        }
        quoted = zuma_quote(volume);
        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND, "volume %s has no mount configuration",
                    quoted);
        return NULL;
}

/* The origin's mount point must not clash with another volume's mounts,
 * nor lie in a snapshot's (read-only) tree, nor cover files. */
static gboolean check_origin_point(ZumaMounter *self, const ZumaMountConfig *config, GError **error)
{
        GHashTableIter iter;
        ZumaMountConfig *other;
        ZumaMount *mount;

        if (!config->at[0])
                return TRUE;
        g_hash_table_iter_init(&iter, self->configs);
        while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&other)) {
                if (!g_str_equal(other->uuid, config->uuid) && g_str_equal(other->at, config->at)) {
                        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                    "the mount point %s is volume %s's already", config->at,
                                    other->volume_name);
                        return FALSE;
                }
        }
        g_hash_table_iter_init(&iter, self->mounts);
        while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&mount)) {
                if (mount->id && zuma_mount_path_within(config->at, mount->path)) {
                        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                    "the mount point %s lies inside %s, where snapshot %s of "
                                    "volume %s is mounted",
                                    config->at, mount->path, mount->snapshot_name,
                                    mount->volume_name);
                        return FALSE;
                }
                if (g_str_equal(mount->path, config->at))
                        return TRUE; /* ours: what is in it is the volume's */
        }
        if (!config->force && zuma_mount_dir_has_entries(config->at)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_ALREADY_EXISTS,
                            "the mount point %s is a directory that is not empty (force mounts "
                            "over it)",
                            config->at);
                return FALSE;
        }
        if (g_file_test(config->at, G_FILE_TEST_EXISTS) &&
            !g_file_test(config->at, G_FILE_TEST_IS_DIR)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "the mount point %s exists and is not a directory", config->at);
                return FALSE;
        }
        return TRUE;
}

static gboolean manager_alive(gpointer object, GError **error)
{
        return TRUE;
}

static GVariant *set_mount_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaMounter *self = g_object_get_data(object, MOUNTER_KEY);
        g_autoptr(GVariant) values = NULL;
        g_autoptr(ZumaMountConfig) config = NULL;
        g_autofree char *uuid = NULL;
        g_autofree char *name = NULL;
        const ZumaMountConfig *old;
        const char *volume;
        gboolean force = FALSE;

        g_variant_get_child(call->params, 0, "&s", &volume);
        values = g_variant_get_child_value(call->params, 1);
        if (!zuma_options_parse(call->options, error, "force", "b", &force, NULL) ||
            !zuma_server_check_volume_argument(volume, error) ||
            !zuma_server_resolve_volume(self->connection, volume, &uuid, &name, error))
                return NULL;
        config = zuma_mount_config_new(uuid, name);
        if (!zuma_mount_config_update(config, values, error))
                return NULL;
        config->force = force;
        if (!check_origin_point(self, config, error) ||
            !zuma_mount_views_check(self, config, error))
                return NULL;
        old = g_hash_table_lookup(self->configs, uuid);
        if (!old || !zuma_mount_config_equal(old, config)) {
                if (!save_config(self, config, error))
                        return NULL;
                g_message("%s: mount configuration %s", name, old ? "replaced" : "set");
                g_hash_table_replace(self->configs, config->uuid, config);
                config = NULL;
        }
        zuma_mounter_reconcile(self);
        return g_variant_new("(o)", ZUMA_MOUNTERD_MANAGER_PATH);
}

static GVariant *forget_mount_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaMounter *self = g_object_get_data(object, MOUNTER_KEY);
        g_autofree char *path = NULL;
        g_autofree char *uuid = NULL;
        g_autofree char *name = NULL;
        ZumaMountConfig *config;
        const char *volume;

        g_variant_get_child(call->params, 0, "&s", &volume);
        if (!zuma_options_parse(call->options, error, NULL))
                return NULL;
        config = find_config(self, volume, error);
        if (!config)
                return NULL;
        path = config_path(self, config->uuid);
        if (!zuma_file_remove_durable(path, error))
                return NULL;
        uuid = g_strdup(config->uuid);
        name = g_strdup(config->volume_name);
        g_hash_table_remove(self->configs, uuid);
        g_message("%s: mount configuration forgotten", name);
        /* What stays busy is retried by the next reconciles. */
        if (!zuma_mounter_unmount_volume(self, uuid, ZUMA_MOUNT_WHOLE_VOLUME, error)) {
                zuma_mounter_reconcile_soon(self);
                g_prefix_error(error, "the configuration is forgotten, but ");
                return NULL;
        }
        zuma_mounter_reconcile(self);
        return g_variant_new("()");
}

static gint compare_mounts(gconstpointer a, gconstpointer b)
{
        return g_strcmp0((*(ZumaMount *const *)a)->path, (*(ZumaMount *const *)b)->path);
}

static GVariant *mount_to_variant(const ZumaMount *mount)
{
        g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);

        g_variant_builder_add(&builder, "{sv}", "volume", g_variant_new_string(mount->volume_name));
        g_variant_builder_add(&builder, "{sv}", "uuid", g_variant_new_string(mount->uuid));
        g_variant_builder_add(&builder, "{sv}", "snapshot",
                              g_variant_new_string(mount->snapshot_name));
        g_variant_builder_add(&builder, "{sv}", "id", g_variant_new_uint32(mount->id));
        g_variant_builder_add(&builder, "{sv}", "device", g_variant_new_string(mount->device));
        g_variant_builder_add(&builder, "{sv}", "path", g_variant_new_string(mount->path));
        g_variant_builder_add(&builder, "{sv}", "fstype", g_variant_new_string(mount->fstype));
        g_variant_builder_add(&builder, "{sv}", "options", g_variant_new_string(mount->options));
        return g_variant_builder_end(&builder);
}

static GVariant *list_mounts_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaMounter *self = g_object_get_data(object, MOUNTER_KEY);
        g_auto(GVariantBuilder) mounts = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE("aa{sv}"));
        g_auto(GVariantBuilder) configs = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE("aa{sv}"));
        g_autoptr(GPtrArray) sorted = g_ptr_array_new();
        const ZumaMountConfig *only = NULL;
        GHashTableIter iter;
        gpointer value;
        const char *volume;

        g_variant_get_child(call->params, 0, "&s", &volume);
        if (!zuma_options_parse(call->options, error, NULL))
                return NULL;
        if (volume[0]) {
                only = find_config(self, volume, error);
                if (!only)
                        return NULL;
        }
        g_hash_table_iter_init(&iter, self->mounts);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                if (!only || g_str_equal(((ZumaMount *)value)->uuid, only->uuid))
                        g_ptr_array_add(sorted, value);
        }
        g_ptr_array_sort(sorted, compare_mounts);
        for (guint i = 0; i < sorted->len; i++)
                g_variant_builder_add_value(&mounts,
                                            mount_to_variant(g_ptr_array_index(sorted, i)));
        g_hash_table_iter_init(&iter, self->configs);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                if (!only || value == only)
                        g_variant_builder_add_value(
                                &configs,
                                zuma_mount_config_to_variant(value, self->default_template));
        }
        return g_variant_new("(@aa{sv}@aa{sv})", g_variant_builder_end(&mounts),
                             g_variant_builder_end(&configs));
}

static GVariant *release_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaMounter *self = g_object_get_data(object, MOUNTER_KEY);
        g_autoptr(GVariant) ids_variant = NULL;
        g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(guint32));
        guint32 timeout_ms = ZUMA_MOUNT_RELEASE_DEFAULT_MS;
        GDBusMethodInvocation *invocation;
        const char *uuid;
        GVariantIter iter;
        guint32 id;

        g_variant_get_child(call->params, 0, "&s", &uuid);
        ids_variant = g_variant_get_child_value(call->params, 1);
        if (!zuma_options_parse(call->options, error, "timeout_ms", "u", &timeout_ms, NULL))
                return NULL;
        if (!g_uuid_string_is_valid(uuid)) {
                g_autofree char *quoted = zuma_quote(uuid);

                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "volume_uuid %s is not a UUID", quoted);
                return NULL;
        }
        if (timeout_ms > ZUMA_MOUNT_RELEASE_MAX_MS) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "timeout_ms %u is over %u", timeout_ms, ZUMA_MOUNT_RELEASE_MAX_MS);
                return NULL;
        }
        if (g_variant_n_children(ids_variant) > ZUMA_MAX_DELETE_NAMES) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_LIMIT_EXCEEDED,
                            "%" G_GSIZE_FORMAT " snapshot ids, at most %u",
                            g_variant_n_children(ids_variant), (guint)ZUMA_MAX_DELETE_NAMES);
                return NULL;
        }
        g_variant_iter_init(&iter, ids_variant);
        while (g_variant_iter_next(&iter, "u", &id)) {
                if (id == ZUMA_MOUNT_WHOLE_VOLUME) {
                        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                    "%u is not a snapshot id", id);
                        return NULL;
                }
                g_array_append_val(ids, id);
        }
        invocation = zuma_call_defer(call);
        if (!invocation) {
                g_set_error_literal(error, ZUMA_ERROR, ZUMA_ERROR_NOT_SUPPORTED,
                                    "Release answers on the bus only");
                return NULL;
        }
        zuma_mounter_release(self, invocation, uuid, ids, timeout_ms);
        return NULL;
}

static const ZumaMethod manager_methods[] = {
        { "SetMount", "configure mounts", set_mount_method },
        { "ForgetMount", "configure mounts", forget_mount_method },
        { "ListMounts", NULL, list_mounts_method },
        { "Release", "release mounts", release_method },
};

static const ZumaMethodTable manager_table = {
        zuma_mount_manager_interface_info,
        manager_methods,
        G_N_ELEMENTS(manager_methods),
        manager_alive,
};

/* --- life --- */

ZumaMounter *zuma_mounter_new(const ZumaMounterSetup *setup)
{
        ZumaMounter *self = g_new0(ZumaMounter, 1);

        self->connection = g_object_ref(setup->connection);
        self->auth = setup->auth ? g_object_ref(setup->auth) : NULL;
        self->state_dir = g_strdup(setup->state_dir);
        self->configs_dir = g_build_filename(setup->state_dir, "mounts", NULL);
        self->default_template = g_strdup(setup->default_template);
        self->configs = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                              (GDestroyNotify)zuma_mount_config_free);
        self->mounts = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                             (GDestroyNotify)zuma_mount_free);
        self->holds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        self->attached = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        self->warned = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        self->view_dirs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                (GDestroyNotify)zuma_view_dir_free);
        return self;
}

static gboolean load_configs(ZumaMounter *self, GError **error)
{
        g_autoptr(GDir) dir = NULL;
        g_autoptr(GError) local = NULL;
        const char *file;

        dir = g_dir_open(self->configs_dir, 0, &local);
        if (!dir) {
                if (g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
                        return TRUE;
                g_propagate_error(error, g_steal_pointer(&local));
                return FALSE;
        }
        while ((file = g_dir_read_name(dir))) {
                g_autofree char *path = g_build_filename(self->configs_dir, file, NULL);
                g_autoptr(GKeyFile) key_file = g_key_file_new();
                g_autoptr(GError) file_error = NULL;
                ZumaMountConfig *config;

                if (!g_str_has_suffix(file, ".conf"))
                        continue;
                if (!g_key_file_load_from_file(key_file, path, G_KEY_FILE_NONE, &file_error) ||
                    !(config = zuma_mount_config_from_keyfile(key_file, &file_error))) {
                        /* One damaged file must not stop the other volumes. */
                        g_warning("%s: %s: skipped", path, file_error->message);
                        continue;
                }
                g_hash_table_replace(self->configs, config->uuid, config);
                g_message("%s: mount configuration loaded",
                          config->volume_name[0] ? config->volume_name : config->uuid);
        }
        return TRUE;
}

/* Hot-plug (zuma-hotplug.c) is a convenience on top of the mounts: a host
 * where udev cannot be listened to still mounts what is started. */
static void start_hotplug(ZumaMounter *self)
{
        g_autoptr(GError) error = NULL;

        self->hotplug = zuma_hotplug_new(self->connection, self->manager_iface, &error);
        if (!self->hotplug)
                g_warning("hot-plug is off: %s", error->message);
}

gboolean zuma_mounter_load(ZumaMounter *self, GError **error)
{
        if (!load_configs(self, error))
                return FALSE;
        self->objects = g_dbus_object_manager_server_new(ZUMA_MOUNTERD_OBJECT_ROOT);
        self->manager_object = zuma_mount_object_skeleton_new(ZUMA_MOUNTERD_MANAGER_PATH);
        self->manager_iface = zuma_mount_manager_skeleton_new();
        zuma_mount_manager_set_version(self->manager_iface, ZUMA_VERSION);
        zuma_mount_manager_set_default_template(self->manager_iface, self->default_template);
        zuma_mount_object_skeleton_set_manager(self->manager_object, self->manager_iface);
        g_object_set_data(G_OBJECT(self->manager_iface), MOUNTER_KEY, self);
        self->manager_binding = zuma_method_table_bind(
                &manager_table, G_DBUS_INTERFACE_SKELETON(self->manager_iface), self->auth,
                G_OBJECT(self->manager_iface));
        g_dbus_object_manager_server_export(self->objects,
                                            G_DBUS_OBJECT_SKELETON(self->manager_object));
        g_dbus_object_manager_server_set_connection(self->objects, self->connection);

        self->signal_subscription = g_dbus_connection_signal_subscribe(
                self->connection, ZUMA_SNAPSHOTD_BUS_NAME, NULL, NULL, NULL, NULL,
                G_DBUS_SIGNAL_FLAGS_NONE, on_server_signal, self, NULL);
        self->server_watch = g_bus_watch_name_on_connection(
                self->connection, ZUMA_SNAPSHOTD_BUS_NAME, G_BUS_NAME_WATCHER_FLAGS_NONE,
                on_server_appeared, on_server_vanished, self, NULL);
        start_hotplug(self);
        return TRUE;
}

char *zuma_mounter_describe(ZumaMounter *self)
{
        guint mounts = g_hash_table_size(self->mounts);
        guint configs = g_hash_table_size(self->configs);
        g_autofree char *hotplug = self->hotplug ? zuma_hotplug_describe(self->hotplug) : NULL;

        return g_strdup_printf("%u mount%s, %u volume%s configured%s%s", mounts,
                               mounts == 1 ? "" : "s", configs, configs == 1 ? "" : "s",
                               hotplug ? ", " : "", hotplug ? hotplug : "");
}

void zuma_mounter_shutdown(ZumaMounter *self)
{
        g_autoptr(GList) mounts = NULL;
        g_autoptr(GHashTable) uuids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        GHashTableIter iter;
        ZumaMount *mount;
        const char *uuid;

        self->shutting_down = TRUE;
        zuma_mounter_cancel_releases(self);
        g_hash_table_iter_init(&iter, self->mounts);
        while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&mount))
                g_hash_table_add(uuids, g_strdup(mount->uuid));
        g_hash_table_iter_init(&iter, uuids);
        while (g_hash_table_iter_next(&iter, (gpointer *)&uuid, NULL)) {
                g_autoptr(GError) error = NULL;

                if (!zuma_mounter_unmount_volume(self, uuid, ZUMA_MOUNT_WHOLE_VOLUME, &error))
                        g_warning("%s; left mounted", error->message);
        }
        zuma_mount_views_sync(self);
        /* The detaches are on their way before the connection closes. */
        g_dbus_connection_flush_sync(self->connection, NULL, NULL);
}

void zuma_mounter_free(ZumaMounter *self)
{
        if (!self)
                return;
        zuma_mounter_cancel_releases(self);
        g_clear_pointer(&self->hotplug, zuma_hotplug_free);
        if (self->reconcile_idle)
                g_source_remove(self->reconcile_idle);
        if (self->retry_timer)
                g_source_remove(self->retry_timer);
        if (self->server_watch)
                g_bus_unwatch_name(self->server_watch);
        if (self->signal_subscription)
                g_dbus_connection_signal_unsubscribe(self->connection, self->signal_subscription);
        g_clear_pointer(&self->manager_binding, zuma_method_binding_free);
        g_clear_object(&self->objects);
        g_clear_object(&self->manager_object);
        g_clear_object(&self->manager_iface);
        g_clear_pointer(&self->configs, g_hash_table_destroy);
        g_clear_pointer(&self->mounts, g_hash_table_destroy);
        g_clear_pointer(&self->holds, g_hash_table_destroy);
        g_clear_pointer(&self->attached, g_hash_table_destroy);
        g_clear_pointer(&self->warned, g_hash_table_destroy);
        g_clear_pointer(&self->view_dirs, g_hash_table_destroy);
        g_clear_pointer(&self->volumes, g_ptr_array_unref);
        g_clear_object(&self->auth);
        g_clear_object(&self->connection);
        g_free(self->state_dir);
        g_free(self->configs_dir);
        g_free(self->default_template);
        g_free(self);
}
