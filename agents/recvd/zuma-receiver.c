/* SPDX-License-Identifier: GPL-2.0-only */
#define G_LOG_DOMAIN "zuma-recvd"

#include "zuma-receiver.h"

#include <errno.h>
#include <gio/gunixsocketaddress.h>
#include <sys/stat.h>

#include "zuma-config.h"
#include "zuma-error.h"
#include "zuma-keyfile.h"
#include "zuma-method-table.h"
#include "zuma-names.h"
#include "zuma-options.h"
#include "zuma-recv-generated.h"
#include "zuma-repl-tls.h"
#include "zuma-server-client.h"

#define MANAGER_PATH ZUMA_RECVD_OBJECT_ROOT "/Manager"
#define RECEIVER_KEY "zuma-receiver"
#define DEFAULT_LISTEN "0.0.0.0:7890"
#define MAX_SESSIONS 32

typedef struct {
        ZumaSource *source; /* guarded by the receiver's lock */
        ZumaRecvObjectSkeleton *object;
        ZumaRecvSource *iface;
} Entry;

struct ZumaReceiver {
        GDBusConnection *connection;
        ZumaAuth *auth;
        char *state_dir, *run_dir;
        char *tls_cert, *tls_key;
        guint timeout_s;
        GTlsCertificate *identity; /* NULL: no TLS identity, relay only */

        GMutex lock;          /* guards entries' sources, sessions */
        GHashTable *entries;  /* uuid → Entry */
        GHashTable *services; /* listen address → GSocketService */
        GSocketService *relay;
        char *relay_path;
        GPtrArray *sessions; /* of ZumaReceiveSession, running */
        GCond sessions_done;

        GDBusObjectManagerServer *objects;
        ZumaRecvObjectSkeleton *manager_object;
        ZumaRecvManager *manager_iface;
        ZumaMethodBinding *manager_binding;
};

static void entry_free(gpointer data)
{
        Entry *entry = data;

        zuma_source_free(entry->source);
        g_clear_object(&entry->object);
        g_clear_object(&entry->iface);
        g_free(entry);
}

static char *source_path(const char *uuid)
{
        g_autofree char *escaped = g_dbus_escape_object_path(uuid);

        return g_strconcat(ZUMA_RECVD_OBJECT_ROOT "/sources/", escaped, NULL);
}

/* The Source object's properties from entry->source (main thread). */
static void entry_publish(Entry *entry)
{
        const ZumaSource *s = entry->source;

        zuma_recv_source_set_volume(entry->iface, s->uuid);
        zuma_recv_source_set_volume_name(entry->iface, s->volume_name);
        zuma_recv_source_set_listen(entry->iface, s->listen);
        zuma_recv_source_set_allow(entry->iface, (const char *const *)s->allow);
        zuma_recv_source_set_last_snapshot(entry->iface, s->last_snapshot ? s->last_snapshot : "");
        zuma_recv_source_set_last_snapshot_time(entry->iface, s->last_snapshot_time);
        zuma_recv_source_set_last_received(entry->iface, s->last_received);
        zuma_recv_source_set_last_error(entry->iface, s->last_error ? s->last_error : "");
        if (!zuma_recv_source_get_state(entry->iface))
                zuma_recv_source_set_state(entry->iface, "idle");
}

/* --- listening --- */

static gpointer session_thread(gpointer data);

typedef struct {
        ZumaReceiver *receiver;
        GSocketConnection *connection;
        gboolean relay;
} Accepted;

static gboolean on_incoming(GSocketService *service, GSocketConnection *connection,
                            GObject *source_object, gpointer user_data)
{
        ZumaReceiver *self = user_data;
        gboolean relay = service == self->relay;
        Accepted *accepted;

        g_mutex_lock(&self->lock);
        if (self->sessions->len >= MAX_SESSIONS) {
                g_mutex_unlock(&self->lock);
                g_warning("%u sessions running: a connection is refused", MAX_SESSIONS);
                return TRUE; /* closed when the connection is unreffed */
        }
        g_mutex_unlock(&self->lock);
        if (relay) {
                g_autoptr(GCredentials) peer =
                        g_socket_get_credentials(g_socket_connection_get_socket(connection), NULL);

                if (!peer || g_credentials_get_unix_user(peer, NULL) != 0) {
                        g_warning("relay socket: a connection not from root is refused");
                        return TRUE;
                }
        }
        accepted = g_new0(Accepted, 1);
        accepted->receiver = self;
        accepted->connection = g_object_ref(connection);
        accepted->relay = relay;
        g_thread_unref(g_thread_new("zuma-recv-session", session_thread, accepted));
        return TRUE;
}

