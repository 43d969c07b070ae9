/* SPDX-License-Identifier: GPL-2.0-only */
/* What each event becomes: zuma-notifier.h; coalescing:
 * zuma-notify-coalesce.h; the texts: zuma-notify-message.h. */
#define G_LOG_DOMAIN "zuma-notifyd"

#include "zuma-notifier.h"

#include "zuma-bus-generated.h"
#include "zuma-names.h"
#include "zuma-notify-coalesce.h"
#include "zuma-notify-message.h"
#include "zuma-notify-post.h"
#include "zuma-recv-generated.h"
#include "zuma-scheduler-generated.h"
#include "zuma-send-generated.h"

#define KEY_TAKEN "taken/"
#define KEY_DELETED "deleted/"
#define KEY_SENT "sent/"         /* + the target's object path */
#define KEY_RECEIVED "received/" /* + the source's object path */

/* The agents followed, each through its generated object manager client. */
typedef enum { AGENT_SERVER, AGENT_SCHEDULER, AGENT_SENDER, AGENT_RECEIVER, N_AGENTS } Agent;

typedef GDBusObjectManager *(*ManagerNewSync)(GDBusConnection *connection,
                                              GDBusObjectManagerClientFlags flags, const char *name,
                                              const char *object_path, GCancellable *cancellable,
                                              GError **error);

static const struct {
        const char *program;
        const char *bus_name;
        const char *root;
        ManagerNewSync manager_new_sync;
} agents[N_AGENTS] = {
        [AGENT_SERVER] = { "zuma-snapshotd", ZUMA_SNAPSHOTD_BUS_NAME, ZUMA_SNAPSHOTD_OBJECT_ROOT,
                           zuma_bus_object_manager_client_new_sync },
        [AGENT_SCHEDULER] = { "zuma-schedulerd", ZUMA_SCHEDULERD_BUS_NAME,
                              ZUMA_SCHEDULERD_OBJECT_ROOT,
                              zuma_sched_object_manager_client_new_sync },
        [AGENT_SENDER] = { "zuma-sendd", ZUMA_SENDD_BUS_NAME, ZUMA_SENDD_OBJECT_ROOT,
                           zuma_send_object_manager_client_new_sync },
        [AGENT_RECEIVER] = { "zuma-recvd", ZUMA_RECVD_BUS_NAME, ZUMA_RECVD_OBJECT_ROOT,
                             zuma_recv_object_manager_client_new_sync },
};

struct ZumaNotifier {
        GDBusConnection *system;
        ZumaNotifyConfig config;
        ZumaCoalescer *coalescer;
        ZumaPoster *poster;
        GDBusObjectManager *managers[N_AGENTS]; /* each agent's objects */
        guint watches[N_AGENTS];
        GCancellable *cancellable;    /* property reads in flight */
        GHashTable *running;          /* volume object path -> name, last seen running */
        GHashTable *overdue;          /* volume UUIDs whose schedule is overdue */
        GHashTable *snapshot_failing; /* volume UUIDs told of a failed scheduled snapshot */
        GHashTable *send_failing;     /* target object paths told of a failed replication */
        GHashTable *receive_failing;  /* source object paths told of a failed receive */
        guint flush_id;
};

/* --- posting --- */

static gboolean enabled(ZumaNotifier *self, ZumaNotifyClass klass, const char *what)
{
        if (self->config.enabled[klass])
                return TRUE;
        g_debug("not telling of %s: [events] %s is off", what, zuma_notify_class_key(klass));
        return FALSE;
}

static void post(ZumaNotifier *self, ZumaNotifyClass klass, ZumaMessage *message)
{
        g_autoptr(ZumaMessage) owned = message;

        if (enabled(self, klass, message->summary))
                zuma_poster_post(self->poster, message, 0, NULL, NULL, NULL);
}

typedef struct {
        ZumaNotifier *notifier;
        char *key;
        guint generation;
} BatchPost;

static void batch_post_free(gpointer data)
{
        BatchPost *batch_post = data;

        g_free(batch_post->key);
        g_free(batch_post);
}

static void on_batch_posted(guint32 id, gpointer user_data)
{
        BatchPost *batch_post = user_data;

        if (id)
                zuma_coalescer_set_id(batch_post->notifier->coalescer, batch_post->key,
                                      batch_post->generation, id);
}

