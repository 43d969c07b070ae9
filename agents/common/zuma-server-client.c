/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-server-client"

#include "zuma-server-client.h"

#include "zuma-error.h"
#include "zuma-names.h"
#include "zuma-options.h"

void zuma_server_snapshot_free(ZumaServerSnapshot *snapshot)
{
        if (!snapshot)
                return;
        g_free(snapshot->path);
        g_free(snapshot->name);
        g_free(snapshot->device);
        g_free(snapshot);
}

ZumaServerSnapshot *zuma_server_snapshot_new(const char *path, const char *name, gboolean pinned,
                                             gint32 priority)
{
        ZumaServerSnapshot *snapshot = g_new0(ZumaServerSnapshot, 1);

        snapshot->path = g_strdup(path);
        snapshot->name = g_strdup(name);
        snapshot->pinned = pinned;
        snapshot->priority = priority;
        snapshot->device = g_strdup("");
        return snapshot;
}

void zuma_server_volume_free(ZumaServerVolume *volume)
{
        if (!volume)
                return;
        g_free(volume->path);
        g_free(volume->name);
        g_free(volume->uuid);
        g_free(volume->state);
        g_free(volume->device);
        g_clear_pointer(&volume->snapshots, g_ptr_array_unref);
        g_free(volume);
}

/* A GDBus error about the server's absence becomes NotRunning; a remote
 * error loses its D-Bus name prefix. */
static void explain_call_error(GError **error, GError *local)
{
        if (g_error_matches(local, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
            g_error_matches(local, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER)) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_RUNNING,
                            "zuma-snapshotd (%s) is not on the bus", ZUMA_SNAPSHOTD_BUS_NAME);
                g_error_free(local);
                return;
        }
        g_dbus_error_strip_remote_error(local);
        g_propagate_error(error, local);
}

static GVariant *call(GDBusConnection *connection, const char *path, const char *interface,
                      const char *method, GVariant *params, const char *reply_type, int timeout_ms,
                      GError **error)
{
        GError *local = NULL;
        GVariant *reply = g_dbus_connection_call_sync(
                connection, ZUMA_SNAPSHOTD_BUS_NAME, path, interface, method, params,
                reply_type ? G_VARIANT_TYPE(reply_type) : NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START,
                timeout_ms, NULL, &local);

        if (!reply)
                explain_call_error(error, local);
        return reply;
}

static const char *lookup_string(GVariant *properties, const char *key)
{
        const char *value = "";

        g_variant_lookup(properties, key, "&s", &value);
        return value;
}

GPtrArray *zuma_server_list_volumes(GDBusConnection *connection, GError **error)
{
        g_autoptr(GVariant) reply = NULL;
        g_autoptr(GVariant) objects = NULL;
        g_autoptr(GPtrArray) volumes =
                g_ptr_array_new_with_free_func((GDestroyNotify)zuma_server_volume_free);
        g_autoptr(GHashTable) by_path = g_hash_table_new(g_str_hash, g_str_equal);
        GVariantIter iter;
        const char *path;
        GVariant *interfaces;

        reply = call(connection, ZUMA_SNAPSHOTD_OBJECT_ROOT, "org.freedesktop.DBus.ObjectManager",
                     "GetManagedObjects", NULL, "(a{oa{sa{sv}}})", ZUMA_SERVER_CALL_TIMEOUT_MS,
                     error);
        if (!reply)
                return NULL;
        objects = g_variant_get_child_value(reply, 0);

        /* Volumes first, then their snapshots (the order of the answer is
         * not said). */
        g_variant_iter_init(&iter, objects);
        while (g_variant_iter_loop(&iter, "{&o@a{sa{sv}}}", &path, &interfaces)) {
                g_autoptr(GVariant) properties =
                        g_variant_lookup_value(interfaces, ZUMA_INTERFACE_VOLUME, NULL);
                ZumaServerVolume *volume;

                if (!properties)
                        continue;
                volume = g_new0(ZumaServerVolume, 1);
                volume->path = g_strdup(path);
                volume->name = g_strdup(lookup_string(properties, "Name"));
                volume->uuid = g_strdup(lookup_string(properties, "Uuid"));
                volume->state = g_strdup(lookup_string(properties, "State"));
                volume->device = g_strdup(lookup_string(properties, "Device"));
                volume->snapshots =
                        g_ptr_array_new_with_free_func((GDestroyNotify)zuma_server_snapshot_free);
                g_ptr_array_add(volumes, volume);
                g_hash_table_insert(by_path, volume->path, volume);
        }
        g_variant_iter_init(&iter, objects);
        while (g_variant_iter_loop(&iter, "{&o@a{sa{sv}}}", &path, &interfaces)) {
                g_autoptr(GVariant) properties =
                        g_variant_lookup_value(interfaces, ZUMA_INTERFACE_SNAPSHOT, NULL);
                const char *volume_path = NULL;
                gboolean pinned = FALSE;
                gint32 priority = 0;
                ZumaServerVolume *volume;
                ZumaServerSnapshot *snapshot;

                if (!properties || !g_variant_lookup(properties, "Volume", "&o", &volume_path))
                        continue;
                volume = g_hash_table_lookup(by_path, volume_path);
                if (!volume)
                        continue;
                g_variant_lookup(properties, "Pinned", "b", &pinned);
                g_variant_lookup(properties, "Priority", "i", &priority);
                snapshot = zuma_server_snapshot_new(path, lookup_string(properties, "Name"), pinned,
                                                    priority);
                g_variant_lookup(properties, "CreationTime", "t", &snapshot->creation_time);
                g_variant_lookup(properties, "Id", "u", &snapshot->id);
                g_variant_lookup(properties, "Writable", "b", &snapshot->writable);
                g_free(snapshot->device);
                snapshot->device = g_strdup(lookup_string(properties, "Device"));
                g_ptr_array_add(volume->snapshots, snapshot);
        }
        return g_steal_pointer(&volumes);
}