static GSocketService *listen_on(ZumaReceiver *self, const char *listen, GError **error)
{
        g_autoptr(GSocketConnectable) parsed = NULL;
        g_autoptr(GInetAddress) address = NULL;
        g_autoptr(GSocketAddress) socket_address = NULL;
        g_autoptr(GSocketService) service = NULL;
        const char *host;

        parsed = g_network_address_parse(listen, ZUMA_REPL_DEFAULT_PORT, error);
        if (!parsed)
                return NULL;
        host = g_network_address_get_hostname(G_NETWORK_ADDRESS(parsed));
        address = g_inet_address_new_from_string(host);
        if (!address) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "listen address %s: %s is not an IP address", listen, host);
                return NULL;
        }
        socket_address = g_inet_socket_address_new(
                address, g_network_address_get_port(G_NETWORK_ADDRESS(parsed)));
        service = g_socket_service_new();
        if (!g_socket_listener_add_address(G_SOCKET_LISTENER(service), socket_address,
                                           G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, NULL,
                                           error)) {
                g_prefix_error(error, "cannot listen on %s: ", listen);
                return NULL;
        }
        g_signal_connect(service, "incoming", G_CALLBACK(on_incoming), self);
        g_socket_service_start(service);
        g_message("listening on %s", listen);
        return g_steal_pointer(&service);
}

static void publish_listening(ZumaReceiver *self)
{
        g_autoptr(GPtrArray) addresses = g_ptr_array_new();
        GHashTableIter iter;
        gpointer key;

        g_hash_table_iter_init(&iter, self->services);
        while (g_hash_table_iter_next(&iter, &key, NULL))
                g_ptr_array_add(addresses, key);
        g_ptr_array_sort(addresses, (GCompareFunc)g_strcmp0);
        g_ptr_array_add(addresses, NULL);
        zuma_recv_manager_set_listening(self->manager_iface, (const char *const *)addresses->pdata);
}

/* Listens on every address a source names, and only there.  An address
 * that cannot be listened on fails (the caller decides what that means). */
static gboolean update_listeners(ZumaReceiver *self, GError **error)
{
        g_autoptr(GHashTable) wanted = g_hash_table_new(g_str_hash, g_str_equal);
        GHashTableIter iter;
        gpointer key, value;
        gboolean ok = TRUE;

        g_hash_table_iter_init(&iter, self->entries);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                const Entry *entry = value;

                if (self->identity)
                        g_hash_table_add(wanted, entry->source->listen);
        }
        g_hash_table_iter_init(&iter, self->services);
        while (g_hash_table_iter_next(&iter, &key, &value)) {
                if (!g_hash_table_contains(wanted, key)) {
                        g_socket_service_stop(value);
                        g_socket_listener_close(G_SOCKET_LISTENER(value));
                        g_message("no longer listening on %s", (const char *)key);
                        g_hash_table_iter_remove(&iter);
                }
        }
        g_hash_table_iter_init(&iter, wanted);
        while (g_hash_table_iter_next(&iter, &key, NULL)) {
                GSocketService *service;

                if (g_hash_table_contains(self->services, key))
                        continue;
                service = listen_on(self, key, ok ? error : NULL);
                if (!service) {
                        ok = FALSE;
                        continue;
                }
                g_hash_table_insert(self->services, g_strdup(key), service);
        }
        publish_listening(self);
        return ok;
}