static ZumaMessage *batch_message(const ZumaBatch *batch, gint64 now_wall)
{
        if (g_str_has_prefix(batch->key, KEY_TAKEN))
                return zuma_message_taken(batch, now_wall);
        if (g_str_has_prefix(batch->key, KEY_SENT))
                return zuma_message_replicated(batch, now_wall);
        if (g_str_has_prefix(batch->key, KEY_RECEIVED))
                return zuma_message_received(batch, now_wall);
        return zuma_message_autodeleted(batch, now_wall);
}

static void post_batch(ZumaNotifier *self, ZumaBatch *batch, gint64 now)
{
        g_autoptr(ZumaMessage) message = batch_message(batch, g_get_real_time());
        BatchPost *batch_post = g_new0(BatchPost, 1);

        batch_post->notifier = self;
        batch_post->key = g_strdup(batch->key);
        batch_post->generation = batch->generation;
        zuma_coalescer_posted(self->coalescer, batch, now);
        zuma_poster_post(self->poster, message, batch->id, on_batch_posted, batch_post,
                         batch_post_free);
}

static void arm_flush(ZumaNotifier *self);

static gboolean on_flush(gpointer user_data)
{
        ZumaNotifier *self = user_data;
        gint64 now = g_get_monotonic_time();
        g_autoptr(GPtrArray) due = zuma_coalescer_take_due(self->coalescer, now);

        self->flush_id = 0;
        for (guint i = 0; i < due->len; i++)
                post_batch(self, due->pdata[i], now);
        arm_flush(self);
        return G_SOURCE_REMOVE;
}

static void arm_flush(ZumaNotifier *self)
{
        gint64 due = zuma_coalescer_next_due(self->coalescer);
        gint64 wait_ms;

        g_clear_handle_id(&self->flush_id, g_source_remove);
        if (due < 0)
                return;
        /* Rounded up: a timer a little early would find nothing due. */
        wait_ms = MAX(0, (due - g_get_monotonic_time() + 999) / 1000);
        self->flush_id = g_timeout_add((guint)MIN(wait_ms, G_MAXUINT), on_flush, self);
}

/* One event into the batch of key: posted now or held (the coalescer's
 * rules); peer, bytes and seconds for transfers only (NULL, 0, -1). */
static void coalesce_key(ZumaNotifier *self, ZumaNotifyClass klass, const char *key,
                         const char *volume, const char *name, const char *peer, guint64 bytes,
                         gdouble seconds)
{
        gint64 now = g_get_monotonic_time();
        ZumaBatch *batch;

        if (!enabled(self, klass, key))
                return;
        if (zuma_coalescer_add_transfer(self->coalescer, key, volume, name, peer, bytes, seconds,
                                        now, g_get_real_time(), &batch))
                post_batch(self, batch, now);
        else
                g_debug("%s: %s held (%u in this notification)", key, name, batch->count);
        arm_flush(self);
}

static void coalesce(ZumaNotifier *self, ZumaNotifyClass klass, const char *prefix,
                     const char *volume, const char *name)
{
        g_autofree char *key = g_strconcat(prefix, volume, NULL);

        coalesce_key(self, klass, key, volume, name, NULL, 0, -1);
}

static void on_server_gone(gpointer user_data)
{
        ZumaNotifier *self = user_data;

        zuma_coalescer_forget_ids(self->coalescer);
}

/* --- zuma-snapshotd --- */

static void note_volume_state(ZumaNotifier *self, ZumaBusVolume *volume, const char *path)
{
        const char *state = zuma_bus_volume_get_state(volume);

        if (g_strcmp0(state, "running") == 0)
                g_hash_table_replace(self->running, g_strdup(path),
                                     g_strdup(zuma_bus_volume_get_name(volume)));
        else
                g_hash_table_remove(self->running, path);
}

typedef struct {
        ZumaNotifier *notifier;
        char *volume;
        guint percent;
        gboolean rising;
} UsageEvent;

static void usage_event_free(UsageEvent *event)
{
        g_free(event->volume);
        g_free(event);
}

static void on_full_in(GObject *source, GAsyncResult *result, gpointer user_data)
{
        UsageEvent *event = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        g_autoptr(GVariant) value = NULL;
        gint64 full_in = -1;

        reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
                usage_event_free(event);
                return;
        }
        if (reply) {
                g_variant_get(reply, "(v)", &value);
                if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT64))
                        full_in = g_variant_get_int64(value);
        } else {
                /* A server without the property (older than the forecast)
                 * still gets its notification, without a forecast. */
                g_debug("no usage forecast for %s: %s", event->volume, error->message);
        }
        post(event->notifier, ZUMA_NOTIFY_USAGE,
             zuma_message_usage(event->volume, event->percent, event->rising, full_in));
        usage_event_free(event);
}

