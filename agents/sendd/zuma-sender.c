/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-sendd"

#include "zuma-sender.h"

#include "zuma-config.h"
#include "zuma-error.h"
#include "zuma-job-registry.h"
#include "zuma-keyfile.h"
#include "zuma-method-table.h"
#include "zuma-name-rule.h"
#include "zuma-names.h"
#include "zuma-options.h"
#include "zuma-repl-tls.h"
#include "zuma-reply.h"
#include "zuma-schedule.h"
#include "zuma-send-generated.h"
#include "zuma-send-run.h"
#include "zuma-server-client.h"
#include "zuma-target.h"

#define MANAGER_PATH ZUMA_SENDD_OBJECT_ROOT "/Manager"
#define SENDER_KEY "zuma-sender"
#define RETRY_MAX_S 600
#define MAX_JOBS 64

typedef struct Entry {
        char *key; /* "UUID/NAME" */
        ZumaTarget *target;
        ZumaSendObjectSkeleton *object;
        ZumaSendTarget *iface;
        ZumaJob *job;   /* the replication run in progress (a ref), or NULL */
        gboolean again; /* a snapshot appeared during the run: one more after */
        guint timer;    /* the next periodic run or retry */
        guint failures; /* in a row, for the retry's back-off */
} Entry;

struct ZumaSender {
        GDBusConnection *connection;
        ZumaAuth *auth;
        char *state_dir;
        char *tls_cert, *tls_key, *ssh_config;
        guint timeout_s, retry_min_s;
        GTlsCertificate *identity;
        GHashTable *entries; /* key → Entry */
        GDBusObjectManagerServer *objects;
        ZumaJobRegistry *jobs;
        ZumaSendObjectSkeleton *manager_object;
        ZumaSendManager *manager_iface;
        ZumaMethodBinding *manager_binding;
        guint snapshot_subscription;
};

/* One run's data, shared by its job and its thread (each holds a ref):
 * a cancelled job ends at once, its thread when its I/O notices. */
typedef struct {
        gint refs;
        ZumaSender *sender;
        char *key;
        ZumaSendRun *run;
        gint thread_done;
        gint64 started_us;
        GDBusMethodInvocation *verify_call; /* Verify's, answered at the end */
} RunData;

static void schedule_next(ZumaSender *self, Entry *entry);

static RunData *run_data_ref(RunData *data)
{
        g_atomic_int_inc(&data->refs);
        return data;
}

static void run_data_unref(gpointer p)
{
        RunData *data = p;

        if (!g_atomic_int_dec_and_test(&data->refs))
                return;
        g_free(data->key);
        zuma_send_run_free(data->run);
        if (data->verify_call) {
                zuma_reply_error_literal(data->verify_call, ZUMA_ERROR_CANCELLED,
                                         "the verify was cancelled");
                g_object_unref(data->verify_call);
        }
        g_free(data);
}

static char *entry_key(const char *uuid, const char *name)
{
        return g_strconcat(uuid, "/", name, NULL);
}

static char *target_object_path(const char *uuid, const char *name)
{
        g_autofree char *joined = g_strconcat(uuid, "_", name, NULL);
        g_autofree char *escaped = g_dbus_escape_object_path(joined);

        return g_strconcat(ZUMA_SENDD_OBJECT_ROOT "/targets/", escaped, NULL);
}

static void entry_free(gpointer p)
{
        Entry *entry = p;

        if (entry->timer)
                g_source_remove(entry->timer);
        g_clear_object(&entry->job);
        zuma_target_free(entry->target);
        g_clear_object(&entry->object);
        g_clear_object(&entry->iface);
        g_free(entry->key);
        g_free(entry);
}

