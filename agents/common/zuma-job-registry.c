/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-job"

#include "zuma-job-registry.h"

#include "zuma-error.h"

struct ZumaJobRegistry {
        GDBusObjectManagerServer *server;
        ZumaAuth *auth;
        char *jobs_path;
        guint max_running;
        guint linger_s;
        GHashTable *jobs; /* object path → Entry: running or lingering */
        guint64 next_job;
        guint running;
};

typedef struct Entry {
        ZumaJobRegistry *registry;
        ZumaJob *job;
        guint linger_id;
        gulong completed_id;
} Entry;

static void entry_free(gpointer data)
{
        Entry *entry = data;

        g_clear_handle_id(&entry->linger_id, g_source_remove);
        g_clear_signal_handler(&entry->completed_id, entry->job);
        g_object_unref(entry->job);
        g_free(entry);
}

ZumaJobRegistry *zuma_job_registry_new(GDBusObjectManagerServer *server, ZumaAuth *auth,
                                       const char *object_root, guint max_running)
{
        ZumaJobRegistry *self = g_new0(ZumaJobRegistry, 1);

        self->server = g_object_ref(server);
        self->auth = g_object_ref(auth);
        self->jobs_path = g_strdup_printf("%s/jobs", object_root);
        self->max_running = max_running;
        self->linger_s = ZUMA_JOB_LINGER_S;
        self->jobs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, entry_free);
        return self;
}

void zuma_job_registry_free(ZumaJobRegistry *self)
{
        GHashTableIter iter;
        gpointer key;

        g_hash_table_iter_init(&iter, self->jobs);
        while (g_hash_table_iter_next(&iter, &key, NULL))
                g_dbus_object_manager_server_unexport(self->server, key);
        g_hash_table_unref(self->jobs);
        g_object_unref(self->server);
        g_object_unref(self->auth);
        g_free(self->jobs_path);
        g_free(self);
}

void zuma_job_registry_set_linger(ZumaJobRegistry *self, guint seconds)
{
        self->linger_s = seconds;
}

guint zuma_job_registry_get_running(ZumaJobRegistry *self)
{
        return self->running;
}

guint zuma_job_registry_get_exported(ZumaJobRegistry *self)
{
        return g_hash_table_size(self->jobs);
}

gboolean zuma_job_registry_check_limit(ZumaJobRegistry *self, GError **error)
{
        if (self->running < self->max_running)
                return TRUE;
        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_LIMIT_EXCEEDED,
                    "%u jobs are running, the most this server allows; retry when one is done",
                    self->running);
        return FALSE;
}

static gboolean on_linger_done(gpointer user_data)
{
        Entry *entry = user_data;
        ZumaJobRegistry *self = entry->registry;
        g_autofree char *path = g_strdup(zuma_job_get_object_path(entry->job));

        entry->linger_id = 0;
        g_debug("job %s leaves the bus", path);
        g_dbus_object_manager_server_unexport(self->server, path);
        g_hash_table_remove(self->jobs, path);
        return G_SOURCE_REMOVE;
}

static void on_job_completed(ZumaJob *job, Entry *entry)
{
        ZumaJobRegistry *self = entry->registry;

        g_clear_signal_handler(&entry->completed_id, entry->job);
        self->running--;
        entry->linger_id = g_timeout_add_seconds(self->linger_s, on_linger_done, entry);
}

ZumaJob *zuma_job_registry_add(ZumaJobRegistry *self, const ZumaJobSpec *spec,
                               const ZumaJobOps *ops, gpointer data)
{
        g_autofree char *path =
                g_strdup_printf("%s/%" G_GUINT64_FORMAT, self->jobs_path, ++self->next_job);
        ZumaJob *job = zuma_job_new(self->auth, path, spec, ops, data);
        Entry *entry = g_new0(Entry, 1);

        entry->registry = self;
        entry->job = g_object_ref(job);
        entry->completed_id =
                g_signal_connect(job, "completed", G_CALLBACK(on_job_completed), entry);
        g_hash_table_insert(self->jobs, g_strdup(path), entry);
        self->running++;
        g_dbus_object_manager_server_export(self->server, zuma_job_get_object(job));
        return job;
}

void zuma_job_registry_abort_all(ZumaJobRegistry *self, const GError *error)
{
        g_autoptr(GPtrArray) running = g_ptr_array_new_with_free_func(g_object_unref);
        GHashTableIter iter;
        gpointer value;

        g_hash_table_iter_init(&iter, self->jobs);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                Entry *entry = value;

                if (!zuma_job_is_finished(entry->job))
                        g_ptr_array_add(running, g_object_ref(entry->job));
        }
        /* Aborting emits completed, which changes the table. */
        for (guint i = 0; i < running->len; i++)
                zuma_job_abort(running->pdata[i], error);
}