static void on_usage_threshold(ZumaNotifier *self, GDBusProxy *proxy, const char *volume,
                               guint percent, gboolean rising)
{
        UsageEvent *event;

        if (!enabled(self, ZUMA_NOTIFY_USAGE, "a usage threshold"))
                return;
        event = g_new0(UsageEvent, 1);
        event->notifier = self;
        event->volume = g_strdup(volume);
        event->percent = percent;
        event->rising = rising;
        /* Read now, not from the proxy's cache: the signal may come before
         * the PropertiesChanged of the same refresh. */
        g_dbus_connection_call(self->system, ZUMA_SNAPSHOTD_BUS_NAME,
                               g_dbus_proxy_get_object_path(proxy),
                               "org.freedesktop.DBus.Properties", "Get",
                               g_variant_new("(ss)", ZUMA_INTERFACE_VOLUME, "StoreFullInSeconds"),
                               G_VARIANT_TYPE("(v)"), G_DBUS_CALL_FLAGS_NO_AUTO_START, 5000,
                               self->cancellable, on_full_in, event);
}

static void on_volume_signal(ZumaNotifier *self, GDBusProxy *proxy, const char *signal_name,
                             GVariant *parameters)
{
        ZumaBusVolume *volume = ZUMA_BUS_VOLUME(proxy);
        const char *name = zuma_bus_volume_get_name(volume);
        const char *path = g_dbus_proxy_get_object_path(proxy);

        if (!name)
                return;
        if (g_str_equal(signal_name, "SnapshotCreated") &&
            g_variant_is_of_type(parameters, G_VARIANT_TYPE("(ous)"))) {
                const char *snapshot;

                g_variant_get(parameters, "(&ou&s)", NULL, NULL, &snapshot);
                coalesce(self, ZUMA_NOTIFY_SNAPSHOT_TAKEN, KEY_TAKEN, name, snapshot);
        } else if (g_str_equal(signal_name, "SnapshotDeleted") &&
                   g_variant_is_of_type(parameters, G_VARIANT_TYPE("(ouss)"))) {
                const char *snapshot, *reason;

                g_variant_get(parameters, "(&ou&s&s)", NULL, NULL, &snapshot, &reason);
                if (g_str_equal(reason, "store-full"))
                        coalesce(self, ZUMA_NOTIFY_SNAPSHOT_DELETED, KEY_DELETED, name, snapshot);
        } else if (g_str_equal(signal_name, "UsageThreshold") &&
                   g_variant_is_of_type(parameters, G_VARIANT_TYPE("(ub)"))) {
                guint32 percent;
                gboolean rising;

                g_variant_get(parameters, "(ub)", &percent, &rising);
                on_usage_threshold(self, proxy, name, percent, rising);
        } else if (g_str_equal(signal_name, "Failed") &&
                   g_variant_is_of_type(parameters, G_VARIANT_TYPE("(s)"))) {
                const char *message;

                g_variant_get(parameters, "(&s)", &message);
                post(self, ZUMA_NOTIFY_FAILURE, zuma_message_failed(name, message));
        } else if (g_str_equal(signal_name, "Stopped") &&
                   g_variant_is_of_type(parameters, G_VARIANT_TYPE("(s)"))) {
                const char *reason;

                g_variant_get(parameters, "(&s)", &reason);
                g_hash_table_remove(self->running, path);
                if (!g_str_equal(reason, "requested") && !g_str_equal(reason, "failed") &&
                    !g_str_equal(reason, "shutdown"))
                        post(self, ZUMA_NOTIFY_FAILURE, zuma_message_stopped(name, reason));
        } else if (g_str_equal(signal_name, "Started")) {
                g_hash_table_replace(self->running, g_strdup(path), g_strdup(name));
        }
}

/* --- zuma-schedulerd --- */

static void check_overdue(ZumaNotifier *self, ZumaSchedSchedule *schedule)
{
        const char *uuid = zuma_sched_schedule_get_volume_uuid(schedule);
        gboolean was;

        if (!uuid || !*uuid)
                return;
        was = g_hash_table_contains(self->overdue, uuid);
        if (!zuma_sched_schedule_get_overdue(schedule)) {
                g_hash_table_remove(self->overdue, uuid);
                return;
        }
        if (was)
                return;
        g_hash_table_add(self->overdue, g_strdup(uuid));
        post(self, ZUMA_NOTIFY_MISSED,
             zuma_message_missed(zuma_sched_schedule_get_volume_name(schedule),
                                 zuma_sched_schedule_get_newest_age(schedule),
                                 zuma_sched_schedule_get_last_error(schedule)));
}