ZumaServerVolume *zuma_server_find_volume(GPtrArray *volumes, const char *key, gboolean by_name)
{
        for (guint i = 0; i < volumes->len; i++) {
                ZumaServerVolume *volume = g_ptr_array_index(volumes, i);

                if (g_str_equal(by_name ? volume->name : volume->uuid, key))
                        return volume;
        }
        return NULL;
}

gboolean zuma_server_check_volume_argument(const char *volume, GError **error)
{
        if (g_uuid_string_is_valid(volume))
                return TRUE;
        return zuma_check_volume_name(volume, error);
}

gboolean zuma_server_resolve_volume(GDBusConnection *connection, const char *volume,
                                    char **ret_uuid, char **ret_name, GError **error)
{
        gboolean by_name = !g_uuid_string_is_valid(volume);
        g_autoptr(GPtrArray) volumes = NULL;
        g_autofree char *quoted = zuma_quote(volume);
        ZumaServerVolume *found;

        volumes = zuma_server_list_volumes(connection, error);
        if (!volumes)
                return FALSE;
        found = zuma_server_find_volume(volumes, volume, by_name);
        if (!found) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND,
                            "zuma-snapshotd has no volume %s", quoted);
                return FALSE;
        }
        if (!found->uuid[0]) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND,
                            "volume %s has no UUID yet: start it once first", quoted);
                return FALSE;
        }
        *ret_uuid = g_strdup(found->uuid);
        *ret_name = g_strdup(found->name);
        return TRUE;
}

gboolean zuma_server_create_snapshot(GDBusConnection *connection, const ZumaServerVolume *volume,
                                     const char *name, gint32 priority, int timeout_ms,
                                     char **ret_path, GError **error)
{
        g_autoptr(GVariant) reply = NULL;
        GVariantDict options;

        g_variant_dict_init(&options, NULL);
        g_variant_dict_insert(&options, "attach", "b", FALSE);
        g_variant_dict_insert(&options, "priority", "i", priority);
        reply = call(connection, volume->path, ZUMA_INTERFACE_VOLUME, "CreateSnapshot",
                     g_variant_new("(s@a{sv})", name, g_variant_dict_end(&options)), "(os)",
                     timeout_ms, error);
        if (!reply)
                return FALSE;
        g_variant_get(reply, "(os)", ret_path, NULL);
        return TRUE;
}

typedef struct {
        gboolean finished;
        gboolean success;
        char *message;
} JobOutcome;

static void on_job_completed(GDBusConnection *connection, const char *sender, const char *path,
                             const char *interface, const char *member, GVariant *params,
                             gpointer user_data)
{
        JobOutcome *outcome = user_data;

        if (!g_variant_is_of_type(params, G_VARIANT_TYPE("(bss)")) || outcome->finished)
                return;
        outcome->finished = TRUE;
        g_variant_get(params, "(bss)", &outcome->success, NULL, &outcome->message);
}

static gboolean on_job_deadline(gpointer user_data)
{
        gboolean *expired = user_data;

        *expired = TRUE;
        return G_SOURCE_REMOVE;
}