static void entry_publish(Entry *entry)
{
        const ZumaTarget *t = entry->target;

        zuma_send_target_set_volume(entry->iface, t->uuid);
        zuma_send_target_set_volume_name(entry->iface, t->volume_name);
        zuma_send_target_set_name(entry->iface, t->name);
        zuma_send_target_set_address(entry->iface, t->address);
        zuma_send_target_set_period(entry->iface, t->period);
        zuma_send_target_set_after_snapshot(entry->iface, t->after_snapshot);
        zuma_send_target_set_rate_limit(entry->iface, t->rate_limit);
        zuma_send_target_set_compress(entry->iface, t->compress);
        zuma_send_target_set_keep(entry->iface, t->keep);
        zuma_send_target_set_last_snapshot(entry->iface, t->last_snapshot ? t->last_snapshot : "");
        zuma_send_target_set_last_snapshot_time(entry->iface, t->last_snapshot_time);
        zuma_send_target_set_last_success(entry->iface, t->last_success);
        zuma_send_target_set_last_error(entry->iface, t->last_error ? t->last_error : "");
        if (!zuma_send_target_get_state(entry->iface))
                zuma_send_target_set_state(entry->iface,
                                           t->last_error && t->last_error[0] ? "failed" : "idle");
}

/* --- runs --- */

static gpointer run_thread(gpointer p)
{
        RunData *data = p;

        zuma_send_run(data->run);
        g_atomic_int_set(&data->thread_done, 1);
        run_data_unref(data);
        return NULL;
}

static gboolean run_step(ZumaJob *job, gpointer p, gboolean *ret_finished, GError **error)
{
        RunData *data = p;
        guint64 done, total, wire;
        Entry *entry;

        zuma_send_run_get_progress(data->run, &done, &total, &wire);
        zuma_job_set_progress(job, done, total);
        entry = g_hash_table_lookup(data->sender->entries, data->key);
        if (entry && entry->job == job) {
                zuma_send_target_set_bytes_pending(entry->iface, total > done ? total - done : 0);
                zuma_send_target_set_bytes_sent(entry->iface, wire);
        }
        if (!g_atomic_int_get(&data->thread_done))
                return TRUE;
        *ret_finished = TRUE;
        if (data->run->error) {
                g_propagate_error(error, g_error_copy(data->run->error));
                return FALSE;
        }
        return TRUE;
}

static void answer_verify(RunData *data, const GError *error)
{
        ZumaSendRun *run = data->run;
        GVariantDict result;

        if (!data->verify_call)
                return;
        if (error) {
                zuma_reply_gerror(data->verify_call, error);
        } else {
                g_variant_dict_init(&result, NULL);
                g_variant_dict_insert(&result, "snapshot", "s", run->sent);
                g_variant_dict_insert(&result, "local_digest", "s", run->local_digest);
                g_variant_dict_insert(&result, "remote_digest", "s",
                                      run->remote_digest ? run->remote_digest : "");
                g_variant_dict_insert(&result, "same", "b",
                                      g_strcmp0(run->local_digest, run->remote_digest) == 0);
                g_dbus_method_invocation_return_value(
                        data->verify_call, g_variant_new("(@a{sv})", g_variant_dict_end(&result)));
        }
        g_clear_object(&data->verify_call);
}

/* A replication run ended: the target's status, its file, its signal. */
static void record_outcome(ZumaSender *self, Entry *entry, RunData *data, const GError *error)
{
        ZumaTarget *t = entry->target;
        ZumaSendRun *run = data->run;
        g_autoptr(GError) save_error = NULL;
        double seconds = (double)(g_get_monotonic_time() - data->started_us) / G_USEC_PER_SEC;
        guint64 done, total, wire;

        zuma_send_run_get_progress(run, &done, &total, &wire);
        g_free(t->last_error);
        if (error) {
                t->last_error = g_strdup(error->message);
                entry->failures++;
                g_message("volume %s to %s: replication failed: %s", t->volume_name, t->name,
                          error->message);
        } else {
                t->last_error = NULL;
                entry->failures = 0;
                g_free(t->last_snapshot);
                t->last_snapshot = g_strdup(run->sent);
                t->last_snapshot_time = run->sent_ctime;
                t->last_success = g_get_real_time() / G_USEC_PER_SEC;
                g_message("volume %s to %s: %s %s (%" G_GUINT64_FORMAT
                          " bytes on the wire, %.1f s)",
                          t->volume_name, t->name, run->up_to_date ? "already holds" : "sent",
                          run->sent, wire, seconds);
        }
        if (!zuma_target_save(t, self->state_dir, &save_error))
                g_warning("volume %s to %s: cannot save the target's status: %s", t->volume_name,
                          t->name, save_error->message);
        zuma_send_target_set_state(entry->iface, error ? "failed" : "idle");
        zuma_send_target_set_bytes_pending(entry->iface, 0);
        zuma_send_target_set_bytes_sent(entry->iface, wire);
        entry_publish(entry);
        g_dbus_interface_skeleton_flush(G_DBUS_INTERFACE_SKELETON(entry->iface));
        if (error)
                zuma_send_target_emit_failed(entry->iface, error->message);
        else
                zuma_send_target_emit_finished(entry->iface, run->sent, wire, seconds);
}