static void on_schedule_signal(ZumaNotifier *self, ZumaSchedSchedule *schedule,
                               const char *signal_name, GVariant *parameters)
{
        const char *volume = zuma_sched_schedule_get_volume_name(schedule);
        const char *uuid, *name, *message;

        if (g_str_equal(signal_name, "SnapshotTaken") &&
            g_variant_is_of_type(parameters, G_VARIANT_TYPE("(ssas)"))) {
                g_variant_get(parameters, "(&s&s@as)", &uuid, NULL, NULL);
                g_hash_table_remove(self->snapshot_failing, uuid);
        } else if (g_str_equal(signal_name, "SnapshotFailed") &&
                   g_variant_is_of_type(parameters, G_VARIANT_TYPE("(sss)"))) {
                g_variant_get(parameters, "(&s&s&s)", &uuid, &name, &message);
                if (!g_hash_table_add(self->snapshot_failing, g_strdup(uuid)))
                        return;
                post(self, ZUMA_NOTIFY_MISSED,
                     zuma_message_snapshot_failed(volume ? volume : uuid, name, message));
        } else if (g_str_equal(signal_name, "CommandFailed") &&
                   g_variant_is_of_type(parameters, G_VARIANT_TYPE("(sss)"))) {
                g_variant_get(parameters, "(&s&s&s)", &uuid, &name, &message);
                post(self, ZUMA_NOTIFY_COMMAND,
                     zuma_message_command_failed(volume ? volume : uuid, name, message));
        }
}

/* --- zuma-sendd and zuma-recvd --- */

/* A failure is told once; failing (send_failing or receive_failing) keeps
 * the object paths told until their next success, however often the
 * agent retries in between. */
static void on_target_signal(ZumaNotifier *self, ZumaSendTarget *target, const char *path,
                             const char *signal_name, GVariant *parameters)
{
        const char *volume = zuma_send_target_get_volume_name(target);
        const char *name = zuma_send_target_get_name(target);
        g_autofree char *key = NULL;
        const char *snapshot, *message;
        guint64 bytes;
        gdouble seconds;

        if (!volume || !name)
                return;
        if (g_str_equal(signal_name, "Finished") &&
            g_variant_is_of_type(parameters, G_VARIANT_TYPE("(std)"))) {
                g_variant_get(parameters, "(&std)", &snapshot, &bytes, &seconds);
                g_hash_table_remove(self->send_failing, path);
                key = g_strconcat(KEY_SENT, path, NULL);
                coalesce_key(self, ZUMA_NOTIFY_REPLICATION, key, volume, snapshot, name, bytes,
                             seconds);
        } else if (g_str_equal(signal_name, "Failed") &&
                   g_variant_is_of_type(parameters, G_VARIANT_TYPE("(s)"))) {
                g_variant_get(parameters, "(&s)", &message);
                if (!g_hash_table_add(self->send_failing, g_strdup(path))) {
                        g_debug("%s to %s failed again: told already", volume, name);
                        return;
                }
                post(self, ZUMA_NOTIFY_REPLICATION_FAILURE,
                     zuma_message_replication_failed(volume, name, message));
        }
}

static void on_source_signal(ZumaNotifier *self, ZumaRecvSource *source, const char *path,
                             const char *signal_name, GVariant *parameters)
{
        const char *volume = zuma_recv_source_get_volume_name(source);
        g_autofree char *key = NULL;
        const char *snapshot, *message;
        guint64 bytes;

        if (!volume)
                return;
        if (g_str_equal(signal_name, "Received") &&
            g_variant_is_of_type(parameters, G_VARIANT_TYPE("(st)"))) {
                g_variant_get(parameters, "(&st)", &snapshot, &bytes);
                g_hash_table_remove(self->receive_failing, path);
                key = g_strconcat(KEY_RECEIVED, path, NULL);
                coalesce_key(self, ZUMA_NOTIFY_REPLICATION, key, volume, snapshot,
                             zuma_recv_source_get_peer(source), bytes, -1);
        } else if (g_str_equal(signal_name, "Failed") &&
                   g_variant_is_of_type(parameters, G_VARIANT_TYPE("(s)"))) {
                g_variant_get(parameters, "(&s)", &message);
                if (!g_hash_table_add(self->receive_failing, g_strdup(path))) {
                        g_debug("receiving %s failed again: told already", volume);
                        return;
                }
                post(self, ZUMA_NOTIFY_REPLICATION_FAILURE,
                     zuma_message_receive_failed(volume, message));
        }
}