/* Waits in a private main context for the job's Completed, having asked
 * for its Finished property once subscribed (it may have finished before
 * the subscription).  A job gone from the bus has finished; its outcome
 * then shows in the next listing. */
static gboolean wait_for_job(GDBusConnection *connection, const char *job_path, GError **error)
{
        g_autoptr(GMainContext) context = g_main_context_new();
        g_autoptr(GVariant) finished = NULL;
        g_autoptr(GSource) deadline = NULL;
        JobOutcome outcome = { 0 };
        gboolean expired = FALSE;
        guint subscription;

        g_main_context_push_thread_default(context);
        subscription = g_dbus_connection_signal_subscribe(
                connection, ZUMA_SNAPSHOTD_BUS_NAME, ZUMA_INTERFACE_JOB, "Completed", job_path,
                NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_job_completed, &outcome, NULL);
        finished = g_dbus_connection_call_sync(
                connection, ZUMA_SNAPSHOTD_BUS_NAME, job_path, "org.freedesktop.DBus.Properties",
                "GetAll", g_variant_new("(s)", ZUMA_INTERFACE_JOB), G_VARIANT_TYPE("(a{sv})"),
                G_DBUS_CALL_FLAGS_NO_AUTO_START, ZUMA_SERVER_CALL_TIMEOUT_MS, NULL, NULL);
        if (!finished) {
                outcome.finished = TRUE;
                outcome.success = TRUE;
        } else {
                g_autoptr(GVariant) properties = g_variant_get_child_value(finished, 0);
                gboolean done = FALSE;

                if (g_variant_lookup(properties, "Finished", "b", &done) && done &&
                    !outcome.finished) {
                        outcome.finished = TRUE;
                        g_variant_lookup(properties, "Success", "b", &outcome.success);
                        g_variant_lookup(properties, "ErrorMessage", "s", &outcome.message);
                }
        }
        deadline = g_timeout_source_new(ZUMA_SERVER_CALL_TIMEOUT_MS);
        g_source_set_callback(deadline, on_job_deadline, &expired, NULL);
        g_source_attach(deadline, context);
        while (!outcome.finished && !expired)
                g_main_context_iteration(context, TRUE);
        g_source_destroy(deadline);
        g_dbus_connection_signal_unsubscribe(connection, subscription);
        g_main_context_pop_thread_default(context);

        if (!outcome.finished) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_TIMED_OUT,
                            "the deletion job %s did not finish in %d s", job_path,
                            ZUMA_SERVER_CALL_TIMEOUT_MS / 1000);
                return FALSE;
        }
        if (!outcome.success) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_FAILED, "the deletion job failed: %s",
                            outcome.message ? outcome.message : "(no message)");
                g_free(outcome.message);
                return FALSE;
        }
        g_free(outcome.message);
        return TRUE;
}

gboolean zuma_server_delete_snapshots(GDBusConnection *connection, const ZumaServerVolume *volume,
                                      const char *const *names, GError **error)
{
        g_autoptr(GVariant) reply = NULL;
        const char *job_path;

        reply = call(connection, volume->path, ZUMA_INTERFACE_VOLUME, "DeleteSnapshots",
                     g_variant_new("(^as@a{sv})", names, g_variant_new("a{sv}", NULL)), "(o)",
                     ZUMA_SERVER_CALL_TIMEOUT_MS, error);
        if (!reply)
                return FALSE;
        g_variant_get(reply, "(&o)", &job_path);
        return wait_for_job(connection, job_path, error);
}

gboolean zuma_server_attach_snapshot(GDBusConnection *connection, const char *snapshot_path,
                                     char **ret_device, GError **error)
{
        g_autoptr(GVariant) reply =
                call(connection, snapshot_path, ZUMA_INTERFACE_SNAPSHOT, "Attach",
                     g_variant_new("(@a{sv})", g_variant_new("a{sv}", NULL)), "(s)",
                     ZUMA_SERVER_CALL_TIMEOUT_MS, error);

        if (!reply)
                return FALSE;
        g_variant_get(reply, "(s)", ret_device);
        return TRUE;
}

gboolean zuma_server_set_priority(GDBusConnection *connection, const char *snapshot_path,
                                  gint32 priority, GError **error)
{
        g_autoptr(GVariant) reply =
                call(connection, snapshot_path, ZUMA_INTERFACE_SNAPSHOT, "SetPriority",
                     g_variant_new("(i@a{sv})", priority, g_variant_new("a{sv}", NULL)), "()",
                     ZUMA_SERVER_CALL_TIMEOUT_MS, error);

        return reply != NULL;
}