static void start_replication(ZumaSender *self, Entry *entry, const char *snapshot, guint32 uid,
                              GError **error);

static void run_finish(ZumaJob *job, gpointer p, const GError *error)
{
        RunData *data = p;
        ZumaSender *self = data->sender;
        Entry *entry;

        /* Cancel, ForgetTarget, shutdown: the thread stops at its next wait. */
        if (!g_atomic_int_get(&data->thread_done))
                g_cancellable_cancel(data->run->cancellable);
        if (data->run->verify) {
                answer_verify(data, error);
                return;
        }
        entry = g_hash_table_lookup(self->entries, data->key);
        if (!entry || entry->job != job)
                return;
        g_clear_object(&entry->job);
        record_outcome(self, entry, data, error);
        if (entry->again && !error) {
                entry->again = FALSE;
                start_replication(self, entry, NULL, ZUMA_UID_UNKNOWN, NULL);
                return;
        }
        entry->again = FALSE;
        schedule_next(self, entry);
}

static const ZumaJobOps run_ops = {
        .step = run_step,
        .finish = run_finish,
        .free_data = run_data_unref,
        .step_interval_ms = ZUMA_JOB_WATCH_INTERVAL_MS,
};

/* verify_call: Verify's invocation (taken), answered when the run ends. */
static ZumaJob *start_run(ZumaSender *self, Entry *entry, gboolean verify, const char *snapshot,
                          guint32 uid, GDBusMethodInvocation *verify_call, GError **error)
{
        g_autofree char *path = target_object_path(entry->target->uuid, entry->target->name);
        const ZumaJobSpec spec = {
                .operation = verify ? "verify" : "replicate",
                .volume_path = path,
                .started_by_uid = uid,
                .cancelable = TRUE,
        };
        RunData *data;
        ZumaJob *job;

        if (!zuma_job_registry_check_limit(self->jobs, error))
                return NULL;
        data = g_new0(RunData, 1);
        data->refs = 1;
        data->sender = self;
        data->key = g_strdup(entry->key);
        data->run = zuma_send_run_new(self->connection, entry->target, self->identity);
        data->run->verify = verify;
        data->run->snapshot = g_strdup(snapshot);
        data->run->ssh_config = g_strdup(self->ssh_config);
        data->run->timeout_s = self->timeout_s;
        data->started_us = g_get_monotonic_time();
        data->verify_call = verify_call;
        job = zuma_job_registry_add(self->jobs, &spec, &run_ops, data);
        g_thread_unref(g_thread_new("zuma-send-run", run_thread, run_data_ref(data)));
        zuma_job_start(job);
        return job;
}

static void start_replication(ZumaSender *self, Entry *entry, const char *snapshot, guint32 uid,
                              GError **error)
{
        ZumaJob *job;

        if (entry->timer) {
                g_source_remove(entry->timer);
                entry->timer = 0;
        }
        job = start_run(self, entry, FALSE, snapshot, uid, NULL, error);
        if (!job) {
                schedule_next(self, entry);
                return;
        }
        entry->job = g_object_ref(job);
        zuma_send_target_set_state(entry->iface, "replicating");
        zuma_send_target_set_next_run(entry->iface, 0);
}