/* --- every object manager --- */

static void on_interface_signal(GDBusObjectManagerClient *manager, GDBusObjectProxy *object,
                                GDBusProxy *interface, const char *sender, const char *signal_name,
                                GVariant *parameters, gpointer user_data)
{
        ZumaNotifier *self = user_data;

        g_debug("%s %s.%s from %s", g_dbus_proxy_get_object_path(interface),
                g_dbus_proxy_get_interface_name(interface), signal_name, sender);
        if (ZUMA_BUS_IS_VOLUME(interface))
                on_volume_signal(self, interface, signal_name, parameters);
        else if (ZUMA_SCHED_IS_SCHEDULE(interface))
                on_schedule_signal(self, ZUMA_SCHED_SCHEDULE(interface), signal_name, parameters);
        else if (ZUMA_SEND_IS_TARGET(interface))
                on_target_signal(self, ZUMA_SEND_TARGET(interface),
                                 g_dbus_proxy_get_object_path(interface), signal_name, parameters);
        else if (ZUMA_RECV_IS_SOURCE(interface))
                on_source_signal(self, ZUMA_RECV_SOURCE(interface),
                                 g_dbus_proxy_get_object_path(interface), signal_name, parameters);
}

static void on_properties_changed(GDBusObjectManagerClient *manager, GDBusObjectProxy *object,
                                  GDBusProxy *interface, GVariant *changed,
                                  const char *const *invalidated, gpointer user_data)
{
        ZumaNotifier *self = user_data;

        if (ZUMA_BUS_IS_VOLUME(interface) && g_variant_lookup(changed, "State", "&s", NULL))
                note_volume_state(self, ZUMA_BUS_VOLUME(interface),
                                  g_dbus_proxy_get_object_path(interface));
        else if (ZUMA_SCHED_IS_SCHEDULE(interface) &&
                 g_variant_lookup(changed, "Overdue", "b", NULL))
                check_overdue(self, ZUMA_SCHED_SCHEDULE(interface));
}

static void look_at_object(ZumaNotifier *self, GDBusObject *object)
{
        g_autoptr(GDBusInterface) volume =
                g_dbus_object_get_interface(object, ZUMA_INTERFACE_VOLUME);
        g_autoptr(GDBusInterface) schedule =
                g_dbus_object_get_interface(object, ZUMA_SCHEDULERD_BUS_NAME ".Schedule");

        if (volume && ZUMA_BUS_IS_VOLUME(volume))
                note_volume_state(self, ZUMA_BUS_VOLUME(volume),
                                  g_dbus_object_get_object_path(object));
        if (schedule && ZUMA_SCHED_IS_SCHEDULE(schedule))
                check_overdue(self, ZUMA_SCHED_SCHEDULE(schedule));
}

static void on_object_added(GDBusObjectManager *manager, GDBusObject *object, gpointer user_data)
{
        look_at_object(user_data, object);
}

/* A target or source forgotten (not one whose agent left: its objects go
 * too, but a restarted agent's failing target is still failing). */
static void on_object_removed(GDBusObjectManager *manager, GDBusObject *object, gpointer user_data)
{
        ZumaNotifier *self = user_data;
        const char *path = g_dbus_object_get_object_path(object);
        g_autofree char *owner =
                g_dbus_object_manager_client_get_name_owner(G_DBUS_OBJECT_MANAGER_CLIENT(manager));

        if (!owner)
                return;
        g_hash_table_remove(self->send_failing, path);
        g_hash_table_remove(self->receive_failing, path);
}

static void follow(ZumaNotifier *self, GDBusObjectManager *manager)
{
        GList *objects = g_dbus_object_manager_get_objects(manager);

        g_signal_connect(manager, "interface-proxy-signal", G_CALLBACK(on_interface_signal), self);
        g_signal_connect(manager, "interface-proxy-properties-changed",
                         G_CALLBACK(on_properties_changed), self);
        g_signal_connect(manager, "object-added", G_CALLBACK(on_object_added), self);
        g_signal_connect(manager, "object-removed", G_CALLBACK(on_object_removed), self);
        for (GList *l = objects; l; l = l->next)
                look_at_object(self, l->data);
        g_list_free_full(objects, g_object_unref);
}