static gboolean start_relay(ZumaReceiver *self, GError **error)
{
        g_autoptr(GSocketAddress) address = NULL;

        self->relay_path = g_build_filename(self->run_dir, "relay.sock", NULL);
        if (unlink(self->relay_path) != 0 && errno != ENOENT) {
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "cannot remove %s: %s",
                            self->relay_path, g_strerror(errno));
                return FALSE;
        }
        address = g_unix_socket_address_new(self->relay_path);
        self->relay = g_socket_service_new();
        if (!g_socket_listener_add_address(G_SOCKET_LISTENER(self->relay), address,
                                           G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, NULL,
                                           NULL, error))
                return FALSE;
        if (chmod(self->relay_path, 0600) != 0) {
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "chmod %s: %s",
                            self->relay_path, g_strerror(errno));
                return FALSE;
        }
        g_signal_connect(self->relay, "incoming", G_CALLBACK(on_incoming), self);
        g_socket_service_start(self->relay);
        return TRUE;
}

/* --- sessions --- */

static void session_register(ZumaReceiver *self, ZumaReceiveSession *session, gboolean add)
{
        g_mutex_lock(&self->lock);
        if (add)
                g_ptr_array_add(self->sessions, session);
        else
                g_ptr_array_remove(self->sessions, session);
        g_cond_broadcast(&self->sessions_done);
        g_mutex_unlock(&self->lock);
}

static gpointer session_thread(gpointer data)
{
        g_autofree Accepted *accepted = data;
        g_autoptr(GSocketConnection) connection = accepted->connection;
        ZumaReceiver *self = accepted->receiver;
        ZumaReceiveSession *session = g_new0(ZumaReceiveSession, 1);
        g_autoptr(GError) error = NULL;
        GSocket *socket = g_socket_connection_get_socket(connection);

        session->receiver = self;
        session->connection = g_object_ref(self->connection);
        session->cancellable = g_cancellable_new();
        session->socket = g_object_ref(socket);
        g_socket_set_timeout(socket, self->timeout_s);
        if (accepted->relay) {
                session->peer = g_strdup("ssh relay");
        } else {
                g_autoptr(GSocketAddress) remote =
                        g_socket_connection_get_remote_address(connection, NULL);

                session->peer =
                        remote ? g_socket_connectable_to_string(G_SOCKET_CONNECTABLE(remote))
                               : g_strdup("unknown peer");
        }
        session_register(self, session, TRUE);
        if (accepted->relay) {
                session->io = G_IO_STREAM(g_object_ref(connection));
        } else {
                session->io =
                        zuma_tls_server_handshake(G_IO_STREAM(connection), self->identity, NULL,
                                                  NULL, NULL, session->cancellable, &error);
                if (session->io)
                        session->peer_certificate = g_tls_connection_get_peer_certificate(
                                G_TLS_CONNECTION(session->io));
                if (session->peer_certificate)
                        g_object_ref(session->peer_certificate);
                else if (!error)
                        error = g_error_new_literal(ZUMA_ERROR, ZUMA_ERROR_ACCESS_DENIED,
                                                    "the sender presented no certificate");
        }
        if (!error)
                zuma_receive_session_run(session);
        else
                g_message("%s: TLS handshake failed: %s", session->peer, error->message);
        session_register(self, session, FALSE);
        zuma_receive_session_free(session);
        return NULL;
}

static gboolean certificate_allowed(const ZumaSource *source, GTlsCertificate *peer, GError **error)
{
        g_autofree char *fingerprint = zuma_tls_fingerprint(peer);

        if (g_strv_contains((const char *const *)source->allow, fingerprint))
                return TRUE;
        if (source->ca) {
                g_autoptr(GTlsDatabase) ca =
                        G_TLS_DATABASE(g_tls_file_database_new(source->ca, error));

                if (!ca)
                        return FALSE;
                if (g_tls_database_verify_chain(ca, peer,
                                                G_TLS_DATABASE_PURPOSE_AUTHENTICATE_CLIENT, NULL,
                                                NULL, G_TLS_DATABASE_VERIFY_NONE, NULL, NULL) == 0)
                        return TRUE;
        }
        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_ACCESS_DENIED,
                    "sender certificate %s is not allowed to replicate into volume %s "
                    "(zumactl define source %s --allow %s)",
                    fingerprint, source->volume_name, source->volume_name, fingerprint);
        return FALSE;
}

