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

GVariant *zuma_server_call(GDBusConnection *connection, const char *path, const char *interface,
                           const char *method, GVariant *params, const char *reply_type,
                           GUnixFDList *fds, int timeout_ms, GError **error)
{
        GError *local = NULL;
        GVariant *reply = g_dbus_connection_call_with_unix_fd_list_sync(
                connection, ZUMA_SNAPSHOTD_BUS_NAME, path, interface, method, params,
                reply_type ? G_VARIANT_TYPE(reply_type) : NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START,
                timeout_ms, fds, NULL, NULL, &local);

        if (!reply)
                explain_call_error(error, local);
        return reply;
}

static GVariant *call(GDBusConnection *connection, const char *path, const char *interface,
                      const char *method, GVariant *params, const char *reply_type, int timeout_ms,
                      GError **error)
{
        return zuma_server_call(connection, path, interface, method, params, reply_type, NULL,
                                timeout_ms, error);
}

static const char *lookup_string(GVariant *properties, const char *key)
{
        const char *value = "";

        g_variant_lookup(properties, key, "&s", &value);
        return value;
}

/* Volume.ListSnapshots into volume->snapshots.  A volume that stopped or
 * went away since ListVolumes has no snapshots to show: not an error. */
static gboolean list_snapshots(GDBusConnection *connection, ZumaServerVolume *volume,
                               GError **error)
{
        g_autoptr(GVariant) reply = NULL;
        g_autoptr(GVariantIter) snapshots = NULL;
        GError *local = NULL;
        const char *path, *name, *device;
        guint32 id;
        gboolean pinned, writable;
        gint32 priority;
        guint64 creation_time;

        reply = call(connection, volume->path, ZUMA_INTERFACE_VOLUME, "ListSnapshots",
                     g_variant_new("(a{sv})", NULL), "(a(ousbitbst))", ZUMA_SERVER_CALL_TIMEOUT_MS,
                     &local);
        if (!reply) {
                if (g_error_matches(local, ZUMA_ERROR, ZUMA_ERROR_NOT_RUNNING) ||
                    g_error_matches(local, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND) ||
                    g_error_matches(local, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT) ||
                    g_error_matches(local, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD)) {
                        g_error_free(local);
                        return TRUE;
                }
                g_propagate_error(error, local);
                return FALSE;
        }
        g_variant_get(reply, "(a(ousbitbst))", &snapshots);
        while (g_variant_iter_next(snapshots, "(&ou&sbitb&st)", &path, &id, &name, &pinned,
                                   &priority, &creation_time, &writable, &device, NULL)) {
                ZumaServerSnapshot *snapshot =
                        zuma_server_snapshot_new(path, name, pinned, priority);

                snapshot->id = id;
                snapshot->creation_time = creation_time;
                snapshot->writable = writable;
                g_free(snapshot->device);
                snapshot->device = g_strdup(device);
                g_ptr_array_add(volume->snapshots, snapshot);
        }
        return TRUE;
}

GPtrArray *zuma_server_list_volumes(GDBusConnection *connection, GError **error)
{
        g_autoptr(GVariant) reply = NULL;
        g_autoptr(GVariantIter) iter = NULL;
        g_autoptr(GPtrArray) volumes =
                g_ptr_array_new_with_free_func((GDestroyNotify)zuma_server_volume_free);
        const char *path;
        GVariant *properties;

        reply = call(connection, ZUMA_SNAPSHOTD_MANAGER_PATH, ZUMA_INTERFACE_MANAGER, "ListVolumes",
                     g_variant_new("(a{sv})", NULL), "(a{oa{sv}})", ZUMA_SERVER_CALL_TIMEOUT_MS,
                     error);
        if (!reply)
                return NULL;
        g_variant_get(reply, "(a{oa{sv}})", &iter);
        while (g_variant_iter_loop(iter, "{&o@a{sv}}", &path, &properties)) {
                ZumaServerVolume *volume = g_new0(ZumaServerVolume, 1);

                volume->path = g_strdup(path);
                volume->name = g_strdup(lookup_string(properties, "Name"));
                volume->uuid = g_strdup(lookup_string(properties, "Uuid"));
                volume->state = g_strdup(lookup_string(properties, "State"));
                volume->device = g_strdup(lookup_string(properties, "Device"));
                volume->snapshots =
                        g_ptr_array_new_with_free_func((GDestroyNotify)zuma_server_snapshot_free);
                g_ptr_array_add(volumes, volume);
        }
        for (guint i = 0; i < volumes->len; i++)
                if (!list_snapshots(connection, g_ptr_array_index(volumes, i), error))
                        return NULL;
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

ZumaServerSnapshot *zuma_server_find_snapshot(const ZumaServerVolume *volume, guint32 id)
{
        for (guint i = 0; i < volume->snapshots->len; i++) {
                ZumaServerSnapshot *snapshot = g_ptr_array_index(volume->snapshots, i);

                if (snapshot->id == id)
                        return snapshot;
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
        gboolean server_gone;
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

/* The server left the bus: its job will never complete. */
static void on_server_owner_changed(GDBusConnection *connection, const char *sender,
                                    const char *path, const char *interface, const char *member,
                                    GVariant *params, gpointer user_data)
{
        JobOutcome *outcome = user_data;
        const char *new_owner;

        if (!g_variant_is_of_type(params, G_VARIANT_TYPE("(sss)")))
                return;
        g_variant_get(params, "(&s&s&s)", NULL, NULL, &new_owner);
        if (!new_owner[0])
                outcome->server_gone = TRUE;
}

static gboolean on_job_deadline(gpointer user_data)
{
        gboolean *expired = user_data;

        *expired = TRUE;
        return G_SOURCE_REMOVE;
}

/* The job's object is gone from a server still on the bus: it finished. */
static gboolean job_gone(const GError *error)
{
        return g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT) ||
               g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_INTERFACE) ||
               g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD);
}