/* --- the agents' names --- */

static void on_agent_appeared(GDBusConnection *connection, const char *name, const char *owner,
                              gpointer user_data)
{
        g_message("%s is on the system bus (%s)", name, owner);
}

static void on_agent_vanished(GDBusConnection *connection, const char *name, gpointer user_data)
{
        g_message("%s is not on the system bus", name);
}

static void on_server_vanished(GDBusConnection *connection, const char *name, gpointer user_data)
{
        ZumaNotifier *self = user_data;
        g_autoptr(GPtrArray) volumes = g_ptr_array_new_with_free_func(g_free);
        GHashTableIter iter;
        gpointer volume;

        g_message("%s is not on the system bus", name);
        g_hash_table_iter_init(&iter, self->running);
        while (g_hash_table_iter_next(&iter, NULL, &volume))
                g_ptr_array_add(volumes, g_strdup(volume));
        g_hash_table_remove_all(self->running);
        if (volumes->len == 0)
                return;
        g_ptr_array_sort(volumes, (GCompareFunc)g_strcmp0);
        g_ptr_array_add(volumes, NULL);
        post(self, ZUMA_NOTIFY_FAILURE,
             zuma_message_server_gone((const char *const *)volumes->pdata));
}

ZumaNotifier *zuma_notifier_new(GDBusConnection *system, GDBusConnection *session,
                                const ZumaNotifyConfig *config, GError **error)
{
        GDBusObjectManager *managers[N_AGENTS] = { NULL };
        ZumaNotifier *self;

        /* Without the agents on the bus, each is empty until it comes. */
        for (guint i = 0; i < N_AGENTS; i++) {
                managers[i] = agents[i].manager_new_sync(
                        system, G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_DO_NOT_AUTO_START,
                        agents[i].bus_name, agents[i].root, NULL, error);
                if (!managers[i]) {
                        for (guint j = 0; j < i; j++)
                                g_object_unref(managers[j]);
                        return NULL;
                }
        }

        self = g_new0(ZumaNotifier, 1);
        self->system = g_object_ref(system);
        self->config = *config;
        self->coalescer = zuma_coalescer_new(config->window_seconds, config->batch_seconds);
        self->poster = zuma_poster_new(session, on_server_gone, self);
        self->cancellable = g_cancellable_new();
        self->running = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        self->overdue = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        self->snapshot_failing = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        self->send_failing = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        self->receive_failing = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        for (guint i = 0; i < N_AGENTS; i++) {
                self->managers[i] = managers[i];
                follow(self, self->managers[i]);
                self->watches[i] = g_bus_watch_name_on_connection(
                        system, agents[i].bus_name, G_BUS_NAME_WATCHER_FLAGS_NONE,
                        on_agent_appeared,
                        i == AGENT_SERVER ? on_server_vanished : on_agent_vanished, self, NULL);
        }
        return self;
}

void zuma_notifier_free(ZumaNotifier *self)
{
        if (!self)
                return;
        g_cancellable_cancel(self->cancellable);
        g_clear_handle_id(&self->flush_id, g_source_remove);
        for (guint i = 0; i < N_AGENTS; i++) {
                g_bus_unwatch_name(self->watches[i]);
                g_signal_handlers_disconnect_by_data(self->managers[i], self);
                g_object_unref(self->managers[i]);
        }
        zuma_poster_free(self->poster);
        zuma_coalescer_free(self->coalescer);
        g_object_unref(self->cancellable);
        g_hash_table_destroy(self->running);
        g_hash_table_destroy(self->overdue);
        g_hash_table_destroy(self->snapshot_failing);
        g_hash_table_destroy(self->send_failing);
        g_hash_table_destroy(self->receive_failing);
        g_object_unref(self->system);
        g_free(self);
}

char *zuma_notifier_describe(ZumaNotifier *self)
{
        GString *text = g_string_new(NULL);

        for (guint i = 0; i < N_AGENTS; i++) {
                g_autofree char *owner = g_dbus_object_manager_client_get_name_owner(
                        G_DBUS_OBJECT_MANAGER_CLIENT(self->managers[i]));

                g_string_append_printf(text, "%s%s %s", i ? ", " : "", agents[i].program,
                                       owner ? "on the bus" : "away");
                if (i == AGENT_SERVER)
                        g_string_append_printf(text, " (%u volumes running)",
                                               g_hash_table_size(self->running));
        }
        return g_string_free(text, FALSE);
}