static gboolean on_timer(gpointer p)
{
        Entry *entry = p;
        ZumaSender *self = g_object_get_data(G_OBJECT(entry->iface), SENDER_KEY);

        entry->timer = 0;
        if (!entry->job)
                start_replication(self, entry, NULL, ZUMA_UID_UNKNOWN, NULL);
        return G_SOURCE_REMOVE;
}

/* After a run (or at load): a retry after failures, else the period. */
static void schedule_next(ZumaSender *self, Entry *entry)
{
        const ZumaTarget *t = entry->target;
        guint64 delay = 0;

        if (entry->timer) {
                g_source_remove(entry->timer);
                entry->timer = 0;
        }
        if (entry->failures > 0) {
                delay = (guint64)self->retry_min_s << MIN(entry->failures - 1, 10u);
                delay = MIN(delay, RETRY_MAX_S);
                if (t->period)
                        delay = MIN(delay, t->period);
        } else if (t->period) {
                delay = t->period;
        }
        zuma_send_target_set_next_run(
                entry->iface, delay ? g_get_real_time() / G_USEC_PER_SEC + (gint64)delay : 0);
        if (delay)
                entry->timer = g_timeout_add_seconds((guint)MIN(delay, G_MAXUINT), on_timer, entry);
}

/* zuma-snapshotd's SnapshotCreated: a new snapshot of some volume. */
static void on_snapshot_created(GDBusConnection *connection, const char *sender_name,
                                const char *path, const char *interface, const char *member,
                                GVariant *params, gpointer user_data)
{
        ZumaSender *self = user_data;
        g_autoptr(GPtrArray) volumes = NULL;
        const ZumaServerVolume *volume = NULL;
        GHashTableIter iter;
        gpointer value;

        volumes = zuma_server_list_volumes(self->connection, NULL);
        for (guint i = 0; volumes && i < volumes->len && !volume; i++) {
                const ZumaServerVolume *v = g_ptr_array_index(volumes, i);

                if (g_str_equal(v->path, path))
                        volume = v;
        }
        if (!volume)
                return;
        g_hash_table_iter_init(&iter, self->entries);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                Entry *entry = value;

                if (!entry->target->after_snapshot ||
                    g_ascii_strcasecmp(entry->target->uuid, volume->uuid) != 0)
                        continue;
                if (entry->job)
                        entry->again = TRUE;
                else
                        start_replication(self, entry, NULL, ZUMA_UID_UNKNOWN, NULL);
        }
}

/* --- the Manager --- */

static gboolean sender_alive(gpointer object, GError **error)
{
        return TRUE;
}

static void export_entry(ZumaSender *self, Entry *entry)
{
        g_autofree char *path = target_object_path(entry->target->uuid, entry->target->name);

        entry->object = zuma_send_object_skeleton_new(path);
        entry->iface = zuma_send_target_skeleton_new();
        g_object_set_data(G_OBJECT(entry->iface), SENDER_KEY, self);
        entry_publish(entry);
        zuma_send_object_skeleton_set_target(entry->object, entry->iface);
        g_hash_table_insert(self->entries, entry->key, entry);
        g_dbus_object_manager_server_export(self->objects, G_DBUS_OBJECT_SKELETON(entry->object));
}

static void unexport_entry(ZumaSender *self, Entry *entry)
{
        g_autofree char *path = target_object_path(entry->target->uuid, entry->target->name);

        if (entry->job) {
                /* Taken from the entry first: the run's end must not save
                 * the status of a target whose file is gone. */
                g_autoptr(ZumaJob) job = g_steal_pointer(&entry->job);
                g_autoptr(GError) gone = g_error_new_literal(ZUMA_ERROR, ZUMA_ERROR_CANCELLED,
                                                             "the target was forgotten");

                zuma_job_abort(job, gone);
        }
        g_dbus_object_manager_server_unexport(self->objects, path);
        g_hash_table_remove(self->entries, entry->key);
}