/* Waits in a private main context for the job's Completed, having asked
 * for its Finished property once subscribed (it may have finished before
 * the subscription).  A job gone from the bus has finished; its outcome
 * then shows in the next listing.  The server leaving the bus ends the
 * wait at once (NOT_RUNNING), not at the deadline. */
gboolean zuma_server_wait_job(GDBusConnection *connection, const char *job_path, const char *what,
                              int timeout_ms, GError **error)
{
        g_autoptr(GMainContext) context = g_main_context_new();
        g_autoptr(GVariant) finished = NULL;
        g_autoptr(GSource) deadline = NULL;
        g_autoptr(GError) get_error = NULL;
        JobOutcome outcome = { 0 };
        gboolean expired = FALSE;
        guint subscription, owner_subscription;

        g_main_context_push_thread_default(context);
        subscription = g_dbus_connection_signal_subscribe(
                connection, ZUMA_SNAPSHOTD_BUS_NAME, ZUMA_INTERFACE_JOB, "Completed", job_path,
                NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_job_completed, &outcome, NULL);
        owner_subscription = g_dbus_connection_signal_subscribe(
                connection, "org.freedesktop.DBus", "org.freedesktop.DBus", "NameOwnerChanged",
                "/org/freedesktop/DBus", ZUMA_SNAPSHOTD_BUS_NAME, G_DBUS_SIGNAL_FLAGS_NONE,
                on_server_owner_changed, &outcome, NULL);
        finished = g_dbus_connection_call_sync(
                connection, ZUMA_SNAPSHOTD_BUS_NAME, job_path, "org.freedesktop.DBus.Properties",
                "GetAll", g_variant_new("(s)", ZUMA_INTERFACE_JOB), G_VARIANT_TYPE("(a{sv})"),
                G_DBUS_CALL_FLAGS_NO_AUTO_START, ZUMA_SERVER_CALL_TIMEOUT_MS, NULL, &get_error);
        if (!finished && job_gone(get_error)) {
                outcome.finished = TRUE;
                outcome.success = TRUE;
        } else if (!finished) {
                /* No answer at all: the server left (or hangs). */
                outcome.server_gone = TRUE;
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
        deadline = g_timeout_source_new(timeout_ms);
        g_source_set_callback(deadline, on_job_deadline, &expired, NULL);
        g_source_attach(deadline, context);
        while (!outcome.finished && !outcome.server_gone && !expired)
                g_main_context_iteration(context, TRUE);
        g_source_destroy(deadline);
        g_dbus_connection_signal_unsubscribe(connection, subscription);
        g_dbus_connection_signal_unsubscribe(connection, owner_subscription);
        g_main_context_pop_thread_default(context);

        if (!outcome.finished && outcome.server_gone) {
                if (get_error)
                        g_dbus_error_strip_remote_error(get_error);
                if (get_error)
                        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_RUNNING,
                                    "zuma-snapshotd did not answer about the %s job %s: %s", what,
                                    job_path, get_error->message);
                else
                        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_RUNNING,
                                    "zuma-snapshotd left the bus before the %s job %s finished",
                                    what, job_path);
                return FALSE;
        }
        if (!outcome.finished) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_TIMED_OUT,
                            "the %s job %s did not finish in %d s", what, job_path,
                            timeout_ms / 1000);
                return FALSE;
        }
        if (!outcome.success) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_FAILED, "the %s job failed: %s", what,
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
        return zuma_server_wait_job(connection, job_path, "deletion", ZUMA_SERVER_CALL_TIMEOUT_MS,
                                    error);
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