ZumaSource *zuma_receiver_admit(ZumaReceiver *self, ZumaReceiveSession *session, const char *uuid,
                                GError **error)
{
        g_autoptr(ZumaSource) source = NULL;
        Entry *entry;

        g_mutex_lock(&self->lock);
        entry = g_hash_table_lookup(self->entries, uuid);
        if (entry) {
                source = zuma_source_copy(entry->source);
                g_free(session->volume_uuid);
                session->volume_uuid = g_strdup(uuid);
        }
        g_mutex_unlock(&self->lock);
        if (!source) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND,
                            "volume %s is not a replication source on this host "
                            "(zumactl define source)",
                            uuid);
                return NULL;
        }
        if (session->peer_certificate &&
            !certificate_allowed(source, session->peer_certificate, error))
                return NULL;
        return g_steal_pointer(&source);
}

/* --- reports from the sessions, applied on the main thread --- */

typedef struct {
        ZumaReceiver *receiver;
        char *uuid;
        const char *state; /* static */
        char *peer;
        guint64 bytes;
        gboolean ended;
        char *snapshot;
        gint64 snapshot_time;
        char *error;
} Report;

static void report_free(gpointer data)
{
        Report *r = data;

        g_free(r->uuid);
        g_free(r->peer);
        g_free(r->snapshot);
        g_free(r->error);
        g_free(r);
}

static gboolean apply_report(gpointer data)
{
        Report *r = data;
        ZumaReceiver *self = r->receiver;
        g_autoptr(GError) error = NULL;
        Entry *entry = g_hash_table_lookup(self->entries, r->uuid);

        if (!entry)
                return G_SOURCE_REMOVE; /* forgotten meanwhile */
        zuma_recv_source_set_state(entry->iface, r->state);
        zuma_recv_source_set_bytes_received(entry->iface, r->bytes);
        if (r->peer)
                zuma_recv_source_set_peer(entry->iface, r->peer);
        if (!r->ended)
                return G_SOURCE_REMOVE;
        g_mutex_lock(&self->lock);
        g_free(entry->source->last_error);
        entry->source->last_error = g_strdup(r->error ? r->error : "");
        if (r->snapshot) {
                g_free(entry->source->last_snapshot);
                entry->source->last_snapshot = g_strdup(r->snapshot);
                entry->source->last_snapshot_time = r->snapshot_time;
                entry->source->last_received = g_get_real_time() / G_USEC_PER_SEC;
        }
        g_mutex_unlock(&self->lock);
        entry_publish(entry);
        if (!zuma_source_save(entry->source, self->state_dir, &error))
                g_warning("volume %s: cannot save its status: %s", entry->source->volume_name,
                          error->message);
        /* The new properties before the signal: a listener (zuma-notifyd)
         * reads Peer and LastError from its proxy when the signal comes. */
        g_dbus_interface_skeleton_flush(G_DBUS_INTERFACE_SKELETON(entry->iface));
        if (r->snapshot)
                zuma_recv_source_emit_received(entry->iface, r->snapshot, r->bytes);
        else
                zuma_recv_source_emit_failed(entry->iface, r->error);
        return G_SOURCE_REMOVE;
}

static void post_report(Report *r)
{
        g_main_context_invoke_full(NULL, G_PRIORITY_DEFAULT, apply_report, r, report_free);
}

void zuma_receiver_report_start(ZumaReceiver *self, const char *uuid, const char *peer)
{
        Report *r = g_new0(Report, 1);

        *r = (Report){ .receiver = self,
                       .uuid = g_strdup(uuid),
                       .state = "receiving",
                       .peer = g_strdup(peer) };
        post_report(r);
}

void zuma_receiver_report_progress(ZumaReceiver *self, const char *uuid, guint64 bytes)
{
        Report *r = g_new0(Report, 1);

        *r = (Report){
                .receiver = self, .uuid = g_strdup(uuid), .state = "receiving", .bytes = bytes
        };
        post_report(r);
}

void zuma_receiver_report_end(ZumaReceiver *self, const char *uuid, const char *snapshot,
                              gint64 snapshot_time, guint64 bytes, const char *error)
{
        Report *r = g_new0(Report, 1);

        *r = (Report){ .receiver = self,
                       .uuid = g_strdup(uuid),
                       .state = snapshot ? "idle" : "failed",
                       .bytes = bytes,
                       .ended = TRUE,
                       .snapshot = g_strdup(snapshot),
                       .snapshot_time = snapshot_time,
                       .error = g_strdup(error) };
        post_report(r);
}