static gboolean check_file_option(const char *option, const char *path, GError **error)
{
        if (path && (!g_path_is_absolute(path) || !g_file_test(path, G_FILE_TEST_IS_REGULAR))) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "option \"%s\": %s is not an absolute path to a file", option, path);
                return FALSE;
        }
        return TRUE;
}

static gboolean check_keep(GVariant *keep, GError **error)
{
        GVariantIter iter;
        const char *class_;
        guint32 count;
        ZumaScheduleClass parsed;

        g_variant_iter_init(&iter, keep);
        while (g_variant_iter_next(&iter, "{&su}", &class_, &count)) {
                if (!zuma_schedule_class_from_name(class_, &parsed)) {
                        g_autofree char *quoted = zuma_quote(class_);

                        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                    "option \"keep\": %s is not a snapshot class (every, hourly, "
                                    "daily, weekly, monthly, yearly)",
                                    quoted);
                        return FALSE;
                }
        }
        return TRUE;
}

/* The options of DefineTarget into t (address and name already there). */
static gboolean parse_target_options(ZumaSender *self, GVariant *options, ZumaTarget *t,
                                     GError **error)
{
        g_autoptr(GVariant) keep = NULL;
        g_autofree char *pin = NULL;

        if (!zuma_options_parse(options, error, "period", "t", &t->period, "after_snapshot", "b",
                                &t->after_snapshot, "rate_limit", "t", &t->rate_limit, "compress",
                                "i", &t->compress, "keep", "@a{su}", &keep, "pin", "s", &pin, "ca",
                                "s", &t->ca, "ssh_key", "s", &t->ssh_key, "relay_command", "s",
                                &t->relay_command, NULL))
                return FALSE;
        if (t->compress < 0 || t->compress > 19) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "option \"compress\" must be 0..19, not %d", t->compress);
                return FALSE;
        }
        if (keep) {
                if (!check_keep(keep, error))
                        return FALSE;
                g_variant_unref(t->keep);
                t->keep = g_steal_pointer(&keep);
        }
        if (pin) {
                t->pin = zuma_tls_fingerprint_parse(pin, error);
                if (!t->pin) {
                        g_prefix_error(error, "option \"pin\": ");
                        return FALSE;
                }
        }
        if (!check_file_option("ca", t->ca, error) ||
            !check_file_option("ssh_key", t->ssh_key, error))
                return FALSE;
        if (!t->relay_command[0]) {
                g_set_error_literal(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                    "option \"relay_command\" is empty");
                return FALSE;
        }
        if (zuma_target_is_ssh(t)) {
                if (t->pin || t->ca) {
                        g_set_error_literal(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                            "options \"pin\" and \"ca\" are for TLS targets, not "
                                            "ssh:// ones (ssh checks the host's key)");
                        return FALSE;
                }
        } else {
                if (!t->pin == !t->ca) {
                        g_set_error_literal(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                            "a TLS target needs one of \"pin\" (the receiver's "
                                            "fingerprint, zumactl status on the receiving host) "
                                            "and \"ca\"");
                        return FALSE;
                }
                if (t->ssh_key) {
                        g_set_error_literal(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                            "option \"ssh_key\" is for ssh:// targets");
                        return FALSE;
                }
                if (!self->identity) {
                        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_FAILED,
                                    "this sender has no TLS identity (%s and %s): make one "
                                    "(zuma-sendd(8)) and restart zuma-sendd",
                                    self->tls_cert, self->tls_key);
                        return FALSE;
                }
        }
        return TRUE;
}

/* The host part of an address, the default target name. */
static char *default_name(const char *address)
{
        const char *rest = g_str_has_prefix(address, "ssh://") ? address + 6 : address;
        const char *at = strchr(rest, '@');
        g_autofree char *host = NULL;
        guint16 port;

        if (!zuma_repl_parse_address(at ? at + 1 : rest, ZUMA_REPL_DEFAULT_PORT, &host, &port,
                                     NULL))
                return NULL;
        return g_strdelimit(g_steal_pointer(&host), ":", '-');
}