/* --- the Manager --- */

static gboolean receiver_alive(gpointer object, GError **error)
{
        return TRUE;
}

static void export_entry(ZumaReceiver *self, Entry *entry)
{
        g_autofree char *path = source_path(entry->source->uuid);

        entry->object = zuma_recv_object_skeleton_new(path);
        entry->iface = zuma_recv_source_skeleton_new();
        entry_publish(entry);
        zuma_recv_object_skeleton_set_source(entry->object, entry->iface);
        g_hash_table_insert(self->entries, entry->source->uuid, entry);
        g_dbus_object_manager_server_export(self->objects, G_DBUS_OBJECT_SKELETON(entry->object));
}

/* Cuts the sessions writing into volume uuid (all of them for NULL). */
static void cut_sessions(ZumaReceiver *self, const char *uuid)
{
        g_mutex_lock(&self->lock);
        for (guint i = 0; i < self->sessions->len; i++) {
                ZumaReceiveSession *session = g_ptr_array_index(self->sessions, i);

                if (!uuid || g_strcmp0(session->volume_uuid, uuid) == 0)
                        g_cancellable_cancel(session->cancellable);
        }
        g_mutex_unlock(&self->lock);
}

static gboolean parse_allow(GVariant *allow, char ***ret_allow, GError **error)
{
        g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(g_free);
        GVariantIter iter;
        const char *text;

        if (allow) {
                g_variant_iter_init(&iter, allow);
                while (g_variant_iter_next(&iter, "&s", &text)) {
                        char *fingerprint = zuma_tls_fingerprint_parse(text, error);

                        if (!fingerprint) {
                                g_prefix_error(error, "option \"allow\": ");
                                return FALSE;
                        }
                        g_ptr_array_add(list, fingerprint);
                }
        }
        g_ptr_array_add(list, NULL);
        *ret_allow = (char **)g_ptr_array_steal(list, NULL);
        return TRUE;
}

static GVariant *define_source_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaReceiver *self = g_object_get_data(object, RECEIVER_KEY);
        g_autofree char *listen = g_strdup(DEFAULT_LISTEN), *ca = NULL;
        g_autofree char *uuid = NULL, *name = NULL;
        g_autoptr(GVariant) allow = NULL;
        g_autoptr(ZumaSource) source = NULL;
        g_autoptr(GSocketConnectable) parsed = NULL;
        g_auto(GStrv) fingerprints = NULL;
        const char *volume;
        Entry *entry;

        g_variant_get_child(call->params, 0, "&s", &volume);
        if (!zuma_options_parse(call->options, error, "listen", "s", &listen, "allow", "@as",
                                &allow, "ca", "s", &ca, NULL) ||
            !parse_allow(allow, &fingerprints, error) ||
            !zuma_server_check_volume_argument(volume, error))
                return NULL;
        parsed = g_network_address_parse(listen, ZUMA_REPL_DEFAULT_PORT, error);
        if (!parsed) {
                g_prefix_error(error, "option \"listen\": ");
                return NULL;
        }
        if (ca && (!g_path_is_absolute(ca) || !g_file_test(ca, G_FILE_TEST_IS_REGULAR))) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_INVALID_ARGUMENT,
                            "option \"ca\": %s is not an absolute path to a file", ca);
                return NULL;
        }
        if ((fingerprints[0] || ca) && !self->identity) {
                g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_FAILED,
                            "this receiver has no TLS identity (%s and %s): make one "
                            "(zuma-recvd(8)) and restart zuma-recvd",
                            self->tls_cert, self->tls_key);
                return NULL;
        }
        if (!zuma_server_resolve_volume(self->connection, volume, &uuid, &name, error))
                return NULL;
        source = zuma_source_new(uuid, name);
        g_free(source->listen);
        source->listen = g_socket_connectable_to_string(parsed);
        g_strfreev(source->allow);
        source->allow = g_steal_pointer(&fingerprints);
        source->ca = g_steal_pointer(&ca);
        entry = g_hash_table_lookup(self->entries, uuid);
        if (entry) {
                /* The status stays with the volume. */
                source->last_snapshot = g_strdup(entry->source->last_snapshot);
                source->last_snapshot_time = entry->source->last_snapshot_time;
                source->last_received = entry->source->last_received;
                source->last_error = g_strdup(entry->source->last_error);
        }
        if (!zuma_source_save(source, self->state_dir, error))
                return NULL;
        if (entry) {
                /* The table's key is the source's uuid: re-keyed with it. */
                g_mutex_lock(&self->lock);
                g_hash_table_steal(self->entries, entry->source->uuid);
                zuma_source_free(entry->source);
                entry->source = g_steal_pointer(&source);
                g_hash_table_insert(self->entries, entry->source->uuid, entry);
                g_mutex_unlock(&self->lock);
                entry_publish(entry);
        } else {
                entry = g_new0(Entry, 1);
                entry->source = g_steal_pointer(&source);
                g_mutex_lock(&self->lock);
                export_entry(self, entry);
                g_mutex_unlock(&self->lock);
        }
        g_message("volume %s: replication source defined (listen %s, %u senders allowed%s)", name,
                  entry->source->listen, g_strv_length(entry->source->allow),
                  entry->source->ca ? ", and those of a CA" : "");
        if (!update_listeners(self, error))
                return NULL;
        return g_variant_new("(o)", g_dbus_object_get_object_path(G_DBUS_OBJECT(entry->object)));
}