static gboolean check_address(const char *address, GError **error)
{
        const char *rest = g_str_has_prefix(address, "ssh://") ? address + 6 : address;
        const char *at = strchr(rest, '@');
        g_autofree char *host = NULL;
        guint16 port;

        if (zuma_repl_parse_address(at ? at + 1 : rest, ZUMA_REPL_DEFAULT_PORT, &host, &port,
                                    error))
                return TRUE;
        g_prefix_error(error, "address: ");
        return FALSE;
}

static GVariant *define_target_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaSender *self = g_object_get_data(object, SENDER_KEY);
        const char *volume, *name, *address;
        g_autofree char *uuid = NULL, *volume_name = NULL, *chosen = NULL, *key = NULL;
        g_autoptr(ZumaTarget) t = NULL;
        Entry *entry;

        g_variant_get(call->params, "(&s&s&s@a{sv})", &volume, &name, &address, NULL);
        if (!check_address(address, error) || !zuma_server_check_volume_argument(volume, error))
                return NULL;
        chosen = name[0] ? g_strdup(name) : default_name(address);
        if (!chosen || !zuma_volume_name_valid(chosen)) {
                g_autofree char *quoted = zuma_quote(chosen ? chosen : name);

                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "target name %s is not valid (the rule of volume names)", quoted);
                return NULL;
        }
        if (!zuma_server_resolve_volume(self->connection, volume, &uuid, &volume_name, error))
                return NULL;
        t = zuma_target_new(uuid, volume_name, chosen, address);
        if (!parse_target_options(self, call->options, t, error))
                return NULL;
        key = entry_key(uuid, chosen);
        entry = g_hash_table_lookup(self->entries, key);
        if (entry) {
                /* The status stays with the target. */
                t->last_snapshot = g_strdup(entry->target->last_snapshot);
                t->last_snapshot_time = entry->target->last_snapshot_time;
                t->last_success = entry->target->last_success;
                t->last_error = g_strdup(entry->target->last_error);
        }
        if (!zuma_target_save(t, self->state_dir, error))
                return NULL;
        if (entry) {
                zuma_target_free(entry->target);
                entry->target = g_steal_pointer(&t);
                entry_publish(entry);
        } else {
                entry = g_new0(Entry, 1);
                entry->key = g_steal_pointer(&key);
                entry->target = g_steal_pointer(&t);
                export_entry(self, entry);
        }
        g_message("volume %s: target %s defined (%s)", volume_name, chosen, address);
        if (!entry->job)
                schedule_next(self, entry);
        return g_variant_new("(o)", g_dbus_object_get_object_path(G_DBUS_OBJECT(entry->object)));
}

/* The volume's target name ("" for its only one). */
static Entry *find_entry(ZumaSender *self, const char *volume, const char *name, GError **error)
{
        Entry *found = NULL;
        guint matches = 0;
        GHashTableIter iter;
        gpointer value;

        g_hash_table_iter_init(&iter, self->entries);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                Entry *entry = value;
                const ZumaTarget *t = entry->target;

                if (g_ascii_strcasecmp(t->uuid, volume) != 0 &&
                    !g_str_equal(t->volume_name, volume))
                        continue;
                if (name[0] && !g_str_equal(t->name, name))
                        continue;
                found = entry;
                matches++;
        }
        if (matches == 1)
                return found;
        if (matches == 0)
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND,
                            name[0] ? "volume %s has no target %s" : "volume %s has no target%s",
                            volume, name);
        else
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "volume %s has %u targets: name one", volume, matches);
        return NULL;
}

static GVariant *forget_target_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaSender *self = g_object_get_data(object, SENDER_KEY);
        const char *volume, *name;
        g_autofree char *file = NULL;
        Entry *entry;

        g_variant_get(call->params, "(&s&s@a{sv})", &volume, &name, NULL);
        if (!zuma_options_parse(call->options, error, NULL))
                return NULL;
        entry = find_entry(self, volume, name, error);
        if (!entry)
                return NULL;
        file = zuma_target_path(self->state_dir, entry->target->uuid, entry->target->name);
        if (!zuma_file_remove_durable(file, error))
                return NULL;
        g_message("volume %s: target %s forgotten", entry->target->volume_name,
                  entry->target->name);
        unexport_entry(self, entry);
        return g_variant_new("()");
}

/* Replicate's and Verify's arguments: the target, and the snapshot
 * option (*ret_snapshot NULL when not given). */
static Entry *run_request(ZumaSender *self, ZumaCall *call, char **ret_snapshot, GError **error)
{
        const char *volume, *name;

        g_variant_get(call->params, "(&s&s@a{sv})", &volume, &name, NULL);
        if (!zuma_options_parse(call->options, error, "snapshot", "s", ret_snapshot, NULL))
                return NULL;
        if (*ret_snapshot && !zuma_snapshot_name_valid(*ret_snapshot)) {
                g_set_error_literal(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                                    "option \"snapshot\" is not a valid snapshot name");
                return NULL;
        }
        return find_entry(self, volume, name, error);
}

static GVariant *replicate_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaSender *self = g_object_get_data(object, SENDER_KEY);
        g_autofree char *snapshot = NULL;
        Entry *entry = run_request(self, call, &snapshot, error);

        if (!entry)
                return NULL;
        if (!entry->job) {
                start_replication(self, entry, snapshot, call->uid, error);
                if (!entry->job)
                        return NULL;
        }
        return g_variant_new("(o)", zuma_job_get_object_path(entry->job));
}

static GVariant *verify_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaSender *self = g_object_get_data(object, SENDER_KEY);
        g_autofree char *snapshot = NULL;
        Entry *entry = run_request(self, call, &snapshot, error);

        if (!entry)
                return NULL;
        if (!call->invocation) {
                g_set_error_literal(error, ZUMA_ERROR, ZUMA_ERROR_NOT_SUPPORTED,
                                    "Verify answers on the bus only");
                return NULL;
        }
        if (!zuma_job_registry_check_limit(self->jobs, error))
                return NULL;
        /* Answered when the run ends (answer_verify). */
        start_run(self, entry, TRUE, snapshot, call->uid, zuma_call_defer(call), NULL);
        return NULL;
}

static const ZumaMethod manager_methods[] = {
        { "DefineTarget", "define replication targets", define_target_method },
        { "ForgetTarget", "forget replication targets", forget_target_method },
        { "Replicate", "replicate volumes", replicate_method },
        { "Verify", "verify replicas", verify_method },
};

static const ZumaMethodTable manager_table = {
        zuma_send_manager_interface_info,
        manager_methods,
        G_N_ELEMENTS(manager_methods),
        sender_alive,
};

/* --- life --- */

ZumaSender *zuma_sender_new(const ZumaSenderSetup *setup)
{
        ZumaSender *self = g_new0(ZumaSender, 1);

        self->connection = g_object_ref(setup->connection);
        self->auth = setup->auth ? g_object_ref(setup->auth) : NULL;
        self->state_dir = g_strdup(setup->state_dir);
        self->tls_cert = g_strdup(setup->tls_cert);
        self->tls_key = g_strdup(setup->tls_key);
        self->ssh_config = g_strdup(setup->ssh_config);
        self->timeout_s = setup->timeout_s;
        self->retry_min_s = MAX(setup->retry_min_s, 1u);
        self->entries = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, entry_free);
        return self;
}

static void load_identity(ZumaSender *self)
{
        g_autofree char *fingerprint = NULL;

        self->identity = zuma_tls_load_host_identity(self->tls_cert, self->tls_key,
                                                     "only ssh:// targets work", &fingerprint);
        zuma_send_manager_set_fingerprint(self->manager_iface, fingerprint);
}