static Entry *find_entry(ZumaReceiver *self, const char *volume, GError **error)
{
        GHashTableIter iter;
        gpointer value;

        g_hash_table_iter_init(&iter, self->entries);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                Entry *entry = value;

                if (g_ascii_strcasecmp(entry->source->uuid, volume) == 0 ||
                    g_str_equal(entry->source->volume_name, volume))
                        return entry;
        }
        g_set_error(error, ZUMA_ERROR, ZUMA_ERROR_NOT_FOUND,
                    "volume %s is not a replication source", volume);
        return NULL;
}

static GVariant *forget_source_method(gpointer object, ZumaCall *call, GError **error)
{
        ZumaReceiver *self = g_object_get_data(object, RECEIVER_KEY);
        g_autofree char *path = NULL, *file = NULL;
        const char *volume;
        Entry *entry;

        g_variant_get_child(call->params, 0, "&s", &volume);
        if (!zuma_options_parse(call->options, error, NULL))
                return NULL;
        entry = find_entry(self, volume, error);
        if (!entry)
                return NULL;
        file = zuma_source_path(self->state_dir, entry->source->uuid);
        if (!zuma_file_remove_durable(file, error))
                return NULL;
        path = source_path(entry->source->uuid);
        g_message("volume %s: replication source forgotten", entry->source->volume_name);
        cut_sessions(self, entry->source->uuid);
        g_dbus_object_manager_server_unexport(self->objects, path);
        g_mutex_lock(&self->lock);
        g_hash_table_remove(self->entries, entry->source->uuid);
        g_mutex_unlock(&self->lock);
        update_listeners(self, NULL);
        return g_variant_new("()");
}

static const ZumaMethod manager_methods[] = {
        { "DefineSource", "define replication sources", define_source_method },
        { "ForgetSource", "forget replication sources", forget_source_method },
};

static const ZumaMethodTable manager_table = {
        zuma_recv_manager_interface_info,
        manager_methods,
        G_N_ELEMENTS(manager_methods),
        receiver_alive,
};

/* --- life --- */

ZumaReceiver *zuma_receiver_new(const ZumaReceiverSetup *setup)
{
        ZumaReceiver *self = g_new0(ZumaReceiver, 1);

        self->connection = g_object_ref(setup->connection);
        self->auth = setup->auth ? g_object_ref(setup->auth) : NULL;
        self->state_dir = g_strdup(setup->state_dir);
        self->run_dir = g_strdup(setup->run_dir);
        self->tls_cert = g_strdup(setup->tls_cert);
        self->tls_key = g_strdup(setup->tls_key);
        self->timeout_s = setup->timeout_s;
        g_mutex_init(&self->lock);
        g_cond_init(&self->sessions_done);
        self->entries = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, entry_free);
        self->services = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
        self->sessions = g_ptr_array_new();
        return self;
}

static void load_identity(ZumaReceiver *self)
{
        g_autofree char *fingerprint = NULL;

        self->identity = zuma_tls_load_host_identity(self->tls_cert, self->tls_key,
                                                     "only ssh relays are received", &fingerprint);
        zuma_recv_manager_set_fingerprint(self->manager_iface, fingerprint);
}

static void load_sources(ZumaReceiver *self)
{
        g_autofree char *dir_path = g_build_filename(self->state_dir, "sources", NULL);
        g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
        const char *file;

        while (dir && (file = g_dir_read_name(dir))) {
                g_autofree char *path = g_build_filename(dir_path, file, NULL);
                g_autoptr(GError) error = NULL;
                Entry *entry;
                ZumaSource *source;

                if (!g_str_has_suffix(file, ".conf"))
                        continue;
                source = zuma_source_load(path, &error);
                if (!source) {
                        /* One damaged file must not stop the other sources. */
                        g_warning("%s: %s: skipped", path, error->message);
                        continue;
                }
                entry = g_new0(Entry, 1);
                entry->source = source;
                export_entry(self, entry);
                g_message("volume %s: replication source loaded", source->volume_name);
        }
}

gboolean zuma_receiver_load(ZumaReceiver *self, GError **error)
{
        g_autoptr(GError) listen_error = NULL;

        self->objects = g_dbus_object_manager_server_new(ZUMA_RECVD_OBJECT_ROOT);
        self->manager_object = zuma_recv_object_skeleton_new(MANAGER_PATH);
        self->manager_iface = zuma_recv_manager_skeleton_new();
        zuma_recv_manager_set_version(self->manager_iface, ZUMA_VERSION);
        zuma_recv_object_skeleton_set_manager(self->manager_object, self->manager_iface);
        g_object_set_data(G_OBJECT(self->manager_iface), RECEIVER_KEY, self);
        self->manager_binding = zuma_method_table_bind(
                &manager_table, G_DBUS_INTERFACE_SKELETON(self->manager_iface), self->auth,
                G_OBJECT(self->manager_iface));
        load_identity(self);
        load_sources(self);
        if (!start_relay(self, error))
                return FALSE;
        /* An address taken by another program must not stop the rest. */
        if (!update_listeners(self, &listen_error))
                g_warning("%s", listen_error->message);
        g_dbus_object_manager_server_export(self->objects,
                                            G_DBUS_OBJECT_SKELETON(self->manager_object));
        g_dbus_object_manager_server_set_connection(self->objects, self->connection);
        return TRUE;
}

char *zuma_receiver_describe(ZumaReceiver *self)
{
        guint n = g_hash_table_size(self->entries);

        return g_strdup_printf("%u source%s, %u listening", n, n == 1 ? "" : "s",
                               g_hash_table_size(self->services));
}

void zuma_receiver_shutdown(ZumaReceiver *self)
{
        GHashTableIter iter;
        gpointer value;

        g_hash_table_iter_init(&iter, self->services);
        while (g_hash_table_iter_next(&iter, NULL, &value))
                g_socket_service_stop(value);
        if (self->relay)
                g_socket_service_stop(self->relay);
        cut_sessions(self, NULL);
        g_mutex_lock(&self->lock);
        while (self->sessions->len > 0)
                g_cond_wait(&self->sessions_done, &self->lock);
        g_mutex_unlock(&self->lock);
}

void zuma_receiver_free(ZumaReceiver *self)
{
        if (!self)
                return;
        if (self->relay) {
                g_socket_listener_close(G_SOCKET_LISTENER(self->relay));
                g_clear_object(&self->relay);
                unlink(self->relay_path);
        }
        g_clear_pointer(&self->services, g_hash_table_destroy);
        g_clear_pointer(&self->entries, g_hash_table_destroy);
        g_clear_pointer(&self->sessions, g_ptr_array_unref);
        g_clear_pointer(&self->manager_binding, zuma_method_binding_free);
        g_clear_object(&self->objects);
        g_clear_object(&self->manager_object);
        g_clear_object(&self->manager_iface);
        g_clear_object(&self->identity);
        g_clear_object(&self->auth);
        g_clear_object(&self->connection);
        g_mutex_clear(&self->lock);
        g_cond_clear(&self->sessions_done);
        g_free(self->state_dir);
        g_free(self->run_dir);
        g_free(self->tls_cert);
        g_free(self->tls_key);
        g_free(self->relay_path);
        g_free(self);
}