static void load_targets(ZumaSender *self)
{
        g_autofree char *root = g_build_filename(self->state_dir, "targets", NULL);
        g_autoptr(GDir) volumes = g_dir_open(root, 0, NULL);
        const char *uuid;

        while (volumes && (uuid = g_dir_read_name(volumes))) {
                g_autofree char *dir_path = g_build_filename(root, uuid, NULL);
                g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
                const char *file;

                while (dir && (file = g_dir_read_name(dir))) {
                        g_autofree char *path = g_build_filename(dir_path, file, NULL);
                        g_autoptr(GError) error = NULL;
                        ZumaTarget *t;
                        Entry *entry;

                        if (!g_str_has_suffix(file, ".conf"))
                                continue;
                        t = zuma_target_load(path, &error);
                        if (!t) {
                                /* One damaged file must not stop the others. */
                                g_warning("%s: %s: skipped", path, error->message);
                                continue;
                        }
                        entry = g_new0(Entry, 1);
                        entry->key = entry_key(t->uuid, t->name);
                        entry->target = t;
                        if (t->last_error)
                                entry->failures = 1;
                        export_entry(self, entry);
                        schedule_next(self, entry);
                        g_message("volume %s: target %s loaded", t->volume_name, t->name);
                }
        }
}

gboolean zuma_sender_load(ZumaSender *self, GError **error)
{
        self->objects = g_dbus_object_manager_server_new(ZUMA_SENDD_OBJECT_ROOT);
        self->jobs =
                zuma_job_registry_new(self->objects, self->auth, ZUMA_SENDD_OBJECT_ROOT, MAX_JOBS);
        self->manager_object = zuma_send_object_skeleton_new(MANAGER_PATH);
        self->manager_iface = zuma_send_manager_skeleton_new();
        zuma_send_manager_set_version(self->manager_iface, ZUMA_VERSION);
        zuma_send_object_skeleton_set_manager(self->manager_object, self->manager_iface);
        g_object_set_data(G_OBJECT(self->manager_iface), SENDER_KEY, self);
        self->manager_binding = zuma_method_table_bind(
                &manager_table, G_DBUS_INTERFACE_SKELETON(self->manager_iface), self->auth,
                G_OBJECT(self->manager_iface));
        load_identity(self);
        load_targets(self);
        g_dbus_object_manager_server_export(self->objects,
                                            G_DBUS_OBJECT_SKELETON(self->manager_object));
        g_dbus_object_manager_server_set_connection(self->objects, self->connection);
        self->snapshot_subscription = g_dbus_connection_signal_subscribe(
                self->connection, ZUMA_SNAPSHOTD_BUS_NAME, ZUMA_INTERFACE_VOLUME, "SnapshotCreated",
                NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_snapshot_created, self, NULL);
        return TRUE;
}

char *zuma_sender_describe(ZumaSender *self)
{
        guint n = g_hash_table_size(self->entries);

        return g_strdup_printf("%u target%s, %u run%s", n, n == 1 ? "" : "s",
                               zuma_job_registry_get_running(self->jobs),
                               zuma_job_registry_get_running(self->jobs) == 1 ? "" : "s");
}

void zuma_sender_shutdown(ZumaSender *self)
{
        g_autoptr(GError) stopping =
                g_error_new_literal(ZUMA_ERROR, ZUMA_ERROR_CANCELLED, "zuma-sendd is stopping");

        if (self->snapshot_subscription) {
                g_dbus_connection_signal_unsubscribe(self->connection, self->snapshot_subscription);
                self->snapshot_subscription = 0;
        }
        if (self->jobs)
                zuma_job_registry_abort_all(self->jobs, stopping);
}

void zuma_sender_free(ZumaSender *self)
{
        if (!self)
                return;
        g_clear_pointer(&self->entries, g_hash_table_destroy);
        g_clear_pointer(&self->jobs, zuma_job_registry_free);
        g_clear_pointer(&self->manager_binding, zuma_method_binding_free);
        g_clear_object(&self->objects);
        g_clear_object(&self->manager_object);
        g_clear_object(&self->manager_iface);
        g_clear_object(&self->identity);
        g_clear_object(&self->auth);
        g_clear_object(&self->connection);
        g_free(self->state_dir);
        g_free(self->tls_cert);
        g_free(self->tls_key);
        g_free(self->ssh_config);
        g_free(self);
}
